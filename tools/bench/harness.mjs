// The one harness every benchmark uses.
//
// A figure is either
//   - a comparison: a baseline and one or more subjects, each a function that does a fixed amount
//     of work and resolves with the milliseconds it took. After a warm-up, every round runs every
//     side, in the listed order on even rounds and in reverse on odd rounds (A,B then B,A ...), so
//     drift in the machine's load falls on both sides alike. The figure is the per-round ratio
//     subject/baseline (time) or baseline/subject (throughput): its median over the rounds, with
//     the min-max spread;
//   - a sample: one function that measures a quantity once per round (token requests, bytes);
//     the figure is its median over the rounds, with the min-max spread.
// At least 5 rounds, always. Beside every figure the harness prints the machine's load average
// (os.loadavg) at the end of the figure and its 1-minute range during the rounds.
//
// Goal check: "pass" only when the whole spread is on the right side of the goal, "fail" when the
// median misses it, otherwise "inconclusive (spread crosses goal)".
//
// Output: human-readable lines; with --json (on a single benchmark) the lines go to stderr and one
// JSON document with every figure goes to stdout. Under run.mjs, the figures are also written to
// the file named by PORTVAKT_BENCH_RESULTS, and run.mjs assembles one document for the whole run.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const MIN_ROUNDS = 5;
/** Ratios closer to 1 than this are not resolved on the shared 2-core machine (see docs/performance.md). */
export const NOISE = 0.1;

const standaloneJson = process.argv.includes('--json');
const resultsFile = process.env.PORTVAKT_BENCH_RESULTS;
const write = (line) => (standaloneJson ? process.stderr : process.stdout).write(`${line}\n`);

/** Milliseconds from a monotonic clock. */
export const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

const load1 = () => os.loadavg()[0];
const round2 = (x) => Math.round(x * 100) / 100;

export function median(values) {
  const xs = [...values].sort((a, b) => a - b);
  const mid = xs.length >> 1;
  return xs.length % 2 === 1 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
}

/** Whether a ratio's median is far enough from 1 for this kind of machine to resolve it. */
function resolutionOf(medianRatio) {
  return Math.abs(medianRatio - 1) < NOISE ? 'within noise' : 'resolved';
}

/** A figure's identity across runs: its benchmark and its name. */
export const figureKey = (f) => `${f.bench}\u0000${f.name}`;

function stats(values) {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values) };
}

/**
 * `goal`: { max: x } (the figure must be at most x) or { min: x } (at least x); undefined for
 * figures that are reported without a goal.
 */
export function verdict(goal, { median: m, min, max }) {
  if (!goal) return 'no goal';
  if (goal.max !== undefined) {
    if (max <= goal.max) return 'pass';
    if (m > goal.max) return 'fail';
  } else {
    if (min >= goal.min) return 'pass';
    if (m < goal.min) return 'fail';
  }
  return 'inconclusive (spread crosses goal)';
}

const goalText = (goal) => (!goal ? '' : goal.max !== undefined ? `<= ${goal.max}` : `>= ${goal.min}`);
const goalJson = (goal) => (!goal ? null : goal.max !== undefined ? { op: '<=', value: goal.max } : { op: '>=', value: goal.min });

function fmt(x, digits) {
  if (!Number.isFinite(x)) return String(x);
  if (digits !== undefined) return x.toFixed(digits);
  const a = Math.abs(x);
  if (a === 0 || Number.isInteger(x)) return x.toLocaleString('en');
  return a >= 100 ? Math.round(x).toLocaleString('en') : a >= 10 ? x.toFixed(1) : a >= 0.1 ? x.toFixed(2) : x.toPrecision(2);
}

/** Per-operation cost in readable units, from ms for `ops` operations. */
function perOp(ms, ops) {
  const ns = (ms * 1e6) / ops;
  const rate = (ops / ms) * 1000;
  const cost = ns < 1e3 ? `${fmt(ns)} ns/op` : ns < 1e6 ? `${fmt(ns / 1e3)} µs/op` : `${fmt(ns / 1e6)} ms/op`;
  return `${cost.padStart(13)}  ${fmt(rate, 0).padStart(12)} ops/s`;
}

// Loops compiled once per side with `new Function`, so each side has its own type feedback and
// one side's call targets do not make the other's loop polymorphic.
function compile(body) {
  return new Function('fn', 'n', 'now', body);
}

/** A side that awaits `fn(i)` n times in sequence; resolves with the milliseconds taken. */
export function asyncLoop(fn, n) {
  const loop = compile('return (async () => { const t0 = now(); for (let i = 0; i < n; i++) await fn(i); return now() - t0; })();');
  return () => loop(fn, n, nowMs);
}

/** A side that calls `fn(i)` n times synchronously; returns the milliseconds taken. */
export function syncLoop(fn, n) {
  const loop = compile('const t0 = now(); let sink = 0; for (let i = 0; i < n; i++) { if (fn(i)) sink++; } globalThis.__benchSink = sink; return now() - t0;');
  return async () => loop(fn, n, nowMs);
}

/** A side that runs `fn()` `total` times with `concurrency` in flight; resolves with the milliseconds taken. */
export function concurrentLoop(fn, total, concurrency) {
  return async () => {
    let next = 0;
    const t0 = nowMs();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total) {
          next += 1;
          await fn();
        }
      }),
    );
    return nowMs() - t0;
  };
}

/**
 * Starts one benchmark (one *.bench.mjs file). `name` is its short name in the JSON document.
 */
export function createBench(name, description) {
  const figures = [];
  const started = new Date();
  write(`# ${name}: ${description}`);
  write(`# ${started.toISOString()}  node ${process.version}  ${os.cpus().length} CPUs  load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);

  function record(figure, rows) {
    const load = os.loadavg();
    const full = {
      bench: name,
      ...figure,
      median: round4(figure.median),
      min: round4(figure.min),
      max: round4(figure.max),
      perRound: figure.perRound.map(round4),
      date: new Date().toISOString(),
      node: process.version,
      loadavg: load.map(round2),
      loadDuringRounds: figure.loadDuringRounds.map(round2),
    };
    figures.push(full);
    const spread = `${fmt(full.min)}–${fmt(full.max)}`;
    const goal = full.goal ? `  goal ${goalText(figure.goalRaw)}: ${full.verdict}` : '';
    const noise = full.resolution === 'within noise' ? '  (≈ baseline: under the ~10 % this machine resolves)' : '';
    write(`  ${full.name}`);
    for (const row of rows) write(`      ${row}`);
    const rounds = full.kind === 'single' ? 'one run' : `spread ${spread}, ${full.perRound.length} rounds`;
    write(`    => ${fmt(full.median)} ${full.unit}  [${rounds}]${goal}${noise}`);
    write(`       load ${full.loadavg.map((x) => x.toFixed(2)).join(' ')} (1-min ${full.loadDuringRounds.map((x) => x.toFixed(2)).join('–')} during the rounds)`);
    delete full.goalRaw;
    return full;
  }

  return {
    /** Free text in the human-readable output. */
    log(line) {
      write(`  ${line}`);
    },

    /**
     * baseline: { label, run }; subjects: [{ label, run, figure, goal? }] where run() resolves with
     * milliseconds for `ops` operations; a round calls every run() `chunks` times, interleaved. kind: 'time' (ratio = subject/baseline time) or
     * 'throughput' (ratio = baseline/subject time, i.e. subject/baseline throughput).
     */
    async compare({ baseline, subjects, ops, chunks = 1, kind = 'time', rounds = MIN_ROUNDS, warmup = 1 }) {
      rounds = Math.max(MIN_ROUNDS, rounds);
      const sides = [baseline, ...subjects];
      for (let w = 0; w < warmup; w++) for (const side of sides) await side.run();
      const ms = sides.map(() => []);
      const loads = [];
      for (let r = 0; r < rounds; r++) {
        // A round is `chunks` slices; in each slice every side runs once, the order alternating
        // from slice to slice, so a burst of load from elsewhere lands on both sides.
        const sums = sides.map(() => 0);
        for (let c = 0; c < chunks; c++) {
          const order = sides.map((_, i) => i);
          if ((r * chunks + c) % 2 === 1) order.reverse();
          for (const i of order) sums[i] += await sides[i].run();
        }
        sums.forEach((t, i) => ms[i].push(t));
        loads.push(load1());
      }
      ops *= chunks;
      const results = [];
      for (let s = 1; s < sides.length; s++) {
        const subject = sides[s];
        const ratios = ms[s].map((t, r) => (kind === 'throughput' ? ms[0][r] / t : t / ms[0][r]));
        const st = stats(ratios);
        const show = (v) => (kind === 'size' ? `${fmt(v / ops).padStart(13)} bytes` : perOp(v, ops));
        const rows = [
          `baseline  ${baseline.label.padEnd(52)} ${show(median(ms[0]))}`,
          `subject   ${subject.label.padEnd(52)} ${show(median(ms[s]))}`,
          `per-round ratios: ${ratios.map((x) => x.toFixed(3)).join(' ')}`,
        ];
        results.push(
          record(
            {
              name: subject.figure,
              kind: 'ratio',
              unit: `x ${kind}`,
              ...st,
              perRound: ratios,
              goal: goalJson(subject.goal),
              goalRaw: subject.goal,
              verdict: verdict(subject.goal, st),
              resolution: resolutionOf(st.median),
              baseline: { label: baseline.label, ops, medianMs: round4(median(ms[0])), perRoundMs: ms[0].map(round4) },
              subject: { label: subject.label, ops, medianMs: round4(median(ms[s])), perRoundMs: ms[s].map(round4) },
              hard: false,
              loadDuringRounds: [Math.min(...loads), Math.max(...loads)],
            },
            rows,
          ),
        );
      }
      return results;
    },

    /**
     * One quantity measured once per round by `run()` (which may return { value, detail }).
     * hard: a "fail" verdict makes the benchmark exit non-zero (for counts, not for timings).
     */
    async sample({ figure, unit, run, rounds = MIN_ROUNDS, warmup = 0, goal, hard = false }) {
      rounds = Math.max(MIN_ROUNDS, rounds);
      for (let w = 0; w < warmup; w++) await run(-1);
      const values = [];
      const details = [];
      const loads = [];
      for (let r = 0; r < rounds; r++) {
        const out = await run(r);
        const value = typeof out === 'number' ? out : out.value;
        values.push(value);
        if (typeof out === 'object' && out.detail) details.push(out.detail);
        loads.push(load1());
      }
      const st = stats(values);
      const rows = [`per round: ${values.map((x) => fmt(x)).join('  ')}`];
      if (details.length) rows.push(`last round: ${details.at(-1)}`);
      const v = verdict(goal, st);
      if (hard && v === 'fail') process.exitCode = 1;
      return record(
        {
          name: figure,
          kind: 'sample',
          unit,
          ...st,
          perRound: values,
          goal: goalJson(goal),
          goalRaw: goal,
          verdict: v,
          resolution: 'n/a',
          hard,
          loadDuringRounds: [Math.min(...loads), Math.max(...loads)],
        },
        rows,
      );
    },

    /**
     * A count from one event that is not repeated (such as one 30-second outage): recorded with
     * median = min = max and `rounds: 1`, and printed as a single measurement, not a statistic.
     */
    once({ figure, unit, value, detail, goal }) {
      const st = { median: value, min: value, max: value };
      return record(
        {
          name: figure,
          kind: 'single',
          unit,
          ...st,
          perRound: [value],
          goal: goalJson(goal),
          goalRaw: goal,
          verdict: verdict(goal, st),
          resolution: 'n/a',
          hard: false,
          loadDuringRounds: [load1(), load1()],
        },
        [`single measurement${detail ? `: ${detail}` : ''}`],
      );
    },

    /** Writes the figures for run.mjs, and the JSON document when run with --json. */
    finish() {
      if (resultsFile) writeFileSync(resultsFile, JSON.stringify(figures));
      if (standaloneJson) process.stdout.write(`${JSON.stringify(document(figures, [path.basename(process.argv[1] ?? name)]), null, 2)}\n`);
      return figures;
    },
  };
}

/** A goal as stored in the JSON ({ op, value }) back in the form verdict() takes. */
export function goalFromJson(goal) {
  return goal ? { [goal.op === '<=' ? 'max' : 'min']: goal.value } : undefined;
}

/**
 * One figure list from the figure lists of several processes that ran the same benchmark: per
 * figure, every round of every process, so the median and the spread cover the process-to-process
 * variation (each process makes its own JIT decisions) as well as the round-to-round noise.
 */
export function mergeProcesses(lists) {
  if (lists.length === 1) return lists[0];
  return lists[0].map((first) => {
    const same = lists.map((l) => l.find((f) => figureKey(f) === figureKey(first))).filter(Boolean);
    const perRound = same.flatMap((f) => f.perRound);
    const st = stats(perRound);
    const merged = {
      ...first,
      median: round4(st.median),
      min: round4(st.min),
      max: round4(st.max),
      perRound,
      processes: same.length,
      date: same.at(-1).date,
      loadavg: same.at(-1).loadavg,
      loadDuringRounds: [Math.min(...same.map((f) => f.loadDuringRounds[0])), Math.max(...same.map((f) => f.loadDuringRounds[1]))],
      verdict: first.goal ? verdict(goalFromJson(first.goal), st) : first.verdict,
    };
    if (first.kind === 'ratio') {
      merged.resolution = resolutionOf(st.median);
      for (const side of ['baseline', 'subject']) {
        const ms = same.flatMap((f) => f[side].perRoundMs);
        merged[side] = { ...first[side], medianMs: round4(median(ms)), perRoundMs: ms };
      }
    }
    return merged;
  });
}

function round4(x) {
  return Number.isFinite(x) ? Number(x.toPrecision(6)) : x;
}

/** The JSON document of a run: one entry per figure, plus where and when. */
export function document(figures, benches) {
  return {
    schema: 'portvakt-bench/1',
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: os.cpus().length,
    loadavg: os.loadavg().map(round2),
    benches,
    figures,
  };
}

/** One line per figure, for the end of a run. */
export function summaryLines(figures) {
  const lines = [];
  const w = Math.max(20, ...figures.map((f) => f.name.length));
  lines.push(`${'figure'.padEnd(w)}  ${'median'.padStart(10)}  ${'spread'.padEnd(21)} ${'goal'.padEnd(8)} ${'verdict'.padEnd(34)} ${'load(1m)'.padEnd(8)}  note`);
  for (const f of figures) {
    const unit = f.kind === 'ratio' ? { 'x time': 'x t', 'x throughput': 'x tp', 'x size': 'x b' }[f.unit] : '';
    const goal = f.goal ? `${f.goal.op} ${f.goal.value}` : '';
    lines.push(
      `${f.name.padEnd(w)}  ${`${fmt(f.median)}${unit}`.padStart(10)}  ${`${fmt(f.min)}–${fmt(f.max)}`.padEnd(21)} ${goal.padEnd(8)} ${f.verdict.padEnd(34)} ${f.loadavg[0].toFixed(2).padEnd(8)}  ${f.resolution === 'within noise' ? '≈ 1: not resolved' : ''}`.trimEnd(),
    );
  }
  return lines;
}

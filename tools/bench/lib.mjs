// Shared helpers for the benchmarks: time N async operations, print ns/op and ratios.
export async function measure(name, n, fn, { warmup = Math.min(n, 20_000) } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn();
  const ns = Number(process.hrtime.bigint() - start);
  return { name, n, nsPerOp: ns / n, opsPerSec: (n * 1e9) / ns };
}

export function report(rows, baseline, { goal } = {}) {
  for (const r of rows) {
    const ratio = r.nsPerOp / baseline.nsPerOp;
    console.log(`${r.name.padEnd(52)} ${r.nsPerOp.toFixed(1).padStart(10)} ns/op ${Math.round(r.opsPerSec).toLocaleString('en').padStart(14)} ops/s   ratio ${ratio.toFixed(2)}x`);
  }
  if (goal) console.log(`goal: ${goal}`);
}

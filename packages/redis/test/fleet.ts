// Starts replicas of test/fleet-child.mjs as separate Node processes, as a fleet of services starts.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MaskinportenSimulator } from '@portvakt/testing';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface ChildResult { ok: number; failed: number; tokens: number; statusAtFirstCall: string; ioredis: string }

/** The ioredis major this Vitest project runs on (the children load the same one). */
export const IOREDIS_MAJOR = process.env.PORTVAKT_IOREDIS === '6' ? '6' : '5';

export interface FleetRun {
  sim: MaskinportenSimulator;
  privateJwk: object;
  /** A port, or `cluster:<port>,<port>,...`. */
  redis: number | string;
  callers: number;
  rounds: number;
  operationTimeout: number | 'default';
  /** Space-separated scopes the callers are spread over; default fleet:read. */
  scopes?: string;
}

/** Starts `count` replicas at once; resolves with what each printed. Each is killed after 60 s. */
export function runFleet(count: number, run: FleetRun): Promise<ChildResult[]> {
  return Promise.all(Array.from({ length: count }, () => new Promise<ChildResult>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [path.join(here, 'fleet-child.mjs'), run.sim.issuer, run.sim.tokenEndpoint, JSON.stringify(run.privateJwk), String(run.redis), String(run.callers), String(run.rounds), String(run.operationTimeout), run.scopes ?? 'fleet:read'],
      { cwd: here, stdio: ['ignore', 'pipe', 'inherit'], timeout: 60_000 },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.once('exit', (code, signal) => (code === 0 ? resolve(JSON.parse(out) as ChildResult) : reject(new Error(`child exited ${code ?? signal}: ${out}`))));
  })));
}

/**
 * The children run plain Node on the built packages: builds this package and core (incremental,
 * fast when nothing changed). Files of both ioredis projects call it at once, so the builds take
 * turns (a directory as the lock), rather than two tsc processes writing the same dist files.
 */
export function buildPackages(): void {
  const lock = path.resolve(here, '../.vitest/build.lock');
  mkdirSync(path.dirname(lock), { recursive: true });
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A lock older than any build is left from a killed run.
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 120_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`another build held ${lock} for 120 s`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
  try {
    const build = spawnSync(process.execPath, [path.resolve(here, '../../../node_modules/typescript/bin/tsc'), '-b', path.resolve(here, '../tsconfig.json')], { stdio: 'inherit', timeout: 120_000 });
    if (build.status !== 0) throw new Error(`tsc -b failed (${build.status ?? build.signal})`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

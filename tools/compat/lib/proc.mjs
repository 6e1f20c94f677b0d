// Child processes for the compat suite: output goes to a log file (never to our stdout), each
// process runs in its own process group so a timeout ends it and everything it started.
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, openSync, closeSync } from 'node:fs';
import path from 'node:path';

/**
 * The environment for child processes: ours without the variables a parent `pnpm run` or
 * `npm run` sets (they would point npm at the workspace). A `npm_config_*` set by hand, with no
 * package manager around us, is kept (e.g. `npm_config_cache`).
 */
export function childEnv(extra = {}) {
  const underScript = Boolean(process.env.npm_lifecycle_event);
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm|pnpm)_(package|lifecycle|execpath|node_execpath|command)/i.test(k)) continue;
    if (underScript && /^npm_config_/i.test(k)) continue;
    if (k === 'INIT_CWD' || k === 'PNPM_SCRIPT_SRC_DIR') continue;
    env[k] = v;
  }
  return { ...env, NO_UPDATE_NOTIFIER: '1', npm_config_update_notifier: 'false', FORCE_COLOR: '0', NO_COLOR: '1', ...extra };
}

/**
 * Runs `cmd args` in `cwd`, appending a header and all output to `log`. Resolves (never rejects)
 * with { code, signal, timedOut, seconds }.
 */
export function run(cmd, args, { cwd, env = childEnv(), log, timeoutMs = 10 * 60_000 }) {
  const started = Date.now();
  appendFileSync(log, `\n$ (cd ${cwd} && ${[cmd, ...args].join(' ')})\n`);
  const fd = openSync(log, 'a');
  return new Promise((resolve) => {
    let timedOut = false;
    let child;
    const finish = (code, signal, error) => {
      clearTimeout(timer);
      closeSync(fd);
      const seconds = (Date.now() - started) / 1000;
      if (error) appendFileSync(log, `[compat] could not start ${cmd}: ${error.message}\n`);
      if (timedOut) appendFileSync(log, `[compat] timed out after ${Math.round(timeoutMs / 1000)} s, process group ended\n`);
      appendFileSync(log, `[compat] exit ${code ?? signal} after ${seconds.toFixed(1)} s\n`);
      resolve({ code: error ? 127 : code, signal, timedOut, seconds });
    };
    try {
      child = spawn(cmd, args, { cwd, env, stdio: ['ignore', fd, fd], detached: true });
    } catch (error) {
      finish(null, null, error);
      return;
    }
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    child.on('error', (error) => finish(null, null, error));
    child.on('close', (code, signal) => finish(code, signal));
  });
}

/** pnpm on PATH, else the copy the repository's bootstrap puts in .cache/pnpm. */
export function findPnpm(root) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, 'pnpm'))) return path.join(dir, 'pnpm');
  }
  const cached = path.join(root, '.cache/pnpm/node_modules/.bin/pnpm');
  return existsSync(cached) ? cached : null;
}

// A key that follows its file. Kubernetes updates a mounted secret by writing a new timestamped
// folder and swapping the `..data` symlink in the mount folder to it, so a watch on the key file
// itself (its old inode) misses the change; editors write in place; some file systems (network
// mounts, some container overlays) cannot be watched at all. So the follower watches the folder of
// the path as given and the folder it resolves to, reads the file after a short settle, and also
// reads it on a poll. A read whose bytes differ from the key in use is loaded with the client's
// own rules; a file that is missing, cut short or not a key keeps the key in use and is reported
// once, without a secret, and nothing here throws into the process. A new key must come with a new
// kid: a client holds one key per kid (docs/maskinporten-rules.md §4.2), so new key material under
// the kid in use cannot be registered beside the old key, and taking it would stop every grant.
import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigurationError, isPortvaktError, KeyError } from '../errors.js';
import type { PortvaktError } from '../errors.js';
import { numberOption, refuseUnknownOptions } from '../shared/index.js';
import type { KeyFileFollowOptions, KeyFileSource } from '../types.js';
import { tryReadKeyFile } from './key-file.js';
import type { KeyFileContents, KeyFileFailure, KeyFileProblem } from './key-file.js';
import type { LoadedSigner } from './signer.js';

/** Events come in bursts (kubelet writes a folder, a link, renames it; an editor truncates, then writes): read once they settle. */
const SETTLE_MS = 100;
const DEFAULT_POLL_MS = 10_000;

/** A key file's follow settings, checked. */
export interface FollowSettings {
  pollInterval: number;
  watch: boolean;
}

/** The `follow` field of a `{ file }` key: undefined when the file is read once. */
export function followSettingsOf(value: unknown, field: string): FollowSettings | undefined {
  if (value === false) return undefined;
  if (value === undefined || value === true) return { pollInterval: DEFAULT_POLL_MS, watch: true };
  if (typeof value !== 'object' || value === null) throw new ConfigurationError(field, 'must be true, false or { pollInterval?, watch? }.');
  refuseUnknownOptions(value, ['pollInterval', 'watch'], `${field}.`);
  const options = value as KeyFileFollowOptions;
  if (options.watch !== undefined && typeof options.watch !== 'boolean') throw new ConfigurationError(`${field}.watch`, 'must be true or false.');
  return {
    pollInterval: numberOption(options.pollInterval, `${field}.pollInterval`, { fallback: DEFAULT_POLL_MS, min: 50, max: 86_400_000, integer: true, unit: 'milliseconds' }),
    watch: options.watch ?? true,
  };
}

/** A key the owner would not take, and why. */
export interface KeyRefusal {
  problem: KeyFileProblem;
  error: PortvaktError;
}

/** What the follower asks of its owner. */
export interface FollowTarget {
  /** Takes the key (the client's setKey rules): throws when the key is invalid, or returns why it is not taken. */
  apply(contents: KeyFileContents): KeyRefusal | undefined;
  /** Told once per failed state of the file: the key in use stays. */
  refused(failure: KeyFileFailure): void;
}

/** A running follower. */
export interface KeyFollower {
  /** Reads the file now (the poll and the watcher call it too). */
  check(): void;
  close(): void;
}

/**
 * Why a followed file's new key is not taken in place of `current`: it has the kid in use but
 * another public key (so another identity). Such a key cannot be what Maskinporten holds under
 * that kid beside the key in use, since a client holds one key per kid (docs/maskinporten-rules.md
 * §4.2): signing with it would be refused (MP-124) until the old key is gone.
 */
export function kidUnchanged(current: LoadedSigner, next: LoadedSigner): KeyRefusal | undefined {
  if (next.kid === undefined || next.kid !== current.kid || next.identity === current.identity) return undefined;
  return {
    problem: 'kid-unchanged',
    error: new KeyError(
      `The key file holds a new key under the kid in use (${JSON.stringify(next.kid)}): a client holds one key per kid, so Maskinporten cannot have it registered beside the key in use, and the key in use stays. ` +
        'Write the new key as a JWK with its own new kid (as `portvakt keys rotate` does), or restart the service with the new key and the kid it is registered under.',
    ),
  };
}

function asPortvaktError(error: unknown): PortvaktError {
  return isPortvaktError(error) ? error : new KeyError('The key could not be loaded.', { cause: error });
}

/**
 * Follows `source` from the key whose bytes had `digest`. Timers and watchers never keep the
 * process alive.
 */
export function followKeyFile(source: KeyFileSource, settings: FollowSettings, digest: string, target: FollowTarget): KeyFollower {
  let current = digest;
  let reported: string | undefined;
  let closed = false;
  let settle: NodeJS.Timeout | undefined;
  const watchers = new Map<string, FSWatcher>();

  const report = (failure: KeyFileFailure) => {
    if (failure.digest === reported) return;
    reported = failure.digest;
    target.refused(failure);
  };

  const check = () => {
    if (closed) return;
    try {
      const read = tryReadKeyFile(source, 'key', { following: true });
      if (!read.ok) return report(read.failure);
      if (read.contents.digest === current) {
        reported = undefined;
        return;
      }
      try {
        const refusal = target.apply(read.contents);
        if (refusal !== undefined) return report({ ...refusal, digest: `${refusal.problem}:${read.contents.digest}` });
        current = read.contents.digest;
        reported = undefined;
      } catch (error) {
        report({ problem: 'invalid', error: asPortvaktError(error), digest: `invalid:${read.contents.digest}` });
      }
    } catch (error) {
      // Nothing a file holds may break the process: an unforeseen failure is one more refusal.
      report({ problem: 'invalid', error: asPortvaktError(error), digest: 'unexpected' });
    } finally {
      if (settings.watch) rewatch();
    }
  };

  const onEvent = () => {
    if (closed) return;
    clearTimeout(settle);
    settle = setTimeout(check, SETTLE_MS);
    settle.unref();
  };

  /** Watches the folder of each path as given and the folder it resolves to; drops folders gone. */
  function rewatch(): void {
    if (closed) return;
    const wanted = new Set<string>();
    for (const path of [source.file, source.certificateFile]) {
      if (path === undefined) continue;
      wanted.add(dirname(path));
      try {
        wanted.add(dirname(realpathSync(path)));
      } catch {
        // Missing for now: the folder of the path as given still tells when it comes back.
      }
    }
    for (const [dir, watcher] of watchers) {
      if (!wanted.has(dir)) {
        watcher.close();
        watchers.delete(dir);
      }
    }
    for (const dir of wanted) {
      if (watchers.has(dir)) continue;
      try {
        const watcher = watch(dir, { persistent: false }, onEvent);
        watcher.on('error', () => {
          // The folder went away (Kubernetes removes the old timestamped one): read, and watch anew.
          watcher.close();
          watchers.delete(dir);
          onEvent();
        });
        watchers.set(dir, watcher);
      } catch {
        // This folder cannot be watched (absent, or a file system without notifications): the poll reads it.
      }
    }
  }

  const poll = setInterval(check, settings.pollInterval);
  poll.unref();
  if (settings.watch) rewatch();

  return {
    check,
    close() {
      closed = true;
      clearInterval(poll);
      clearTimeout(settle);
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
}

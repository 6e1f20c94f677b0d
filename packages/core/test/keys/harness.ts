// What the key-file tests share: a secret folder kept the way kubelet keeps it, a bounded wait on
// real time, the kid a token was fetched with, and the RFC 7638 thumbprint computed from the RFC's
// text (not with Portvakt's own code).
import { createHash } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { mkdirSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MaskinportenSimulator } from '@portvakt/testing';

/** Waits (bounded) until `condition` holds, checking every 5 ms on real time. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The kid of the grant the simulator issued `accessToken` for. */
export function kidOfToken(sim: MaskinportenSimulator, accessToken: string): string | undefined {
  const { jti } = JSON.parse(Buffer.from(accessToken.split('.')[1] as string, 'base64url').toString()) as { jti: string };
  return sim.requests.find((r) => r.issued?.jti === jti)?.grant?.header.kid as string | undefined;
}

/** RFC 7638 §3: SHA-256 over the required members (`e`, `kty`, `n` for RSA) in lexicographic order, no whitespace. */
export function rfc7638(jwk: JsonWebKey): string {
  return createHash('sha256').update(`{"e":"${jwk.e}","kty":"RSA","n":"${jwk.n}"}`).digest('base64url');
}

/** The identity Portvakt gives a key that signs with `kid`. */
export const identityOf = (kid: string, jwk: JsonWebKey): string => `kid:${kid};jkt:${rfc7638(jwk)}`;

/**
 * A secret volume as kubelet keeps it, in `root/name`: the files in a timestamped folder, `..data`
 * a symlink to it, and each file a symlink through `..data`. An update writes a new folder, points
 * `..data_tmp` at it, renames that over `..data`, and removes the old folder.
 */
export function secretMount(root: string, name: string) {
  const dir = join(root, name);
  mkdirSync(dir);
  let generation = 0;
  return {
    dir,
    path: (file: string) => join(dir, file),
    write(files: Record<string, string | Uint8Array>) {
      generation += 1;
      const folder = `..2026_11_30_12_00_${String(generation).padStart(2, '0')}.${1000 + generation}`;
      mkdirSync(join(dir, folder));
      for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, folder, file), text, { mode: 0o600 });
      let previous: string | undefined;
      try {
        previous = readlinkSync(join(dir, '..data'));
      } catch {
        previous = undefined;
      }
      symlinkSync(folder, join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
      for (const file of Object.keys(files)) {
        try {
          symlinkSync(join('..data', file), join(dir, file));
        } catch {
          // Already linked: the link goes through ..data.
        }
      }
      if (previous !== undefined) rmSync(join(dir, previous), { recursive: true, force: true });
    },
    /** A writer that is not kubelet: rewrites the current file in place. */
    writeInPlace(file: string, text: string) {
      writeFileSync(join(dir, '..data', file), text);
    },
    remove(file: string) {
      unlinkSync(join(dir, file));
    },
  };
}

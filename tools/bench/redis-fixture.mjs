// What the Redis benchmark and its profiles (profiles/redis-hit-*.mjs) share: a redis-server of
// their own on a free loopback port, and the floor of a Redis hit written by hand, the AES-256-GCM
// open of a stored value (the store's format `v1.<iv>.<ciphertext>.<tag>`, base64url, with the
// Redis key as associated data).
import { spawn } from 'node:child_process';
import { createDecipheriv } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';

/** Starts redis-server on a free loopback port and connects ioredis to it; `stop()` ends both. */
export async function startRedisServer() {
  const port = await new Promise((resolve) => {
    const probe = net.createServer();
    probe.listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address();
      probe.close(() => resolve(free));
    });
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'pv-bench-'));
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir], { stdio: 'ignore' });
  const redis = new Redis(port, '127.0.0.1');
  redis.on('error', () => {});
  for (let i = 0; i < 100; i++) {
    try {
      await redis.ping();
      break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return {
    port,
    redis,
    stop() {
      redis.disconnect();
      server.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The open of a sealed value by hand, with `encryptionKey` (base64): the plaintext, or a throw. */
export function openerByHand(encryptionKey) {
  const aesKey = Buffer.from(encryptionKey, 'base64');
  return function openByHand(redisKey, sealed) {
    const [, iv, ciphertext, tag] = sealed.split('.');
    const decipher = createDecipheriv('aes-256-gcm', aesKey, Buffer.from(iv, 'base64url'), { authTagLength: 16 });
    decipher.setAAD(Buffer.from(redisKey));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  };
}

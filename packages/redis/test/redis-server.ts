import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface RedisServer {
  port: number;
  stop(): Promise<void>;
}

/** A loopback port nothing listens on (until something does). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(1_000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
    socket.once('data', (d) => {
      socket.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    socket.write('PING\r\n');
  });
}

/** Starts a real redis-server on a loopback port (a free one unless given) in a temporary directory. */
export async function startRedisServer(options: { port?: number; args?: readonly string[] } = {}): Promise<RedisServer> {
  if (spawnSync('sh', ['-c', 'command -v redis-server']).status !== 0) {
    throw new Error('redis-server is not installed: the @portvakt/redis tests need a real one (Debian: apt-get install redis-server; `npm test` installs it when it can).');
  }
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(path.join(tmpdir(), 'portvakt-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', ...(options.args ?? [])];
  const child: ChildProcess = spawn('redis-server', args, { stdio: 'ignore' });
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  const stop = async () => {
    process.off('exit', kill);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      // A server that does not shut down in 5 s is killed.
      const timer = setTimeout(kill, 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 200 && child.exitCode === null && !(await ping(port)); i++) await new Promise((r) => setTimeout(r, 25));
  if (!(await ping(port))) {
    await stop();
    throw new Error(`redis-server did not start (arguments: ${args.join(' ')})`);
  }
  return { port, stop };
}

/**
 * A Redis that never answers: it accepts connections and reads, but replies to nothing, so an
 * ioredis client stays in `connect` (its ready check unanswered) for as long as the test runs.
 */
export async function startSilentServer(): Promise<{ port: number; stop(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The ACL NAIS gives a `readwrite` user (nais/aivenator; docs/maskinporten-rules.md §11.2): no INFO, no CONFIG, no CLUSTER. */
export const NAIS_READWRITE_ACL = ['-@all', '+@connection', '+@scripting', '+@pubsub', '+@transaction', '+@write', '+@read', '~*', '&*'] as const;
/** The ACL of a NAIS `read` user. */
export const NAIS_READ_ACL = ['-@all', '+@connection', '+@scripting', '+@pubsub', '+@transaction', '+@read', '~*', '&*'] as const;

/** Sends one command in RESP on a plain connection and resolves with the first reply line; for test set-up only. */
export async function command(port: number, args: readonly string[]): Promise<string> {
  const wire = `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(5_000, () => {
      socket.destroy();
      reject(new Error(`redis-server on ${port} did not answer ${args[0]}`));
    });
    socket.once('error', reject);
    let reply = '';
    socket.on('data', (d) => {
      reply += d.toString();
      if (reply.includes('\r\n')) {
        socket.destroy();
        resolve(reply.slice(0, reply.indexOf('\r\n')));
      }
    });
    socket.write(wire);
  });
}

/** Adds an ACL user (the default user stays as it is, for the test's own set-up and checks). */
export async function addAclUser(port: number, username: string, password: string, rules: readonly string[]): Promise<void> {
  const reply = await command(port, ['ACL', 'SETUSER', username, 'reset', 'on', `>${password}`, ...rules]);
  if (reply !== '+OK') throw new Error(`ACL SETUSER failed: ${reply}`);
}

export interface TestTls {
  /** The CA certificate to trust (PEM). */
  ca: string;
  /** redis-server arguments for a TLS port with this CA's server certificate. */
  serverArgs(tlsPort: number): string[];
  remove(): void;
}

/**
 * A test CA and a server certificate for 127.0.0.1 and localhost, made with openssl in a
 * temporary directory (the certificate needs a subjectAltName, which the enterprise-certificate
 * PKI of @portvakt/testing does not issue).
 */
export function createTestTls(): TestTls {
  if (spawnSync('sh', ['-c', 'command -v openssl']).status !== 0) throw new Error('openssl is not installed: the TLS tests need it to make a test CA.');
  const dir = mkdtempSync(path.join(tmpdir(), 'portvakt-redis-tls-'));
  const file = (name: string) => path.join(dir, name);
  const openssl = (args: string[]) => {
    const result = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8', timeout: 30_000 });
    if (result.status !== 0) throw new Error(`openssl ${args[0]} failed: ${result.stderr}`);
  };
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Portvakt test CA']);
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
  writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'server.ext']);
  return {
    ca: readFileSync(file('ca.pem'), 'utf8'),
    serverArgs: (tlsPort) => ['--tls-port', String(tlsPort), '--tls-cert-file', file('server.pem'), '--tls-key-file', file('server.key'), '--tls-ca-cert-file', file('ca.pem'), '--tls-auth-clients', 'no'],
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface RedisCluster {
  ports: number[];
  stop(): Promise<void>;
}

/**
 * A Redis Cluster of `size` masters (no replicas) on loopback ports, created with
 * `redis-cli --cluster create`; resolves once every node reports `cluster_state:ok`.
 */
export async function startRedisCluster(size = 3): Promise<RedisCluster> {
  const nodes: RedisServer[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  };
  try {
    for (let i = 0; i < size; i++) {
      nodes.push(await startRedisServer({ args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000'] }));
    }
    const created = spawnSync('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], { encoding: 'utf8', timeout: 30_000 });
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stderr || created.stdout}`);
    for (let i = 0; i < 200; i++) {
      const states = await Promise.all(nodes.map((n) => clusterState(n.port)));
      if (states.every((s) => s === 'ok')) return { ports: nodes.map((n) => n.port), stop };
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the Redis Cluster did not reach cluster_state:ok in 10 s');
  } catch (error) {
    await stop();
    throw error;
  }
}

async function clusterState(port: number): Promise<string | undefined> {
  const wire = '*2\r\n$7\r\nCLUSTER\r\n$4\r\nINFO\r\n';
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(1_000, () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', () => resolve(undefined));
    let reply = '';
    socket.on('data', (d) => {
      reply += d.toString();
      const state = /cluster_state:(\w+)/.exec(reply)?.[1];
      if (state !== undefined) {
        socket.destroy();
        resolve(state);
      }
    });
    socket.write(wire);
  });
}

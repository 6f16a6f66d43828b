// End-to-end harness: starts a real server process (ketch's built binary or Debian's etcd 3.4)
// on free loopback ports with etcd's own flags, waits until it answers a gRPC Range, and kills
// exactly the processes it started — also when a test fails or the test process exits. It also
// runs Debian's etcdctl against an endpoint. Tests choose the server under test with target():
// KETCH_E2E_TARGET=etcd validates the specifications against real etcd.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, appendFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GrpcConn } from './grpc-wire.js';
import { RangeRequest, enc } from './etcd-pb.js';

export type ServerKind = 'ketch' | 'etcd';

export interface StartOptions {
  dataDir?: string;
  extraArgs?: string[];
  env?: Record<string, string>;
}

export interface ServerHandle {
  readonly kind: ServerKind;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  readonly pid: number;
  stop(): Promise<void>;
  kill9(): Promise<void>;
  restart(): Promise<void>;
  logs(): string;
}

export const ETCD_BIN = '/usr/bin/etcd';
export const ETCDCTL_BIN = '/usr/bin/etcdctl';
const HEALTHY_WAIT_MS = 20_000;
const STOP_WAIT_MS = 15_000;
const LOG_LIMIT_CHARS = 2_000_000;

/** The repository root: this file is compiled to <root>/dist/test/e2e/harness.js. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const KETCH_BIN = join(repoRoot, 'bin', 'ketch');

/** Which server the tests drive: KETCH_E2E_TARGET=etcd|ketch (default ketch). */
export function target(): ServerKind {
  const t = process.env['KETCH_E2E_TARGET'] ?? 'ketch';
  if (t !== 'ketch' && t !== 'etcd') throw new Error(`KETCH_E2E_TARGET must be ketch or etcd, not ${t}`);
  return t;
}

const live = new Set<ChildProcess>();
const tempDirs = new Set<string>();
/** KETCH_E2E_KEEP=1 keeps data dirs and server logs (server.log beside each data dir) for a post-mortem. */
const keepFiles = process.env['KETCH_E2E_KEEP'] === '1';

function killAll(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

process.on('exit', () => {
  killAll();
  if (keepFiles) {
    for (const dir of tempDirs) process.stderr.write(`e2e: kept ${dir}\n`);
    return;
  }
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(sig, () => {
    killAll();
    process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
  });
}

/**
 * A loopback port that was free a moment ago, chosen below the kernel's ephemeral range (32768 and
 * up here): a port from that range can be taken as the source port of some outgoing connection
 * while a test has the member that owns it stopped, and its restart then fails with EADDRINUSE.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    if (await canListen(port)) return port;
  }
  throw new Error('no free port in 20000-31999');
}

function canListen(port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once('error', () => res(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => res(true)));
  });
}

export function childEnv(extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('ETCD_') && !k.startsWith('ETCDCTL_')) env[k] = v;
  }
  return { ...env, ...extra };
}

function serverArgs(name: string, dataDir: string, clientUrl: string, peerUrl: string): string[] {
  return [
    '--name',
    name,
    '--data-dir',
    dataDir,
    '--listen-client-urls',
    clientUrl,
    '--advertise-client-urls',
    clientUrl,
    '--listen-peer-urls',
    peerUrl,
    '--initial-advertise-peer-urls',
    peerUrl,
    '--initial-cluster',
    `${name}=${peerUrl}`,
  ];
}

export class Server implements ServerHandle {
  pid = 0;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private log = '';

  constructor(
    readonly kind: ServerKind,
    readonly clientUrl: string,
    readonly peerUrl: string,
    readonly dataDir: string,
    private readonly bin: string,
    private readonly args: string[],
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  logs(): string {
    return this.log;
  }

  private append(s: string): void {
    if (keepFiles) appendFileSync(join(dirname(this.dataDir), 'server.log'), s);
    this.log += s;
    if (this.log.length > LOG_LIMIT_CHARS) this.log = this.log.slice(-LOG_LIMIT_CHARS / 2);
  }

  spawn(): void {
    if (this.child !== undefined) throw new Error(`${this.kind} is already running (pid ${this.pid})`);
    this.append(`--- harness: starting ${this.bin} ${this.args.join(' ')}\n`);
    const child = spawn(this.bin, this.args, { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.setEncoding('utf8').on('data', (s: string) => this.append(s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => this.append(s));
    this.exited = new Promise((res) => {
      child.once('exit', (code, signal) => {
        this.append(`--- harness: process ${child.pid} exited code=${code} signal=${signal}\n`);
        live.delete(child);
        if (this.child === child) this.child = undefined;
        res();
      });
      child.once('error', (err) => {
        this.append(`--- harness: spawn error ${err.message}\n`);
        live.delete(child);
        if (this.child === child) this.child = undefined;
        res();
      });
    });
    this.child = child;
    this.pid = child.pid ?? 0;
    live.add(child);
  }

  running(): boolean {
    return this.child !== undefined;
  }

  /** Waits until a Range succeeds (serializable for a learner, which refuses linearizable reads). */
  async waitHealthy(opts: { serializable?: boolean } = {}): Promise<void> {
    const deadline = Date.now() + HEALTHY_WAIT_MS;
    const req = enc(RangeRequest, { key: Buffer.from('health'), serializable: opts.serializable === true });
    let last = 'no attempt';
    while (Date.now() < deadline) {
      if (!this.running()) throw new Error(`${this.kind} exited before becoming healthy\n${this.log}`);
      const conn = new GrpcConn(this.clientUrl);
      try {
        const r = await conn.unary('/etcdserverpb.KV/Range', req, 1000);
        if (r.code === 0) return;
        last = `grpc status ${r.code}: ${r.message}`;
      } catch (e) {
        last = (e as Error).message;
      } finally {
        conn.close();
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${this.kind} not healthy after ${HEALTHY_WAIT_MS} ms (${last})\n${this.log}`);
  }

  private async signal(sig: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    child.kill(sig);
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), STOP_WAIT_MS).unref());
    const outcome = await Promise.race([this.exited.then(() => 'exited' as const), timer]);
    if (outcome === 'timeout') {
      this.append(`--- harness: no exit ${STOP_WAIT_MS} ms after ${sig}; sending SIGKILL\n`);
      child.kill('SIGKILL');
      await this.exited;
      throw new Error(`${this.kind} did not exit within ${STOP_WAIT_MS} ms of ${sig}`);
    }
  }

  stop(): Promise<void> {
    return this.signal('SIGTERM');
  }

  kill9(): Promise<void> {
    return this.signal('SIGKILL');
  }

  /** SIGSTOP: the process stays, but neither answers nor sends anything until resume(). */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  async restart(): Promise<void> {
    if (this.running()) await this.stop();
    this.spawn();
    await this.waitHealthy();
  }
}

/** A temp directory removed when the test process exits (kept with KETCH_E2E_KEEP=1). */
export function newTempDir(prefix: string): string {
  const base = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(base);
  return base;
}

/** Starts a single-member server on fresh loopback ports and waits until it serves gRPC reads. */
export async function startServer(kind: ServerKind, opts: StartOptions = {}): Promise<ServerHandle> {
  const bin = kind === 'etcd' ? ETCD_BIN : KETCH_BIN;
  if (!existsSync(bin)) throw new Error(`${bin} not found (build ketch first: npm run build)`);
  let dataDir = opts.dataDir;
  if (dataDir === undefined) {
    const base = mkdtempSync(join(tmpdir(), `e2e-${kind}-`));
    tempDirs.add(base);
    dataDir = join(base, 'data.etcd');
  }
  const clientPort = await freePort();
  let peerPort = await freePort();
  while (peerPort === clientPort) peerPort = await freePort();
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const args = [...serverArgs(`e2e-${kind}`, dataDir, clientUrl, peerUrl), ...(opts.extraArgs ?? [])];
  const server = new Server(kind, clientUrl, peerUrl, dataDir, bin, args, childEnv(opts.env));
  server.spawn();
  try {
    await server.waitHealthy();
  } catch (e) {
    await server.kill9();
    throw e;
  }
  return server;
}

export interface CmdResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs Debian's etcdctl (API v3) against one endpoint. */
export function etcdctl(
  endpoint: string,
  args: string[],
  opts: { input?: string; env?: Record<string, string> } = {},
): Promise<CmdResult> {
  const env = childEnv({ ETCDCTL_API: '3', ...opts.env });
  return new Promise((res, rej) => {
    const child = spawn(ETCDCTL_BIN, ['--endpoints', endpoint, ...args], { env, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.once('error', rej);
    child.once('close', (code) => res({ code: code ?? -1, stdout, stderr }));
    // etcdctl may exit without reading its input (a failed dial): that is its answer, not ours.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

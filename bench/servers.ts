// Starting and stopping the server processes under test. ketch and etcd get the same flags
// (etcd's own names), a fresh data dir under os.tmpdir(), and free loopback ports; a server
// counts as up once it answers a gRPC Range. Its output goes to a log file whose tail is shown if
// it fails. cluster.ts starts several of these as the members of one cluster.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { TRANSPORT_ERROR } from './grpc-call.js';
import { unaryCall } from './probe.js';
import { benchKey, prepareRange } from './request.js';

export const HOST = '127.0.0.1';

/** A port the kernel just handed out for loopback, released again for a server to take. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const addr = srv.address();
      srv.close(() =>
        typeof addr === 'object' && addr !== null ? resolve(addr.port) : reject(new Error('no port')),
      );
    });
  });
}

/** `n` distinct free loopback ports. */
export async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

/** etcd's flags for a one-member cluster on the given ports (shared by etcd and ketch). */
export function memberFlags(name: string, dataDir: string, clientPort: number, peerPort: number): string[] {
  const client = `http://${HOST}:${clientPort}`;
  const peer = `http://${HOST}:${peerPort}`;
  return [
    `--name=${name}`,
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=${name}=${peer}`,
  ];
}

/** Server processes started and not yet stopped, so that an interrupted run can stop them. */
const running = new Set<ServerProcess>();

/** Stops every server still running (used when the benchmark itself is interrupted). */
export async function stopAllServers(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop(2000)));
}

export class ServerProcess {
  private exitInfo: string | null = null;
  private readonly exited: Promise<void>;

  private constructor(
    readonly label: string,
    readonly argv: string[],
    readonly port: number,
    readonly tmpDir: string,
    readonly logPath: string,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = signal !== null ? `killed by ${signal}` : `exited with code ${code}`;
        resolve();
      });
    });
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.label} has no pid`);
    return this.child.pid;
  }

  /** The command line, quoted for a shell, as it was run. */
  get commandLine(): string {
    return this.argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
  }

  /** Starts `bin` as a one-member cluster and waits until it answers a Range (or fails, with its log tail). */
  static async start(label: string, bin: string, readyTimeoutMs: number): Promise<ServerProcess> {
    const tmpDir = mkdtempSync(path.join(os.tmpdir(), `ketch-bench-${label}-`));
    const [clientPort, peerPort] = (await freePorts(2)) as [number, number];
    const argv = [bin, ...memberFlags('bench', path.join(tmpDir, 'data'), clientPort, peerPort)];
    const server = ServerProcess.spawn(label, argv, clientPort, tmpDir);
    try {
      await server.waitReady(readyTimeoutMs);
    } catch (err) {
      await server.stop();
      throw err;
    }
    return server;
  }

  /** Runs `argv` with its output to `tmpDir`/server.log; `port` is where it will serve clients. */
  static spawn(label: string, argv: string[], port: number, tmpDir: string): ServerProcess {
    const logPath = path.join(tmpDir, 'server.log');
    const logFd = openSync(logPath, 'w');
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', logFd, logFd] });
    closeSync(logFd);
    const server = new ServerProcess(label, argv, port, tmpDir, logPath, child);
    running.add(server);
    child.once('error', (err) => {
      server.exitInfo = `could not start: ${err.message}`;
    });
    return server;
  }

  /** Whether a linearizable Range of the bench key succeeds (the member serves and has a leader). */
  async answersRange(timeoutMs: number): Promise<string | null> {
    const r = await unaryCall(
      HOST,
      this.port,
      prepareRange(`${HOST}:${this.port}`, benchKey(0, 8), false),
      0,
      timeoutMs,
    );
    if (r.status === 0) return null;
    return r.status === TRANSPORT_ERROR ? r.message : `grpc-status ${r.status}: ${r.message}`;
  }

  /** Throws (with the log tail) if the process has exited. */
  checkRunning(): void {
    if (this.exitInfo !== null)
      throw new Error(`${this.label} ${this.exitInfo} before it was ready\n${this.logTail()}`);
  }

  /** Waits until the process answers a Range; throws if it exits or `timeoutMs` passes first. */
  async waitReady(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < until) {
      this.checkRunning();
      const problem = await this.answersRange(1000);
      if (problem === null) return;
      last = problem;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error(
      `${this.label} did not answer a Range within ${timeoutMs} ms (last: ${last})\n${this.logTail()}`,
    );
  }

  logTail(lines = 15): string {
    try {
      const text = readFileSync(this.logPath, 'utf8').trimEnd().split('\n');
      return text
        .slice(-lines)
        .map((l) => `  | ${l}`)
        .join('\n');
    } catch {
      return '  | (no log)';
    }
  }

  /** Whether the process is still running (for a check that it survived the loads). */
  get alive(): boolean {
    return this.exitInfo === null;
  }

  get exitReason(): string | null {
    return this.exitInfo;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; removes the data dir unless `keep`. */
  async stop(graceMs = 10_000, keep = false): Promise<void> {
    running.delete(this);
    if (this.exitInfo === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    if (!keep) rmSync(this.tmpDir, { recursive: true, force: true });
  }
}

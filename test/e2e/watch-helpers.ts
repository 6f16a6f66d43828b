// Helpers for the watch e2e tests: a long-running `etcdctl watch` (plain or interactive) whose
// output the test waits on — by content, never by time — and small readers of watch responses.
import { spawn, type ChildProcess } from 'node:child_process';
import { childEnv, ETCDCTL_BIN } from './harness.js';
import type { WatchCall, WatchResponse } from './watch-wire.js';

const WAIT_MS = 20_000;

/** A running `etcdctl watch`: its stdout and stderr so far, and a way to wait for what it prints. */
export class CtlWatch {
  stdout = '';
  stderr = '';
  private readonly child: ChildProcess;
  private waiters: (() => void)[] = [];
  private exited = false;
  readonly exit: Promise<number | null>;

  constructor(endpoint: string, args: string[]) {
    this.child = spawn(ETCDCTL_BIN, ['--endpoints', endpoint, 'watch', ...args], {
      env: childEnv({ ETCDCTL_API: '3' }),
      stdio: 'pipe',
    });
    this.child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      this.stdout += s;
      this.wake();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      this.stderr += s;
      this.wake();
    });
    this.child.stdin!.on('error', () => {});
    this.exit = new Promise((resolve) =>
      this.child.once('close', (code) => {
        this.exited = true;
        this.wake();
        resolve(code);
      }),
    );
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Sends one line to an interactive watch (-i). */
  send(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  /** Waits until stdout satisfies `done`; fails with what was printed if it never does. */
  async waitFor(done: (stdout: string) => boolean, what: string): Promise<string> {
    const deadline = Date.now() + WAIT_MS;
    while (!done(this.stdout)) {
      const left = deadline - Date.now();
      if (this.exited || left <= 0) {
        throw new Error(
          `etcdctl watch: ${what} never came (${this.exited ? 'exited' : 'timed out'})\n` +
            `stdout:\n${this.stdout}\nstderr:\n${this.stderr}`,
        );
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.stdout;
  }

  /** Waits until stdout has at least `n` lines. */
  lines(n: number): Promise<string[]> {
    const split = (s: string) => s.split('\n').slice(0, -1);
    return this.waitFor((s) => split(s).length >= n, `${n} lines`).then(split);
  }

  async stop(): Promise<void> {
    if (!this.exited) this.child.kill('SIGTERM');
    await this.exit;
  }
}

/** The mod revisions of the events in responses, in order. */
export function eventRevs(rs: readonly WatchResponse[]): bigint[] {
  return rs.flatMap((r) => r.events.map((e) => e.kv!.modRevision));
}

/** Takes responses from a call until `count` events arrived for watch `id`; returns all taken. */
export async function takeEvents(call: WatchCall, count: number): Promise<WatchResponse[]> {
  return call.until((got) => eventRevs(got).length >= count);
}

/** Compares in a way that prints readably: Buffers as latin1 strings, bigints as `Nn`. */
export function show(v: unknown): string {
  return JSON.stringify(v, (_, x: unknown) => {
    if (typeof x === 'bigint') return `${x}n`;
    if (x !== null && typeof x === 'object' && (x as { type?: string }).type === 'Buffer') {
      return `b'${Buffer.from((x as { data: number[] }).data).toString('latin1')}'`;
    }
    return x;
  });
}

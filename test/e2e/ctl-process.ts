// A long-running Debian etcdctl (`lock`, `elect`, `elect -l`) as a child process: its output is
// collected as it comes, tests wait for lines, and it is stopped by signal — the one process this
// helper started, also if the test fails (the exit hook kills whatever is still running).
import { spawn, type ChildProcess } from 'node:child_process';
import { childEnv, ETCDCTL_BIN } from './harness.js';

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of running) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

export class CtlProcess {
  private readonly child: ChildProcess;
  private out = '';
  private err = '';
  private waiters: (() => void)[] = [];
  /** Resolves with the exit code (or the signal's name) once the process has exited. */
  readonly exited: Promise<number | string>;

  constructor(endpoint: string, args: string[]) {
    const env = childEnv({ ETCDCTL_API: '3' });
    this.child = spawn(ETCDCTL_BIN, ['--endpoints', endpoint, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(this.child);
    this.child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      this.out += s;
      this.wake();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (s: string) => {
      this.err += s;
    });
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        running.delete(this.child);
        this.wake();
        resolve(code ?? signal ?? -1);
      });
    });
  }

  get stdout(): string {
    return this.out;
  }

  get stderr(): string {
    return this.err;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Waits until stdout holds at least `n` lines; returns them. Rejects if the process exits first or after timeoutMs. */
  async lines(n: number, timeoutMs = 30_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = this.out.split('\n');
      if (got.length > n) return got.slice(0, n);
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`etcdctl exited before printing ${n} lines: ${JSON.stringify(this.out)} ${this.err}`);
      }
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `etcdctl printed ${JSON.stringify(this.out)} in ${timeoutMs} ms; waited for ${n} lines`,
        );
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  signal(sig: NodeJS.Signals): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(sig);
  }
}

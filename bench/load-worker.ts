// A load worker thread: opens its share of the load's connections, runs its clients (each one a
// loop of one request at a time on one connection) until the shared request budget or the
// deadline runs out, and reports counts, errors and per-request latencies to the main thread.
import { parentPort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { GrpcCall, TRANSPORT_ERROR } from './grpc-call.js';
import { H2Connection, type GrpcConnection } from './h2-connection.js';
import { NodeHttp2Connection } from './node-http2-connection.js';
import type { ErrorSample, FromWorker, ToWorker, WorkerResult, WorkerSpec } from './load-protocol.js';
import { benchKey, benchValue, preparePut, prepareRange, type PreparedRequest } from './request.js';

const MAX_ERROR_SAMPLES = 10;

/** Everything one load run accumulates in this worker. */
class RunState {
  ok = 0;
  errors = 0;
  latencies = new Float64Array(1 << 16);
  readonly samples = new Map<string, ErrorSample>();
  running = 0;
  startMs = 0;
  endMs = 0;

  constructor(
    readonly spec: WorkerSpec,
    readonly tickets: Int32Array,
    readonly deadlineMs: number,
    readonly onIdle: () => void,
  ) {}

  record(ms: number): void {
    if (this.ok === this.latencies.length) {
      const bigger = new Float64Array(this.latencies.length * 2);
      bigger.set(this.latencies);
      this.latencies = bigger;
    }
    this.latencies[this.ok++] = ms;
  }

  error(status: number, message: string): void {
    this.errors++;
    const key = `${status} ${message}`;
    const s = this.samples.get(key);
    if (s !== undefined) s.count++;
    else if (this.samples.size < MAX_ERROR_SAMPLES) this.samples.set(key, { status, message, count: 1 });
  }
}

/** One client: a request, wait for its reply, the next request, on one connection. */
class LoadClient {
  private readonly call: GrpcCall;
  private startedMs = 0;

  constructor(
    private readonly run: RunState,
    private readonly conn: GrpcConnection,
    private readonly req: PreparedRequest,
  ) {
    this.call = new GrpcCall((status, message) => this.onDone(status, message));
  }

  next(): void {
    const run = this.run;
    const now = performance.now();
    const ticket = now < run.deadlineMs ? Atomics.add(run.tickets, 0, 1) : run.spec.maxRequests;
    if (ticket >= run.spec.maxRequests) {
      run.endMs = Math.max(run.endMs, now);
      if (--run.running === 0) run.onIdle();
      return;
    }
    this.startedMs = now;
    const key = (run.spec.keyBase + ticket) % run.spec.keySpace;
    this.conn.request(this.call, this.req, key);
  }

  private onDone(status: number, message: string): void {
    const now = performance.now();
    if (status === 0) this.run.record(now - this.startedMs);
    else this.run.error(status, message);
    if (status === TRANSPORT_ERROR) {
      // The connection is broken or the reply unreadable: stop this client rather than spin.
      this.run.endMs = Math.max(this.run.endMs, now);
      if (--this.run.running === 0) this.run.onIdle();
      return;
    }
    this.next();
  }
}

let spec: WorkerSpec | null = null;
let conns: GrpcConnection[] = [];

/** Opens the spec's connections; if any fails, closes the others and throws which one failed. */
async function prepare(s: WorkerSpec): Promise<void> {
  spec = s;
  const opened = await Promise.allSettled(
    s.conns.map((c) =>
      s.client === 'raw' ? H2Connection.connect(s.host, c.port) : NodeHttp2Connection.connect(s.host, c.port),
    ),
  );
  conns = opened.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = opened.findIndex((r) => r.status === 'rejected');
  if (failed >= 0) {
    const reason = (opened[failed] as PromiseRejectedResult).reason as Error;
    throw new Error(`connect to ${s.host}:${s.conns[failed]?.port}: ${reason.message}`);
  }
}

/** The load's request for each port (the :authority differs), built once per load. */
function requestsByPort(s: WorkerSpec): Map<number, PreparedRequest> {
  const reqs = new Map<number, PreparedRequest>();
  for (const { port } of s.conns) {
    if (reqs.has(port)) continue;
    const authority = `${s.host}:${port}`;
    reqs.set(
      port,
      s.op === 'put'
        ? preparePut(authority, s.keySize, benchValue(s.valueSize))
        : prepareRange(authority, benchKey(s.rangeKey, s.keySize), s.serializable),
    );
  }
  return reqs;
}

function go(deadlineEpochMs: number): Promise<WorkerResult> {
  const s = spec;
  if (s === null) throw new Error('go before prepare');
  const reqs = requestsByPort(s);
  return new Promise((resolve) => {
    const deadlineMs = deadlineEpochMs - performance.timeOrigin;
    // Replies still missing this long after the deadline: fail them by closing the connections.
    const timer = setTimeout(
      () => {
        for (const c of conns) c.close(`no reply within ${s.graceMs} ms after the load's deadline`);
      },
      Math.max(0, deadlineMs - performance.now()) + s.graceMs,
    );
    const run = new RunState(s, new Int32Array(s.counter), deadlineMs, () => {
      clearTimeout(timer);
      for (const c of conns) c.close();
      conns = [];
      resolve({
        ok: run.ok,
        errors: run.errors,
        errorSamples: [...run.samples.values()],
        latenciesMs: run.latencies.slice(0, run.ok),
        startEpochMs: performance.timeOrigin + run.startMs,
        endEpochMs: performance.timeOrigin + run.endMs,
      });
    });
    const clients: LoadClient[] = [];
    s.conns.forEach((c, i) => {
      const req = reqs.get(c.port) as PreparedRequest;
      for (let j = 0; j < c.clients; j++) clients.push(new LoadClient(run, conns[i] as GrpcConnection, req));
    });
    run.running = clients.length;
    run.startMs = performance.now();
    if (clients.length === 0) run.onIdle();
    for (const c of clients) c.next();
  });
}

function post(m: FromWorker, transfer: ArrayBuffer[] = []): void {
  parentPort?.postMessage(m, transfer);
}

parentPort?.on('message', (m: ToWorker) => {
  if (m.kind === 'prepare') {
    prepare(m.spec).then(
      () => post({ kind: 'prepared' }),
      (err: Error) => {
        for (const c of conns) c.close();
        conns = [];
        post({ kind: 'failed', message: err.message });
      },
    );
  } else if (m.kind === 'go') {
    go(m.deadlineEpochMs).then(
      (result) => post({ kind: 'result', result }, [result.latenciesMs.buffer as ArrayBuffer]),
      (err: Error) => post({ kind: 'failed', message: err.message }),
    );
  } else {
    process.exit(0);
  }
});

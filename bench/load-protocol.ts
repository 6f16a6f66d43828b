// Messages between the benchmark's main thread (load-runner.ts) and its load workers
// (load-worker.ts). A load is run in two steps so that every worker has its connections open
// before any of them starts: "prepare" (connect) and "go" (run until the shared request budget
// or the deadline is used up, then report).

export type ClientKind = 'raw' | 'http2';
export type Operation = 'put' | 'range';

/** One connection a worker opens: the server port it goes to and how many clients share it. */
export interface WorkerConn {
  port: number;
  clients: number;
}

export interface WorkerSpec {
  host: string;
  client: ClientKind;
  op: Operation;
  serializable: boolean;
  /** The connections this worker opens. */
  conns: WorkerConn[];
  keySize: number;
  valueSize: number;
  /** Put keys are numbered (keyBase + ticket) % keySpace. */
  keySpace: number;
  keyBase: number;
  /** Range loads read this key (digits, keySize long). */
  rangeKey: number;
  /** Requests allowed across all workers; tickets are drawn from `counter`. */
  maxRequests: number;
  /** Int32Array view [0] = next ticket, shared by every worker of the load. */
  counter: SharedArrayBuffer;
  /** How long after the deadline a worker waits for replies before it gives up on them. */
  graceMs: number;
}

export type ToWorker =
  { kind: 'prepare'; spec: WorkerSpec } | { kind: 'go'; deadlineEpochMs: number } | { kind: 'exit' };

export interface ErrorSample {
  status: number;
  message: string;
  count: number;
}

export interface WorkerResult {
  ok: number;
  errors: number;
  errorSamples: ErrorSample[];
  /** Latency of each successful request in milliseconds (transferred, not copied). */
  latenciesMs: Float64Array;
  startEpochMs: number;
  endEpochMs: number;
}

export type FromWorker =
  { kind: 'prepared' } | { kind: 'failed'; message: string } | { kind: 'result'; result: WorkerResult };

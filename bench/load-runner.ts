// The main-thread side of the load generator: a pool of worker threads (load-worker.ts) that
// together open a load's connections and run its clients. Connection j goes to worker
// j % workers and clients are split evenly over the connections, so "100 clients over 10
// connections" is 10 clients per connection whatever the number of workers. Against a cluster,
// connection j goes to the endpoint (member) j % endpoints, as etcd's own benchmark tool
// spreads its connections over `--endpoints`.
import { Worker } from 'node:worker_threads';
import type {
  ClientKind,
  ErrorSample,
  FromWorker,
  Operation,
  ToWorker,
  WorkerConn,
  WorkerResult,
  WorkerSpec,
} from './load-protocol.js';
import { concatSamples, splitEvenly } from './stats.js';

export interface LoadSpec {
  host: string;
  /** Client ports of the servers (a cluster's members, in order); connection j uses ports[j % n]. */
  ports: readonly number[];
  op: Operation;
  serializable: boolean;
  conns: number;
  clients: number;
  maxRequests: number;
  durationMs: number;
  keySize: number;
  valueSize: number;
  keySpace: number;
  keyBase: number;
  rangeKey: number;
}

export interface LoadResult {
  ok: number;
  errors: number;
  errorSamples: ErrorSample[];
  /** From the first request sent to the last reply, over all workers. */
  elapsedSec: number;
  latenciesMs: Float64Array;
}

/** One planned connection: the endpoint (index into LoadSpec.ports) and its number of clients. */
export interface ConnPlan {
  endpoint: number;
  clients: number;
}

/**
 * Which worker opens each connection, to which endpoint, with how many clients: connection j goes
 * to worker j % workers (only workers that get a connection run) and to endpoint j % endpoints;
 * the clients are split evenly over the connections.
 */
export function planConnections(
  workers: number,
  conns: number,
  clients: number,
  endpoints: number,
): ConnPlan[][] {
  if (conns < 1 || clients < conns) throw new Error(`need at least 1 connection and 1 client per connection`);
  if (workers < 1 || endpoints < 1) throw new Error('need at least 1 worker and 1 endpoint');
  const perConn = splitEvenly(clients, conns);
  const used = Math.min(workers, conns);
  const plan: ConnPlan[][] = Array.from({ length: used }, () => []);
  perConn.forEach((n, j) => (plan[j % used] as ConnPlan[]).push({ endpoint: j % endpoints, clients: n }));
  return plan;
}

/** How long after a load's deadline replies may still arrive before they count as lost. */
const GRACE_MS = 30_000;

export class LoadGenerator {
  private readonly workers: Worker[] = [];
  private readonly inbox: ((m: FromWorker) => void)[] = [];

  /** `graceMs`: how long after a load's deadline missing replies are still waited for. */
  constructor(
    workerCount: number,
    private readonly client: ClientKind,
    private readonly graceMs = GRACE_MS,
  ) {
    for (let i = 0; i < workerCount; i++) {
      const w = new Worker(new URL('./load-worker.js', import.meta.url));
      w.on('message', (m: FromWorker) => this.inbox[i]?.(m));
      w.on('error', (err) => this.inbox[i]?.({ kind: 'failed', message: `worker crashed: ${err.message}` }));
      this.workers.push(w);
    }
  }

  private ask(i: number, m: ToWorker): Promise<FromWorker> {
    return new Promise((resolve) => {
      this.inbox[i] = resolve;
      (this.workers[i] as Worker).postMessage(m);
    });
  }

  /** Splits connections and clients over the workers and `endpoints` servers (planConnections). */
  plan(conns: number, clients: number, endpoints = 1): ConnPlan[][] {
    return planConnections(this.workers.length, conns, clients, endpoints);
  }

  async run(load: LoadSpec): Promise<LoadResult> {
    const plan = this.plan(load.conns, load.clients, load.ports.length);
    const counter = new SharedArrayBuffer(4);
    const specs: WorkerSpec[] = plan.map((conns) => ({
      host: load.host,
      client: this.client,
      op: load.op,
      serializable: load.serializable,
      conns: conns.map((c): WorkerConn => ({ port: load.ports[c.endpoint] as number, clients: c.clients })),
      keySize: load.keySize,
      valueSize: load.valueSize,
      keySpace: load.keySpace,
      keyBase: load.keyBase,
      rangeKey: load.rangeKey,
      maxRequests: load.maxRequests,
      counter,
      graceMs: this.graceMs,
    }));
    const prepared = await Promise.all(specs.map((spec, i) => this.ask(i, { kind: 'prepare', spec })));
    const failed = prepared.find((m) => m.kind === 'failed');
    if (failed !== undefined && failed.kind === 'failed') throw new Error(failed.message);
    const deadlineEpochMs = Date.now() + load.durationMs;
    const replies = await Promise.all(specs.map((_, i) => this.ask(i, { kind: 'go', deadlineEpochMs })));
    const results: WorkerResult[] = [];
    for (const r of replies) {
      if (r.kind !== 'result')
        throw new Error(r.kind === 'failed' ? r.message : `unexpected worker reply ${r.kind}`);
      results.push(r.result);
    }
    return merge(results);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

function merge(results: WorkerResult[]): LoadResult {
  const samples = new Map<string, ErrorSample>();
  for (const r of results) {
    for (const s of r.errorSamples) {
      const key = `${s.status} ${s.message}`;
      const prev = samples.get(key);
      if (prev !== undefined) prev.count += s.count;
      else samples.set(key, { ...s });
    }
  }
  const start = Math.min(...results.map((r) => r.startEpochMs));
  const end = Math.max(...results.map((r) => r.endEpochMs));
  return {
    ok: results.reduce((n, r) => n + r.ok, 0),
    errors: results.reduce((n, r) => n + r.errors, 0),
    errorSamples: [...samples.values()],
    elapsedSec: Math.max(0, end - start) / 1000,
    latenciesMs: concatSamples(results.map((r) => r.latenciesMs)),
  };
}

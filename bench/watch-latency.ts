// The watch benchmark's event-latency load against one running server: `watchers` watchers on one
// key (spread over `streams` Watch streams on `conns` connections), then puts of that key at a
// steady rate, open loop (put k is sent at start + k/rate whatever the replies do), each value
// carrying the put's number. Latency is event receipt minus put send, per watcher and put. The
// load is bounded by count (warm-up + rate × duration puts) and by time (the puts' schedule plus
// fixed grace periods); the recorder (watch-accounting.ts) checks that every watcher got every
// acknowledged put exactly once, in order.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { GrpcCall, TRANSPORT_ERROR } from './grpc-call.js';
import { responseRevision } from './grpc-codec.js';
import { H2Connection } from './h2-connection.js';
import { CpuSample } from './proc-stats.js';
import type { PreparedRequest } from './request.js';
import { EventLatencyRecorder, readDecimal, type LatencyAccount } from './watch-accounting.js';
import { EventType, prepareNumberedPut, SEQ_DIGITS } from './watch-codec.js';
import { WatcherSet } from './watch-streams.js';
import type { WatchOptions } from './watch-options.js';

/** The latency load's flags (rate: puts per second; durationSec of timed puts after the warm-up). */
export interface LatencyLoadSpec extends Pick<
  WatchOptions,
  'watchers' | 'streams' | 'conns' | 'rate' | 'durationSec' | 'warmupPuts' | 'valueSize'
> {
  host: string;
  port: number;
}

export interface LatencyLoadResult extends LatencyAccount {
  /** Seconds from opening the streams until every watcher was created. */
  createSec: number;
  /** Seconds from the first put sent until the last event arrived (or the grace ran out). */
  elapsedSec: number;
  serverCpuSec: number;
  generatorCpuSec: number;
  otherCpuSec: number;
  putErrorSamples: string[];
  /** This process's event-loop delay during the puts (p99, max), in ms: whether the client kept up. */
  clientLoopDelayP99Ms: number;
  clientLoopDelayMaxMs: number;
}

export const WATCH_BENCH_KEY = new TextEncoder().encode('watch-bench/key');
/** Puts in flight above which the load stops sending and reports that it fell behind. */
const MAX_PUTS_IN_FLIGHT = 2000;
/** How long replies and events may trail the last put before they count as missing. */
const GRACE_MS = 15_000;
const CREATE_TIMEOUT_MS = 60_000;

export async function runLatencyLoad(
  spec: LatencyLoadSpec,
  serverPids: readonly number[],
  progress: (msg: string) => void,
): Promise<LatencyLoadResult> {
  const total = spec.warmupPuts + spec.rate * spec.durationSec;
  const rec = new EventLatencyRecorder(spec.watchers, total, spec.warmupPuts);
  const onEvent = (
    w: number,
    ev: { type: number; key: Uint8Array; modRevision: number; value: Uint8Array },
    recvMs: number,
  ) => {
    if (ev.type !== EventType.PUT) return rec.unexpected('an event that is not a PUT');
    rec.event(w, readDecimal(ev.value, 0, SEQ_DIGITS), ev.modRevision, recvMs);
  };
  const t0 = performance.now();
  const set = await WatcherSet.open(spec.host, spec.port, spec, () => WATCH_BENCH_KEY, onEvent);
  try {
    await set.waitCreated(CREATE_TIMEOUT_MS, (n) => progress(`  ${n} of ${spec.watchers} watchers created`));
    const createSec = (performance.now() - t0) / 1000;
    const conn = await H2Connection.connect(spec.host, spec.port);
    const req = prepareNumberedPut(`${spec.host}:${spec.port}`, WATCH_BENCH_KEY, spec.valueSize);
    const cpu = new CpuSample(serverPids);
    const loopDelay = monitorEventLoopDelay({ resolution: 1 });
    loopDelay.enable();
    const start = performance.now();
    const errors = new Map<string, number>();
    try {
      await sendPuts(conn, req, rec, spec.rate, total, errors);
      await waitDelivered(rec, GRACE_MS);
    } finally {
      loopDelay.disable();
      conn.close('the load is over');
    }
    const lastMs = performance.now();
    const c = cpu.since();
    const account = rec.finish();
    return {
      ...account,
      problems: [...set.problems, ...account.problems],
      createSec,
      elapsedSec: (lastMs - start) / 1000,
      serverCpuSec: c.serverSec,
      generatorCpuSec: c.generatorSec,
      otherCpuSec: c.otherSec,
      putErrorSamples: [...errors].map(([m, n]) => `${m} (×${n})`),
      clientLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
      clientLoopDelayMaxMs: loopDelay.max / 1e6,
    };
  } finally {
    set.close();
  }
}

/** Sends puts 0..total-1 at `rate`/s, open loop; resolves once every reply came or the grace ran out. */
function sendPuts(
  conn: H2Connection,
  req: PreparedRequest,
  rec: EventLatencyRecorder,
  rate: number,
  total: number,
  errors: Map<string, number>,
): Promise<void> {
  return new Promise((resolve) => {
    const start = performance.now();
    const hardEnd = start + (total * 1000) / rate + GRACE_MS;
    let seq = 0;
    const send = (s: number): void => {
      const call = new GrpcCall((status, message, body) => {
        if (status === 0 && body !== null) return rec.acked(s, Number(responseRevision(body)));
        rec.failed(s);
        const key = status === TRANSPORT_ERROR ? message : `grpc-status ${status}: ${message}`;
        errors.set(key, (errors.get(key) ?? 0) + 1);
      }, true);
      rec.sent(s, performance.now());
      conn.request(call, req, s);
    };
    const tick = (): void => {
      const now = performance.now();
      if (now > hardEnd) {
        if (seq < total) rec.unexpected(`the load ran out of time after ${seq} of ${total} puts`);
        conn.close('no reply within the grace period');
        return resolve();
      }
      const due = Math.min(total, Math.floor(((now - start) * rate) / 1000) + 1);
      while (seq < due) {
        if (rec.putsInFlight >= MAX_PUTS_IN_FLIGHT) {
          rec.unexpected(`the put rate fell behind: ${MAX_PUTS_IN_FLIGHT} puts in flight`);
          break;
        }
        send(seq++);
      }
      if (seq >= total && rec.putsInFlight === 0) return resolve();
      const next = seq < total ? start + (seq * 1000) / rate : now + 5;
      setTimeout(tick, Math.max(0, next - performance.now()));
    };
    tick();
  });
}

/** Waits until every acknowledged put reached every watcher, or `graceMs` passed. */
async function waitDelivered(rec: EventLatencyRecorder, graceMs: number): Promise<void> {
  const until = performance.now() + graceMs;
  while (rec.receivedEvents < rec.expectedEvents && performance.now() < until) {
    await new Promise((res) => setTimeout(res, 5));
  }
}

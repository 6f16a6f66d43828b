// The watch benchmark's memory load against one fresh server: its resident set size (VmRSS) when
// idle, then again once it holds `watchers` idle watchers (each on a key of its own that nobody
// writes) over `streams` Watch streams on `conns` connections. The difference divided by the
// watchers is the cost of one watcher, its share of the streams and connections included. The
// watchers are then shown to be live: a put of the first and of the last watcher's key must reach
// exactly those two watchers.
import { readFileSync } from 'node:fs';
import { unaryCall } from './probe.js';
import { parseStatusKb } from './proc-stats.js';
import { prepareNumberedPut } from './watch-codec.js';
import { WatcherSet } from './watch-streams.js';

export interface IdleLoadSpec {
  host: string;
  port: number;
  watchers: number;
  streams: number;
  conns: number;
  /** Pause before each RSS reading, so the server is done with what came before. */
  settleMs: number;
}

export interface IdleLoadResult {
  watchers: number;
  streams: number;
  conns: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  peakRssBytes: number;
  /** (after − before) / watchers. */
  perWatcherBytes: number;
  createSec: number;
  problems: string[];
}

const CREATE_TIMEOUT_MS = 300_000;
const LIVE_CHECK_MS = 10_000;

/** `n` as the key of idle watcher n: "idle/" and 8 zero-padded digits. */
export function idleKey(n: number): Uint8Array {
  return new TextEncoder().encode(`idle/${String(n).padStart(8, '0')}`);
}

/** VmRSS and VmHWM of a live process, in bytes. */
export function rssBytes(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rss: parseStatusKb(status, 'VmRSS'), peak: parseStatusKb(status, 'VmHWM') };
}

const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

export async function runIdleLoad(
  spec: IdleLoadSpec,
  serverPid: number,
  progress: (msg: string) => void,
): Promise<IdleLoadResult> {
  await sleep(spec.settleMs);
  const before = rssBytes(serverPid).rss;
  const events = new Map<number, number>();
  const t0 = performance.now();
  const set = await WatcherSet.open(spec.host, spec.port, spec, idleKey, (w) =>
    events.set(w, (events.get(w) ?? 0) + 1),
  );
  try {
    await set.waitCreated(CREATE_TIMEOUT_MS, (n) => progress(`  ${n} of ${spec.watchers} watchers created`));
    const createSec = (performance.now() - t0) / 1000;
    await sleep(spec.settleMs);
    const after = rssBytes(serverPid);
    const problems = [...set.problems];
    if (events.size > 0) problems.push(`${events.size} idle watchers got events before any put`);
    problems.push(...(await liveCheck(spec, events)));
    problems.push(...set.problems.filter((p) => !problems.includes(p)));
    return {
      watchers: spec.watchers,
      streams: spec.streams,
      conns: spec.conns,
      rssBeforeBytes: before,
      rssAfterBytes: after.rss,
      peakRssBytes: after.peak,
      perWatcherBytes: (after.rss - before) / spec.watchers,
      createSec,
      problems,
    };
  } finally {
    set.close();
  }
}

/** Puts the first and the last watcher's keys; exactly those watchers must get one event each. */
async function liveCheck(spec: IdleLoadSpec, events: Map<number, number>): Promise<string[]> {
  events.clear();
  const last = spec.watchers - 1;
  const authority = `${spec.host}:${spec.port}`;
  for (const w of [0, last]) {
    const r = await unaryCall(spec.host, spec.port, prepareNumberedPut(authority, idleKey(w), 16), w);
    if (r.status !== 0) return [`the live-check put of watcher ${w}'s key failed: ${r.message}`];
  }
  const until = performance.now() + LIVE_CHECK_MS;
  while (((events.get(0) ?? 0) < 1 || (events.get(last) ?? 0) < 1) && performance.now() < until)
    await sleep(10);
  await sleep(200); // room for any wrong extra event to show up
  const want = new Map([
    [0, 1],
    [last, 1],
  ]);
  const got = [...events].sort((a, b) => a[0] - b[0]);
  const ok = got.length === want.size && got.every(([w, n]) => want.get(w) === n);
  return ok ? [] : [`live check: puts of watchers 0 and ${last}'s keys gave events ${JSON.stringify(got)}`];
}

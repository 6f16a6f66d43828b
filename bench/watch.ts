// `npm run bench -- watch`: etcd 3.4 and ketch, each on fresh processes started one after the other
// with the same etcd flags (servers.ts), measured with the same two loads:
// 1. event latency: many watchers on one key under a steady put rate (watch-latency.ts);
// 2. memory: RSS before and after the server holds many idle watchers (watch-idle.ts).
// Prints the command and a table per load with the ketch/etcd ratio (watch-report.ts); exits 1 if
// a server failed, a put failed, an event went missing or any check found a problem.
import { machineInfo } from './report.js';
import { execFileSync } from 'node:child_process';
import { versionOf } from './schedule.js';
import { HOST, ServerProcess } from './servers.js';
import { CpuSample } from './proc-stats.js';
import { runIdleLoad } from './watch-idle.js';
import { runLatencyLoad } from './watch-latency.js';
import { parseWatchOptions, WATCH_USAGE, type WatchOptions, type WatchTarget } from './watch-options.js';
import { optionsOrExit } from './options.js';
import {
  renderWatchMarkdown,
  watchFailures,
  type Measured,
  type WatchReport,
  type WatchServerReport,
} from './watch-report.js';

const READY_TIMEOUT_MS = 60_000;
/** Other processes' CPU share (of one core) under which the machine counts as quiet. */
const QUIET_SHARE = 0.25;

type Progress = (msg: string) => void;

/** Starts a fresh server, runs `body` with it, stops it; a failure is recorded, not thrown. */
async function measure<T>(
  name: WatchTarget,
  bin: string,
  o: WatchOptions,
  progress: Progress,
  body: (s: ServerProcess) => Promise<T>,
): Promise<Measured<T>> {
  let server: ServerProcess;
  try {
    server = await ServerProcess.start(name, bin, READY_TIMEOUT_MS);
  } catch (err) {
    return { command: bin, failed: (err as Error).message };
  }
  const m: Measured<T> = { command: server.commandLine };
  try {
    m.result = await body(server);
    if (!server.alive) m.failed = `${name} ${server.exitReason} during the load\n${server.logTail()}`;
  } catch (err) {
    m.failed = `${(err as Error).message}${server.alive ? '' : `\n${name} ${server.exitReason}\n${server.logTail()}`}`;
  } finally {
    await server.stop(10_000, o.keepData);
    if (o.keepData) progress(`[${name}] data and log kept in ${server.tmpDir}`);
  }
  return m;
}

/** Waits (up to `maxSec`) until other processes use less than a quarter of a core over a second. */
async function waitQuiet(pid: number, maxSec: number, progress: Progress): Promise<void> {
  const until = Date.now() + maxSec * 1000;
  for (let told = false; ; told = true) {
    const sample = new CpuSample([pid]);
    await new Promise((r) => setTimeout(r, 1000));
    const d = sample.since();
    const share = d.otherSec / d.wallSec;
    if (share <= QUIET_SHARE || Date.now() >= until) return;
    if (!told)
      progress(`  other processes use ${Math.round(100 * share)}% of a core; waiting up to ${maxSec} s`);
  }
}

async function runAll(o: WatchOptions, report: WatchReport, progress: Progress): Promise<void> {
  const bins = { etcd: o.etcdBin, ketch: o.ketchBin };
  for (const s of report.servers) {
    if (!o.measures.includes('latency')) break;
    progress(
      `[${s.name}] latency: ${o.watchers} watchers on one key, ${o.rate} puts/s for ${o.durationSec} s`,
    );
    s.latency = await measure(s.name, bins[s.name], o, progress, async (srv) => {
      if (o.waitQuietSec > 0) await waitQuiet(srv.pid, o.waitQuietSec, progress);
      const spec = { host: HOST, port: srv.port, ...o };
      return runLatencyLoad(spec, [srv.pid], progress);
    });
    const l = s.latency.result;
    if (l !== undefined)
      progress(
        `[${s.name}]   ${l.receivedEvents} / ${l.expectedEvents} events, p50 ${l.latency.p50Ms.toFixed(2)} ms, p99 ${l.latency.p99Ms.toFixed(2)} ms`,
      );
    else progress(`[${s.name}]   failed: ${s.latency.failed}`);
  }
  for (const s of report.servers) {
    if (!o.measures.includes('idle')) break;
    progress(`[${s.name}] memory: ${o.idleWatchers} idle watchers over ${o.idleStreams} streams`);
    s.idle = await measure(s.name, bins[s.name], o, progress, (srv) =>
      runIdleLoad(
        {
          host: HOST,
          port: srv.port,
          watchers: o.idleWatchers,
          streams: o.idleStreams,
          conns: o.idleConns,
          settleMs: o.settleSec * 1000,
        },
        srv.pid,
        progress,
      ),
    );
    const r = s.idle.result;
    if (r !== undefined)
      progress(
        `[${s.name}]   RSS ${r.rssBeforeBytes} -> ${r.rssAfterBytes} bytes, ${Math.round(r.perWatcherBytes)} B/watcher`,
      );
    else progress(`[${s.name}]   failed: ${s.idle.failed}`);
  }
}

function runVersion(bin: string): string {
  return execFileSync(bin, ['--version'], {
    encoding: 'utf8',
    timeout: 10_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs the watch benchmark for `argv` (the flags after `watch`); sets process.exitCode. */
export async function runWatchBench(argv: string[], command: string, repoRoot: string): Promise<void> {
  const progress: Progress = (msg) => void process.stderr.write(`${msg}\n`);
  const o = optionsOrExit(() => parseWatchOptions(argv, repoRoot), WATCH_USAGE);
  if (o === null) return;
  const { help: _h, json: _j, quick: _q, keepData: _k, ...settings } = o;
  const report: WatchReport = {
    command,
    startedAt: new Date().toISOString(),
    machine: machineInfo(),
    settings,
    servers: o.targets.map((name): WatchServerReport => {
      const version = versionOf(name === 'etcd' ? o.etcdBin : o.ketchBin, runVersion);
      return { name, version };
    }),
  };
  progress(`command: ${command}`);
  await runAll(o, report, progress);
  process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : renderWatchMarkdown(report));
  const failures = watchFailures(report);
  if (failures > 0) progress(`bench watch: ${failures} failures or problems (see above); exit status 1`);
  process.exitCode = failures > 0 ? 1 : 0;
}

// The watch benchmark's results as data (WatchReport, also the --json output) and as Markdown:
// one table for the event-latency load and one for the idle-watcher memory load, a column per
// server and the ketch/etcd ratio, then the commands the servers ran with and every failure or
// problem found. `watchFailures` counts what makes the run exit 1.
import type { MachineInfo } from './report.js';
import type { IdleLoadResult } from './watch-idle.js';
import type { LatencyLoadResult } from './watch-latency.js';
import type { WatchOptions, WatchTarget } from './watch-options.js';

export interface Measured<T> {
  /** The server's command line. */
  command: string;
  result?: T;
  /** Why the server could not be started or measured to the end. */
  failed?: string;
}

export interface WatchServerReport {
  name: WatchTarget;
  version: string;
  latency?: Measured<LatencyLoadResult>;
  idle?: Measured<IdleLoadResult>;
}

export interface WatchReport {
  command: string;
  startedAt: string;
  machine: MachineInfo;
  settings: Omit<WatchOptions, 'help' | 'json' | 'quick' | 'keepData'>;
  servers: WatchServerReport[];
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (n: number): string => (Number.isNaN(n) ? '–' : n < 10 ? n.toFixed(2) : n.toFixed(1));
const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;
const cpu = (sec: number, wall: number): string =>
  `${sec.toFixed(1)} s (${wall > 0 ? Math.round((100 * sec) / wall) : 0}%)`;

/** Failures, problems, put errors and undelivered events, over every server and load. */
export function watchFailures(r: WatchReport): number {
  let n = 0;
  for (const s of r.servers) {
    for (const m of [s.latency, s.idle]) if (m?.failed !== undefined) n++;
    const l = s.latency?.result;
    if (l !== undefined) {
      n += l.problems.length + l.putErrors;
      if (l.receivedEvents !== l.expectedEvents || l.watchersShort > 0) n++;
    }
    n += s.idle?.result?.problems.length ?? 0;
  }
  return n;
}

type Row<T> = [label: string, value: (r: T) => string, ratioOf?: (r: T) => number];

function table<T>(
  servers: WatchServerReport[],
  pick: (s: WatchServerReport) => Measured<T> | undefined,
  rows: Row<T>[],
): string[] {
  const cols = servers.filter((s) => pick(s) !== undefined);
  const etcd = cols.find((s) => s.name === 'etcd');
  const ketch = cols.find((s) => s.name === 'ketch');
  const withRatio = etcd !== undefined && ketch !== undefined;
  const head = ['', ...cols.map((s) => s.name), ...(withRatio ? ['ketch/etcd'] : [])];
  const out = [
    `| ${head.join(' | ')} |`,
    `| --- | ${head
      .slice(1)
      .map(() => '---:')
      .join(' | ')} |`,
  ];
  for (const [label, value, ratioOf] of rows) {
    const cells = cols.map((s) => {
      const m = pick(s) as Measured<T>;
      return m.result !== undefined ? value(m.result) : 'failed';
    });
    if (withRatio) {
      const e = pick(etcd)?.result;
      const k = pick(ketch)?.result;
      const ratio =
        ratioOf !== undefined && e !== undefined && k !== undefined ? ratioOf(k) / ratioOf(e) : NaN;
      cells.push(Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : '');
    }
    out.push(`| ${label} | ${cells.join(' | ')} |`);
  }
  return out;
}

function latencyRows(): Row<LatencyLoadResult>[] {
  return [
    ['events received / expected', (r) => `${int(r.receivedEvents)} / ${int(r.expectedEvents)}`],
    ['watchers missing events', (r) => int(r.watchersShort)],
    ['latency p50 (ms)', (r) => ms(r.latency.p50Ms), (r) => r.latency.p50Ms],
    ['latency p90 (ms)', (r) => ms(r.latency.p90Ms), (r) => r.latency.p90Ms],
    ['latency p99 (ms)', (r) => ms(r.latency.p99Ms), (r) => r.latency.p99Ms],
    ['latency max (ms)', (r) => ms(r.latency.maxMs), (r) => r.latency.maxMs],
    ['puts acknowledged / sent', (r) => `${int(r.putsAcked)} / ${int(r.putsSent)}`],
    ['watchers created in', (r) => `${r.createSec.toFixed(2)} s`, (r) => r.createSec],
    ['server CPU', (r) => cpu(r.serverCpuSec, r.elapsedSec), (r) => r.serverCpuSec],
    ['generator CPU', (r) => cpu(r.generatorCpuSec, r.elapsedSec)],
    ['other CPU', (r) => cpu(r.otherCpuSec, r.elapsedSec)],
    [
      'generator event-loop delay p99 / max (ms)',
      (r) => `${ms(r.clientLoopDelayP99Ms)} / ${ms(r.clientLoopDelayMaxMs)}`,
    ],
  ];
}

function idleRows(): Row<IdleLoadResult>[] {
  return [
    ['RSS idle, before the watchers', (r) => mb(r.rssBeforeBytes), (r) => r.rssBeforeBytes],
    ['RSS holding the watchers', (r) => mb(r.rssAfterBytes), (r) => r.rssAfterBytes],
    ['RSS growth', (r) => mb(r.rssAfterBytes - r.rssBeforeBytes), (r) => r.rssAfterBytes - r.rssBeforeBytes],
    ['per watcher', (r) => `${int(r.perWatcherBytes)} B`, (r) => r.perWatcherBytes],
    ['peak RSS (VmHWM)', (r) => mb(r.peakRssBytes), (r) => r.peakRssBytes],
    ['watchers created in', (r) => `${r.createSec.toFixed(2)} s`, (r) => r.createSec],
  ];
}

function notes<T extends { problems: string[] }>(
  servers: WatchServerReport[],
  pick: (s: WatchServerReport) => Measured<T> | undefined,
  extra: (r: T) => string[] = () => [],
): string[] {
  const out: string[] = [];
  for (const s of servers) {
    const m = pick(s);
    if (m === undefined) continue;
    out.push(`- ${s.name} (${s.version}): \`${m.command}\``);
    if (m.failed !== undefined) out.push(`  - FAILED: ${m.failed.split('\n').join('\n    ')}`);
    for (const p of m.result === undefined ? [] : [...m.result.problems, ...extra(m.result)])
      out.push(`  - PROBLEM: ${p}`);
  }
  return out;
}

export function renderWatchMarkdown(r: WatchReport): string {
  const o = r.settings;
  const lines = [
    `command: \`${r.command}\``,
    '',
    `machine: ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.os}, Node ${r.machine.node}`,
  ];
  if (r.servers.some((s) => s.latency !== undefined)) {
    lines.push(
      '',
      `### Watch event latency: ${int(o.watchers)} watchers on one key (${int(o.streams)} streams over ` +
        `${int(o.conns)} connections), ${int(o.rate)} puts/s for ${o.durationSec} s ` +
        `(+${int(o.warmupPuts)} warm-up puts), ${o.valueSize}-byte values`,
      '',
      'Latency: from sending a Put to each watcher receiving its event, one sample per watcher and put.',
      '',
      ...table(r.servers, (s) => s.latency, latencyRows()),
      '',
      ...notes(
        r.servers,
        (s) => s.latency,
        (l) => l.putErrorSamples.map((e) => `put error: ${e}`),
      ),
    );
  }
  if (r.servers.some((s) => s.idle !== undefined)) {
    lines.push(
      '',
      `### RSS holding ${int(o.idleWatchers)} idle watchers (${int(o.idleStreams)} streams over ` +
        `${int(o.idleConns)} connections, a key per watcher)`,
      '',
      ...table(r.servers, (s) => s.idle, idleRows()),
      '',
      ...notes(r.servers, (s) => s.idle),
    );
  }
  return `${lines.join('\n')}\n`;
}

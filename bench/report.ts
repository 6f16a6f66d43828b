// The benchmark's results as data (BenchReport, also the --json output) and as Markdown tables
// that can be pasted into the README: throughput and latency per load for each server with the
// ketch/etcd ratio, peak RSS after N puts, and CPU time of server, load generator and
// everything else on the machine during each load.
import type { LatencySummary } from './stats.js';
import type { ErrorSample } from './load-protocol.js';
import type { LoadId, ServerName } from './options.js';

export interface CpuReport {
  serverSec: number;
  generatorSec: number;
  otherSec: number;
  wallSec: number;
}

export interface LoadReport {
  id: LoadId;
  title: string;
  ok: number;
  errors: number;
  errorSamples: ErrorSample[];
  elapsedSec: number;
  requestsPerSec: number;
  latency: LatencySummary;
  cpu: CpuReport;
  /** The server's peak RSS (VmHWM) at the end of this load. */
  peakRssBytes: number;
  /** Requests/s of the runs the median was taken from (the fields above describe the median run). */
  runsPerSec?: number[];
  /** Runs left out because other processes disturbed them while quieter runs existed. */
  noisyRunsPerSec?: number[];
}

export interface RssReport {
  puts: number;
  errors: number;
  errorSamples: ErrorSample[];
  elapsedSec: number;
  peakRssBytes: number;
}

export interface ServerReport {
  name: ServerName;
  command: string;
  version: string;
  /** Why the server could not be started or measured to the end (absent when it was). */
  failed?: string;
  loads: LoadReport[];
  /** Peak RSS (VmHWM) of a fresh server process after `puts` puts. */
  rss: RssReport | null;
  /** Problems found by the checks after the loads (wrong value read back, revision mismatch...). */
  problems: string[];
}

export interface BenchReport {
  command: string;
  nodeCommand: string;
  startedAt: string;
  machine: { cpus: number; cpuModel: string; os: string; node: string };
  settings: {
    durationSec: number;
    maxRequests: number;
    warmupRequests: number;
    rssPuts: number;
    fill: number;
    repeat: number;
    clients: number;
    conns: number;
    workers: number;
    client: string;
    keySize: number;
    valueSize: number;
    keySpace: number;
  };
  servers: ServerReport[];
}

/** Total errors and problems over all servers (the run's exit status depends on it). */
export function countFailures(r: BenchReport): number {
  let n = 0;
  for (const s of r.servers) {
    if (s.failed !== undefined) n++;
    n += s.problems.length + (s.rss?.errors ?? 0);
    for (const l of s.loads) n += l.errors;
  }
  return n;
}

/** Other processes using more than this share of one core during a load make its figures suspect. */
export const NOISY_OTHER_CPU = 0.25;

export const noisy = (l: LoadReport): boolean =>
  l.cpu.wallSec > 0 && l.cpu.otherSec / l.cpu.wallSec > NOISY_OTHER_CPU;

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (n: number): string => (Number.isNaN(n) ? '–' : n < 10 ? n.toFixed(2) : n.toFixed(1));
const mb = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MB`;
const cpu = (sec: number, wall: number): string => `${sec.toFixed(1)} s (${Math.round((100 * sec) / wall)}%)`;

/** Median requests/s, the spread of all runs, a noise mark and the error count. */
function rateCell(l: LoadReport): string {
  const runs = l.runsPerSec ?? [];
  const spread = runs.length > 1 ? ` (${int(Math.min(...runs))}–${int(Math.max(...runs))})` : '';
  return (
    int(l.requestsPerSec) +
    spread +
    (noisy(l) ? ' †' : '') +
    (l.errors > 0 ? ` (${int(l.errors)} errors)` : '')
  );
}

function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || !(b > 0)) return '–';
  return `${(a / b).toFixed(2)}×`;
}

function rowTitles(r: BenchReport): { id: LoadId; title: string }[] {
  const seen = new Map<LoadId, string>();
  for (const s of r.servers) for (const l of s.loads) if (!seen.has(l.id)) seen.set(l.id, l.title);
  return [...seen].map(([id, title]) => ({ id, title }));
}

function headerLines(r: BenchReport): string[] {
  const s = r.settings;
  const lines = [`command: \`${r.command}\``];
  if (r.command !== r.nodeCommand) lines.push(`(runs \`${r.nodeCommand}\`)`);
  lines.push('');
  for (const srv of r.servers) lines.push(`- ${srv.name} (${srv.version}): \`${srv.command}\``);
  lines.push(
    `- machine: ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.os}, Node ${r.machine.node}`,
    `- servers run one at a time, a fresh process (new data dir and ports) for each load` +
      (s.fill > 0 ? `, filled with ${int(s.fill)} puts before the load` : ' and for the RSS reading'),
    `- each load: ≤ ${s.durationSec} s or ≤ ${int(s.maxRequests)} requests after ${int(s.warmupRequests)} untimed ones` +
      (s.repeat > 1
        ? `, run ${s.repeat} times per server (servers alternating); the median run is shown, with the range of the runs in brackets ` +
          '(runs disturbed by other processes are left out when quieter ones exist); '
        : '; ') +
      `${s.keySize}-byte keys, ${s.valueSize}-byte values; ${s.client === 'raw' ? 'raw HTTP/2' : 'node:http2'} ` +
      `gRPC client on ${s.workers} worker threads`,
    '',
  );
  return lines;
}

/** The report as Markdown: header, main table, CPU table, then any errors and problems. */
export function renderMarkdown(r: BenchReport): string {
  const names = r.servers.map((s) => s.name);
  const byName = new Map(r.servers.map((s) => [s.name, s]));
  const etcd = byName.get('etcd');
  const ketch = byName.get('ketch');
  const both = etcd !== undefined && ketch !== undefined;
  const out = headerLines(r);

  const head = ['load', ...names.flatMap((n) => [`${n} req/s`, `${n} p50 / p99 ms`])];
  if (both) head.push('ketch / etcd');
  out.push(`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`);
  for (const { id, title } of rowTitles(r)) {
    const cells = [title];
    const rates: (number | undefined)[] = [];
    for (const s of r.servers) {
      const l = s.loads.find((x) => x.id === id);
      rates.push(l?.requestsPerSec);
      cells.push(l ? rateCell(l) : '–');
      cells.push(l ? `${ms(l.latency.p50Ms)} / ${ms(l.latency.p99Ms)}` : '–');
    }
    if (both)
      cells.push(
        ratio(
          ketch.loads.find((x) => x.id === id)?.requestsPerSec,
          etcd.loads.find((x) => x.id === id)?.requestsPerSec,
        ),
      );
    out.push(`| ${cells.join(' | ')} |`);
  }
  const rssRow = [`peak RSS after ${int(r.settings.rssPuts)} puts`];
  for (const s of r.servers) rssRow.push(s.rss ? mb(s.rss.peakRssBytes) : '–', '');
  if (both) rssRow.push(ratio(ketch.rss?.peakRssBytes, etcd.rss?.peakRssBytes));
  out.push(`| ${rssRow.join(' | ')} |`, '');
  if (r.servers.some((s) => s.loads.some(noisy))) {
    out.push(
      `† other processes used more than ${NOISY_OTHER_CPU * 100}% of a core during this load (see "other CPU" below); ` +
        'the machine was not quiet and the figure is unreliable.',
      '',
    );
  }

  out.push(...cpuTable(r), ...problemLines(r));
  return out.join('\n') + '\n';
}

function cpuTable(r: BenchReport): string[] {
  const head = ['load', ...r.servers.flatMap((s) => [`${s.name} CPU`, `generator CPU`, `other CPU`])];
  const out = [
    'CPU time during each load (seconds, and % of one core; the machine has ' + `${r.machine.cpus} cores):`,
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
  ];
  for (const { id, title } of rowTitles(r)) {
    const cells = [title];
    for (const s of r.servers) {
      const l = s.loads.find((x) => x.id === id);
      if (l === undefined) cells.push('–', '–', '–');
      else
        cells.push(
          cpu(l.cpu.serverSec, l.cpu.wallSec),
          cpu(l.cpu.generatorSec, l.cpu.wallSec),
          cpu(l.cpu.otherSec, l.cpu.wallSec),
        );
    }
    out.push(`| ${cells.join(' | ')} |`);
  }
  out.push('');
  return out;
}

function problemLines(r: BenchReport): string[] {
  const out: string[] = [];
  for (const s of r.servers) {
    if (s.failed !== undefined) out.push(`**${s.name} failed**: ${s.failed}`, '');
    for (const p of s.problems) out.push(`**${s.name} problem**: ${p}`);
    const samples = [
      ...(s.rss?.errorSamples.map((e) => ({
        where: `the ${int(r.settings.rssPuts)} puts before the RSS reading`,
        e,
      })) ?? []),
      ...s.loads.flatMap((l) => l.errorSamples.map((e) => ({ where: l.title, e }))),
    ];
    for (const { where, e } of samples) {
      out.push(
        `**${s.name} errors** in ${where}: ${int(e.count)} × ${e.status < 0 ? 'transport' : `grpc-status ${e.status}`}: ${e.message}`,
      );
    }
    if (s.problems.length > 0 || samples.length > 0) out.push('');
  }
  return out;
}

// The benchmark's results as data (BenchReport, also the --json output) and as Markdown tables
// that can be pasted into the README, one pair of tables per cluster size: throughput and latency
// per load for each server with the ketch/etcd ratio, peak RSS after N puts (single member only),
// and CPU time of the server (all members), load generator and everything else on the machine
// during each load.
import os from 'node:os';
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
  /** Cluster only: the member ('m2') that led when this run's cluster became ready. */
  leader?: string;
  /** Cluster only: `leader` of every run, in run order (noisy runs included). */
  runLeaders?: string[];
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
  /** Cluster size: 1 for a single server, else that many members of the same binary. */
  members: number;
  /** The command line (of member m1 in a cluster; the others differ in name, ports and data dir). */
  command: string;
  version: string;
  /** Why the server could not be started or measured to the end (absent when it was). */
  failed?: string;
  loads: LoadReport[];
  /** Peak RSS (VmHWM) of a fresh server process after `puts` puts (single member only). */
  rss: RssReport | null;
  /** Problems found by the checks after the loads (wrong value read back, revision mismatch...). */
  problems: string[];
}

/** The machine a report was measured on. */
export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  os: string;
  node: string;
}

export function machineInfo(): MachineInfo {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    os: `${os.type()} ${os.release()}`,
    node: process.version,
  };
}

export interface BenchReport {
  command: string;
  nodeCommand: string;
  startedAt: string;
  machine: MachineInfo;
  settings: {
    durationSec: number;
    maxRequests: number;
    warmupRequests: number;
    rssPuts: number;
    fill: number;
    repeat: number;
    /** Cluster sizes measured, one table each. */
    members: number[];
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

function rowTitles(servers: readonly ServerReport[]): { id: LoadId; title: string }[] {
  const seen = new Map<LoadId, string>();
  for (const s of servers) for (const l of s.loads) if (!seen.has(l.id)) seen.set(l.id, l.title);
  return [...seen].map(([id, title]) => ({ id, title }));
}

/** The servers of each cluster size, sizes in order of first appearance. */
function bySize(r: BenchReport): { members: number; servers: ServerReport[] }[] {
  const groups = new Map<number, ServerReport[]>();
  for (const s of r.servers) groups.set(s.members, [...(groups.get(s.members) ?? []), s]);
  return [...groups].map(([members, servers]) => ({ members, servers }));
}

/** How a server is named in failures and problems: 'etcd', or 'etcd, 3 members'. */
const label = (s: ServerReport): string => (s.members === 1 ? s.name : `${s.name}, ${s.members} members`);

const tableHead = (head: string[]): string[] => [
  `| ${head.join(' | ')} |`,
  `|${head.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
];

function headerLines(r: BenchReport): string[] {
  const s = r.settings;
  const lines = [`command: \`${r.command}\``];
  if (r.command !== r.nodeCommand) lines.push(`(runs \`${r.nodeCommand}\`)`);
  lines.push(
    '',
    `- machine: ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.os}, Node ${r.machine.node}`,
    `- servers run one at a time, a fresh process or cluster (new data dirs and ports) for each load` +
      (s.fill > 0 ? `, filled with ${int(s.fill)} puts before the load` : '') +
      (s.rssPuts > 0 && s.members.includes(1) ? ', and one for the RSS reading' : ''),
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

/** The heading of one cluster size and how its servers were run. */
function sizeLines(members: number, servers: readonly ServerReport[]): string[] {
  const out = [members === 1 ? '### 1 member' : `### ${members}-member cluster`, ''];
  for (const srv of servers)
    out.push(`- ${srv.name} (${srv.version}): \`${srv.command}\`${members > 1 ? ' (member m1)' : ''}`);
  if (members > 1) {
    out.push(
      `- ${members} processes of the same binary on loopback (m1…m${members}); connection j of a load goes to member ` +
        `j mod ${members}, as with etcd's \`benchmark --endpoints=m1,…,m${members}\`; server CPU is the sum over the members; ` +
        'peak RSS is read on single members only',
    );
    const leaders = servers.flatMap((srv) => {
      const l = srv.loads.find((x) => x.id === 'put-1')?.runLeaders;
      return l === undefined ? [] : [`${srv.name} ${l.join(', ')}`];
    });
    if (leaders.length > 0)
      out.push(
        `- put, 1 client has one connection, to m1; the leader at the start of each run: ${leaders.join('; ')}`,
      );
  }
  out.push('');
  return out;
}

/** The report as Markdown: header, then per cluster size the main and CPU tables; then errors and problems. */
export function renderMarkdown(r: BenchReport): string {
  const out = headerLines(r);
  for (const { members, servers } of bySize(r)) {
    out.push(...sizeLines(members, servers), ...rateTable(r, members, servers), ...cpuTable(r, servers));
  }
  out.push(...problemLines(r));
  return out.join('\n') + '\n';
}

function rateTable(r: BenchReport, members: number, servers: readonly ServerReport[]): string[] {
  const etcd = servers.find((s) => s.name === 'etcd');
  const ketch = servers.find((s) => s.name === 'ketch');
  const both = etcd !== undefined && ketch !== undefined;
  const head = ['load', ...servers.flatMap((s) => [`${s.name} req/s`, `${s.name} p50 / p99 ms`])];
  if (both) head.push('ketch / etcd');
  const out = tableHead(head);
  for (const { id, title } of rowTitles(servers)) {
    const cells = [title];
    for (const s of servers) {
      const l = s.loads.find((x) => x.id === id);
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
  if (members === 1 && r.settings.rssPuts > 0) {
    const rssRow = [`peak RSS after ${int(r.settings.rssPuts)} puts`];
    for (const s of servers) rssRow.push(s.rss ? mb(s.rss.peakRssBytes) : '–', '');
    if (both) rssRow.push(ratio(ketch.rss?.peakRssBytes, etcd.rss?.peakRssBytes));
    out.push(`| ${rssRow.join(' | ')} |`);
  }
  out.push('');
  if (servers.some((s) => s.loads.some(noisy))) {
    out.push(
      `† other processes used more than ${NOISY_OTHER_CPU * 100}% of a core during this load (see "other CPU" below); ` +
        'the machine was not quiet and the figure is unreliable.',
      '',
    );
  }
  return out;
}

function cpuTable(r: BenchReport, servers: readonly ServerReport[]): string[] {
  const head = ['load', ...servers.flatMap((s) => [`${s.name} CPU`, `generator CPU`, `other CPU`])];
  const out = [
    'CPU time during each load (seconds, and % of one core; the machine has ' + `${r.machine.cpus} cores):`,
    '',
    ...tableHead(head),
  ];
  for (const { id, title } of rowTitles(servers)) {
    const cells = [title];
    for (const s of servers) {
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
    const who = label(s);
    if (s.failed !== undefined) out.push(`**${who} failed**: ${s.failed}`, '');
    for (const p of s.problems) out.push(`**${who} problem**: ${p}`);
    const samples = [
      ...(s.rss?.errorSamples.map((e) => ({
        where: `the ${int(r.settings.rssPuts)} puts before the RSS reading`,
        e,
      })) ?? []),
      ...s.loads.flatMap((l) => l.errorSamples.map((e) => ({ where: l.title, e }))),
    ];
    for (const { where, e } of samples) {
      out.push(
        `**${who} errors** in ${where}: ${int(e.count)} × ${e.status < 0 ? 'transport' : `grpc-status ${e.status}`}: ${e.message}`,
      );
    }
    if (s.problems.length > 0 || samples.length > 0) out.push('');
  }
  return out;
}

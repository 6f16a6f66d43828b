// `npm run bench`: starts real etcd and ketch one at a time with the same flags, runs the same
// loads against each with the load generator of this folder, and prints a Markdown table (or
// JSON with --json) of requests/s, p50/p99 latency, the ketch/etcd ratio, peak RSS after the fill
// puts, and CPU time of server and generator. Exit status 1 if anything failed or any request
// got an error, so a broken run can never pass for a measurement.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { decodeRangeResponse, responseRevision } from './grpc-codec.js';
import { LoadGenerator, type LoadSpec } from './load-runner.js';
import { parseOptions, USAGE, type BenchOptions, type LoadId, type ServerName } from './options.js';
import { unaryCall } from './probe.js';
import { CpuSample, peakRssBytes } from './proc-stats.js';
import {
  countFailures,
  NOISY_OTHER_CPU,
  renderMarkdown,
  type BenchReport,
  type LoadReport,
  type ServerReport,
} from './report.js';
import { benchKey, benchValue, preparePut, prepareRange } from './request.js';
import { HOST, ServerProcess } from './servers.js';
import { summarize } from './stats.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
const READY_TIMEOUT_MS = 60_000;
/** The fill puts before the RSS reading are bounded by count; this only stops a stuck server. */
const FILL_LIMIT_MS = 600_000;
/** Key number of the key the range loads read (written by the first fill put and again below). */
const RANGE_KEY = 0;

const progress = (msg: string): void => void process.stderr.write(`${msg}\n`);

function loadShape(
  id: LoadId,
  o: BenchOptions,
): { title: string; op: 'put' | 'range'; serializable: boolean; conns: number; clients: number } {
  const many = `${o.clients} clients / ${o.conns} conns`;
  switch (id) {
    case 'put-1':
      return { title: 'put, 1 client', op: 'put', serializable: false, conns: 1, clients: 1 };
    case 'put-100':
      return { title: `put, ${many}`, op: 'put', serializable: false, conns: o.conns, clients: o.clients };
    case 'range-l':
      return {
        title: `range linearizable, ${many}`,
        op: 'range',
        serializable: false,
        conns: o.conns,
        clients: o.clients,
      };
    case 'range-s':
      return {
        title: `range serializable, ${many}`,
        op: 'range',
        serializable: true,
        conns: o.conns,
        clients: o.clients,
      };
  }
}

function versionOf(bin: string): string {
  try {
    const out = execFileSync(bin, ['--version'], {
      encoding: 'utf8',
      timeout: 10_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return out.split('\n')[0]?.trim() || 'unknown version';
  } catch (err) {
    return `--version failed: ${(err as Error).message.split('\n')[0]}`;
  }
}

/**
 * Waits (up to `maxSec`) until processes other than the server and this one use less than
 * NOISY_OTHER_CPU of a core over a second; returns that share as last seen.
 */
async function waitQuiet(serverPid: number, maxSec: number, label: string): Promise<number> {
  const until = Date.now() + maxSec * 1000;
  let told = false;
  for (;;) {
    const sample = new CpuSample(serverPid);
    await new Promise((r) => setTimeout(r, 1000));
    const d = sample.since();
    const share = d.otherSec / d.wallSec;
    if (share <= NOISY_OTHER_CPU || Date.now() >= until) {
      if (told) progress(`[${label}] other processes now use ${Math.round(share * 100)}% of a core`);
      return share;
    }
    if (!told)
      progress(
        `[${label}] other processes use ${Math.round(share * 100)}% of a core; waiting up to ${maxSec} s`,
      );
    told = true;
  }
}

/** Runs the fill puts, the loads and the checks against one started server. */
async function measure(
  server: ServerProcess,
  rep: ServerReport,
  o: BenchOptions,
  gen: LoadGenerator,
): Promise<void> {
  const value = benchValue(o.valueSize);
  const base = {
    host: HOST,
    port: server.port,
    keySize: o.keySize,
    valueSize: o.valueSize,
    keySpace: o.keySpace,
    rangeKey: RANGE_KEY,
  };
  let keyNext = 0;
  let acked = 0;
  let putErrors = 0;
  const runLoad = async (spec: Omit<LoadSpec, keyof typeof base | 'keyBase'>) => {
    const r = await gen.run({ ...base, ...spec, keyBase: keyNext });
    if (spec.op === 'put') {
      keyNext += r.ok + r.errors;
      acked += r.ok;
      putErrors += r.errors;
    }
    return r;
  };
  if (o.rssPuts > 0) {
    const r = await runLoad({
      op: 'put',
      serializable: false,
      conns: o.conns,
      clients: o.clients,
      maxRequests: o.rssPuts,
      durationMs: FILL_LIMIT_MS,
    });
    rep.rss = {
      puts: r.ok,
      errors: r.errors,
      errorSamples: r.errorSamples,
      fillSec: r.elapsedSec,
      peakRssBytes: peakRssBytes(server.pid),
    };
    progress(
      `[${rep.name}] ${r.ok} fill puts in ${r.elapsedSec.toFixed(1)} s, peak RSS ${(rep.rss.peakRssBytes / 2 ** 20).toFixed(1)} MB`,
    );
  }
  const put0 = await unaryCall(
    HOST,
    server.port,
    preparePut(`${HOST}:${server.port}`, o.keySize, value),
    RANGE_KEY,
  );
  if (put0.status === 0) acked++;
  else throw new Error(`put of the range key failed: ${put0.status} ${put0.message}`);

  for (const id of o.loads) {
    const shape = loadShape(id, o);
    const spec = {
      op: shape.op,
      serializable: shape.serializable,
      conns: shape.conns,
      clients: shape.clients,
    };
    if (o.warmupRequests > 0) {
      const w = await runLoad({ ...spec, maxRequests: o.warmupRequests, durationMs: o.durationSec * 1000 });
      if (w.errors > 0)
        rep.problems.push(
          `${w.errors} errors in the warm-up of ${shape.title}: ${w.errorSamples[0]?.message}`,
        );
    }
    if (o.waitQuietSec > 0) await waitQuiet(server.pid, o.waitQuietSec, rep.name);
    const sample = new CpuSample(server.pid);
    const r = await runLoad({ ...spec, maxRequests: o.maxRequests, durationMs: o.durationSec * 1000 });
    const cpu = sample.since();
    const load: LoadReport = {
      id,
      title: shape.title,
      ok: r.ok,
      errors: r.errors,
      errorSamples: r.errorSamples,
      elapsedSec: r.elapsedSec,
      requestsPerSec: r.elapsedSec > 0 ? r.ok / r.elapsedSec : 0,
      latency: summarize(r.latenciesMs),
      cpu,
    };
    rep.loads.push(load);
    progress(
      `[${rep.name}] ${shape.title}: ${Math.round(load.requestsPerSec)} req/s, p50 ${load.latency.p50Ms.toFixed(2)} ms, ` +
        `p99 ${load.latency.p99Ms.toFixed(2)} ms, ${r.errors} errors; CPU server ${cpu.serverSec.toFixed(2)} s, ` +
        `generator ${cpu.generatorSec.toFixed(2)} s, other ${cpu.otherSec.toFixed(2)} s in ${cpu.wallSec.toFixed(2)} s`,
    );
    if (!server.alive)
      throw new Error(`${rep.name} ${server.exitReason} during ${shape.title}\n${server.logTail()}`);
  }
  await checkState(server, rep, o, value, acked, putErrors);
  rep.peakRssEndBytes = peakRssBytes(server.pid);
}

/** Reads the range key back and compares the store's revision with the puts acknowledged. */
async function checkState(
  server: ServerProcess,
  rep: ServerReport,
  o: BenchOptions,
  value: Uint8Array,
  acked: number,
  putErrors: number,
): Promise<void> {
  const r = await unaryCall(
    HOST,
    server.port,
    prepareRange(`${HOST}:${server.port}`, benchKey(RANGE_KEY, o.keySize), false),
  );
  if (r.status !== 0 || r.body === null) {
    rep.problems.push(`final range failed: ${r.status} ${r.message}`);
    return;
  }
  const got = decodeRangeResponse(r.body);
  const kv = got.kvs[0];
  if (
    got.count !== 1n ||
    kv === undefined ||
    Buffer.compare(Buffer.from(kv.value), Buffer.from(value)) !== 0
  ) {
    rep.problems.push(
      `range of the bench key returned count ${got.count} and ${got.kvs.length} kvs, not the value written`,
    );
  }
  // A fresh store is at revision 1 and each put adds one; puts that failed may or may not have applied.
  const rev = responseRevision(r.body);
  const want = BigInt(1 + acked);
  if (putErrors === 0 ? rev !== want : rev < want || rev > want + BigInt(putErrors)) {
    rep.problems.push(
      `store revision is ${rev} after ${acked} acknowledged puts (${putErrors} failed); expected ${want}`,
    );
  }
}

async function benchServer(name: ServerName, o: BenchOptions, gen: LoadGenerator): Promise<ServerReport> {
  const bin = name === 'etcd' ? o.etcdBin : o.ketchBin;
  const rep: ServerReport = {
    name,
    command: bin,
    version: versionOf(bin),
    loads: [],
    rss: null,
    peakRssEndBytes: null,
    problems: [],
  };
  progress(`[${name}] starting ${bin} (${rep.version})`);
  let server: ServerProcess;
  try {
    server = await ServerProcess.start(name, bin, READY_TIMEOUT_MS);
  } catch (err) {
    rep.failed = (err as Error).message;
    progress(`[${name}] failed to start: ${rep.failed}`);
    return rep;
  }
  rep.command = server.commandLine;
  try {
    await measure(server, rep, o, gen);
  } catch (err) {
    rep.failed = (err as Error).message;
    progress(`[${name}] failed: ${rep.failed}`);
  } finally {
    await server.stop(10_000, o.keepData);
    if (o.keepData) progress(`[${name}] data and log kept in ${server.tmpDir}`);
  }
  return rep;
}

function commands(argv: string[]): { command: string; nodeCommand: string } {
  const args = argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
  const nodeCommand = `node dist/bench/run.js${args ? ` ${args}` : ''}`;
  const viaNpm = process.env.npm_lifecycle_event === 'bench';
  return { nodeCommand, command: viaNpm ? `npm run bench${args ? ` -- ${args}` : ''}` : nodeCommand };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let o: BenchOptions;
  try {
    o = parseOptions(argv, REPO_ROOT);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  if (o.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const { command, nodeCommand } = commands(argv);
  progress(`command: ${command}`);
  const report: BenchReport = {
    command,
    nodeCommand,
    startedAt: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      os: `${os.type()} ${os.release()}`,
      node: process.version,
    },
    settings: {
      durationSec: o.durationSec,
      maxRequests: o.maxRequests,
      warmupRequests: o.warmupRequests,
      rssPuts: o.rssPuts,
      clients: o.clients,
      conns: o.conns,
      workers: o.workers,
      client: o.client,
      keySize: o.keySize,
      valueSize: o.valueSize,
      keySpace: o.keySpace,
    },
    servers: [],
  };
  const gen = new LoadGenerator(o.workers, o.client);
  try {
    for (const name of o.servers) report.servers.push(await benchServer(name, o, gen));
  } finally {
    await gen.close();
  }
  process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : renderMarkdown(report));
  const failures = countFailures(report);
  if (failures > 0) progress(`bench: ${failures} failures or errors (see above); exit status 1`);
  process.exitCode = failures > 0 ? 1 : 0;
}

await main();

// `npm run bench -- lease`: etcd 3.4 and ketch, each on a fresh single-member process per load
// (servers.ts, the same etcd flags), measured with the same two closed-loop loads (lease-load.ts)
// spread over worker threads (lease-worker.ts): keepalives per second on long-lived LeaseKeepAlive
// streams, and grant+revoke pairs per second. Each load runs a warm-up first (not counted), then
// the timed run; afterwards the server is checked (the keepalive leases all still exist, the
// grant-revoke load left no lease behind). Prints the command and a table with the ketch/etcd
// ratio, latency percentiles and CPU seconds of server and generator; exits 1 on any error.
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { GrpcCall } from './grpc-call.js';
import { readFields } from './grpc-codec.js';
import { H2Connection } from './h2-connection.js';
import {
  encodeInt64Fields,
  GRANT_PATH,
  int64Field,
  LEASES_PATH,
  unaryRequest,
  type LeaseLoadResult,
  type LeaseLoadSpec,
  type LeaseMode,
} from './lease-load.js';
import { CpuSample } from './proc-stats.js';
import { versionOf } from './schedule.js';
import { HOST, ServerProcess } from './servers.js';
import { splitEvenly, summarize } from './stats.js';

export const LEASE_USAGE = `usage: npm run bench -- lease [options]
  --duration S     timed seconds per load (default 10; warm-up 2 s more)
  --clients N      concurrent clients, one request in flight each (default 100)
  --conns N        connections the clients share (default 10)
  --workers N      generator threads (default 2)
  --ttl S          TTL of the leases (default 60)
  --targets LIST   etcd,ketch (default both, in that order)
  --etcd-bin P, --ketch-bin P, --json, --help`;

interface LeaseOptions {
  durationSec: number;
  warmupSec: number;
  clients: number;
  conns: number;
  workers: number;
  ttl: number;
  targets: ('etcd' | 'ketch')[];
  etcdBin: string;
  ketchBin: string;
  json: boolean;
  help: boolean;
}

function parse(argv: string[], repoRoot: string): LeaseOptions {
  const o: LeaseOptions = {
    durationSec: 10,
    warmupSec: 2,
    clients: 100,
    conns: 10,
    workers: 2,
    ttl: 60,
    targets: ['etcd', 'ketch'],
    etcdBin: '/usr/bin/etcd',
    ketchBin: `${repoRoot}/bin/ketch`,
    json: false,
    help: false,
  };
  const num = (name: string, v: string | undefined): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${name} needs a positive integer`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = (): string => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${a} needs a value`);
      return x;
    };
    if (a === '--duration') o.durationSec = num(a, v());
    else if (a === '--clients') o.clients = num(a, v());
    else if (a === '--conns') o.conns = num(a, v());
    else if (a === '--workers') o.workers = num(a, v());
    else if (a === '--ttl') o.ttl = num(a, v());
    else if (a === '--targets') {
      const t = v().split(',');
      if (!t.every((x) => x === 'etcd' || x === 'ketch')) throw new Error('--targets takes etcd,ketch');
      o.targets = t;
    } else if (a === '--etcd-bin') o.etcdBin = v();
    else if (a === '--ketch-bin') o.ketchBin = v();
    else if (a === '--json') o.json = true;
    else if (a === '--help' || a === '-h') o.help = true;
    else throw new Error(`unknown option ${a}`);
  }
  if (o.conns > o.clients) throw new Error('--conns must not exceed --clients');
  return o;
}

interface Measured {
  load: LeaseMode;
  target: string;
  command: string;
  ok: number;
  errors: number;
  errorSamples: string[];
  perSec: number;
  p50Ms: number;
  p99Ms: number;
  serverCpuSec: number;
  generatorCpuSec: number;
  failed?: string;
}

function unary(port: number, path: string, msg: Uint8Array): Promise<Uint8Array> {
  return H2Connection.connect(HOST, port).then(
    (conn) =>
      new Promise<Uint8Array>((resolve, reject) => {
        const call = new GrpcCall((status, message, body) => {
          conn.close();
          if (status === 0 && body !== null) resolve(body);
          else reject(new Error(`${path}: grpc-status ${status}: ${message}`));
        }, true);
        conn.request(call, unaryRequest(`${HOST}:${port}`, path, msg));
      }),
  );
}

async function leaseCount(port: number): Promise<number> {
  const body = await unary(port, LEASES_PATH, new Uint8Array(0));
  return readFields(body).filter((f) => f.field === 2).length;
}

/** Runs `spec` split over `workers` threads (connection j on thread j % workers). */
async function runOnWorkers(workers: number, spec: LeaseLoadSpec): Promise<LeaseLoadResult> {
  const used = Math.min(workers, spec.conns.length);
  const shares: LeaseLoadSpec[] = Array.from({ length: used }, () => ({ ...spec, conns: [], leaseIds: [] }));
  let lease = 0;
  spec.conns.forEach((n, j) => {
    const s = shares[j % used]!;
    s.conns.push(n);
    for (let i = 0; i < n; i++) if (spec.mode === 'keepalive') s.leaseIds.push(spec.leaseIds[lease++]!);
  });
  const results = await Promise.all(
    shares.map(
      (s) =>
        new Promise<LeaseLoadResult>((resolve, reject) => {
          const w = new Worker(new URL('./lease-worker.js', import.meta.url));
          w.once('error', reject);
          w.once('message', (m: { result?: LeaseLoadResult; failed?: string }) => {
            void w.terminate();
            if (m.result !== undefined) resolve(m.result);
            else reject(new Error(m.failed));
          });
          w.postMessage(s);
        }),
    ),
  );
  return {
    ok: results.reduce((n, r) => n + r.ok, 0),
    errors: results.reduce((n, r) => n + r.errors, 0),
    errorSamples: results.flatMap((r) => r.errorSamples),
    latenciesMs: results.flatMap((r) => r.latenciesMs),
    elapsedSec: Math.max(...results.map((r) => r.elapsedSec)),
  };
}

async function measureOne(target: 'etcd' | 'ketch', load: LeaseMode, o: LeaseOptions): Promise<Measured> {
  const bin = target === 'etcd' ? o.etcdBin : o.ketchBin;
  const server = await ServerProcess.start(`${target}-${load}`, bin, 60_000);
  const m: Measured = {
    load,
    target,
    command: server.commandLine,
    ...{ ok: 0, errors: 0, errorSamples: [], perSec: 0, p50Ms: NaN, p99Ms: NaN },
    ...{ serverCpuSec: 0, generatorCpuSec: 0 },
  };
  try {
    const leaseIds: bigint[] = [];
    if (load === 'keepalive') {
      const grant = encodeInt64Fields([[1, BigInt(o.ttl)]]);
      for (let i = 0; i < o.clients; i++)
        leaseIds.push(int64Field(await unary(server.port, GRANT_PATH, grant), 2));
    }
    const spec = (sec: number): LeaseLoadSpec => ({
      mode: load,
      host: HOST,
      port: server.port,
      conns: splitEvenly(o.clients, o.conns),
      durationMs: sec * 1000,
      ttl: o.ttl,
      leaseIds,
    });
    const warm = await runOnWorkers(o.workers, spec(o.warmupSec));
    const cpu = new CpuSample([server.pid]);
    const r = await runOnWorkers(o.workers, spec(o.durationSec));
    const c = cpu.since();
    const lat = summarize(Float64Array.from(r.latenciesMs));
    Object.assign(m, {
      ok: r.ok,
      errors: r.errors + warm.errors,
      errorSamples: [...warm.errorSamples, ...r.errorSamples],
      perSec: r.ok / r.elapsedSec,
      p50Ms: lat.p50Ms,
      p99Ms: lat.p99Ms,
      serverCpuSec: c.serverSec,
      generatorCpuSec: c.generatorSec,
    });
    const left = await leaseCount(server.port);
    const want = load === 'keepalive' ? o.clients : 0;
    if (left !== want) m.failed = `${left} leases on the server after the load, expected ${want}`;
    if (!server.alive) m.failed = `${target} ${server.exitReason} during the load`;
  } catch (err) {
    m.failed = (err as Error).message;
  } finally {
    await server.stop(10_000, false);
  }
  return m;
}

function render(command: string, rows: Measured[], o: LeaseOptions): string {
  const lines = [
    `command: \`${command}\``,
    `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown'}, node ${process.version}`,
    `${o.clients} clients (one request in flight each) over ${o.conns} connections, ${o.workers} generator threads, ${o.durationSec} s timed after ${o.warmupSec} s warm-up, TTL ${o.ttl} s, single member`,
    '',
    '| load | server | ops/s | p50 ms | p99 ms | server CPU s | generator CPU s | errors | ketch/etcd |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    const etcd = rows.find((x) => x.load === r.load && x.target === 'etcd');
    const ratio =
      r.target === 'ketch' && etcd !== undefined && etcd.perSec > 0
        ? (r.perSec / etcd.perSec).toFixed(2)
        : '';
    const what = r.load === 'keepalive' ? 'keepalives' : 'grant+revoke pairs';
    lines.push(
      `| ${what} | ${r.target} | ${Math.round(r.perSec)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.serverCpuSec.toFixed(1)} | ${r.generatorCpuSec.toFixed(1)} | ${r.errors} | ${ratio} |`,
    );
  }
  for (const r of rows) {
    if (r.failed !== undefined) lines.push('', `FAILED ${r.target} ${r.load}: ${r.failed}`);
    if (r.errorSamples.length > 0)
      lines.push('', `errors ${r.target} ${r.load}: ${r.errorSamples.join('; ')}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Runs the lease benchmark for `argv` (the flags after `lease`); sets process.exitCode. */
export async function runLeaseBench(argv: string[], command: string, repoRoot: string): Promise<void> {
  let o: LeaseOptions;
  try {
    o = parse(argv, repoRoot);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${LEASE_USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  if (o.help) {
    process.stdout.write(`${LEASE_USAGE}\n`);
    return;
  }
  const progress = (msg: string): void => void process.stderr.write(`${msg}\n`);
  progress(`command: ${command}`);
  const rows: Measured[] = [];
  for (const load of ['keepalive', 'grant-revoke'] as const) {
    for (const t of o.targets) {
      const bin = t === 'etcd' ? o.etcdBin : o.ketchBin;
      progress(
        `[${t}] ${load} (${versionOf(bin, (b) => execFileSync(b, ['--version'], { encoding: 'utf8' }))})`,
      );
      const m = await measureOne(t, load, o);
      progress(
        `[${t}]   ${Math.round(m.perSec)}/s, ${m.errors} errors${m.failed ? `, FAILED: ${m.failed}` : ''}`,
      );
      rows.push(m);
    }
  }
  process.stdout.write(
    o.json ? `${JSON.stringify({ command, settings: o, rows }, null, 2)}\n` : render(command, rows, o),
  );
  const bad = rows.filter((r) => r.failed !== undefined || r.errors > 0).length;
  process.exitCode = bad > 0 ? 1 : 0;
}

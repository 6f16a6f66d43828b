// One measurement against one started server or cluster (schedule.ts starts a fresh one for
// each): the RSS reading (N puts, then VmHWM; single member only), or one load (optional fill
// puts, the range key, untimed warm-up, a wait for a quiet machine, the timed load with CPU
// samples of every member around it). A load's connections are spread over the members
// round-robin. Afterwards the store is checked on every member with a linearizable Range: the key
// the ranges read holds the value written, and the revision equals 1 + the puts acknowledged.
import { decodeRangeResponse, responseRevision } from './grpc-codec.js';
import type { LoadGenerator, LoadResult, LoadSpec } from './load-runner.js';
import type { BenchOptions, LoadId } from './options.js';
import { unaryCall } from './probe.js';
import { CpuSample, peakRssBytes } from './proc-stats.js';
import { NOISY_OTHER_CPU, type LoadReport, type ServerReport } from './report.js';
import { benchKey, benchValue, preparePut, prepareRange } from './request.js';
import type { ServerCluster } from './cluster.js';
import { HOST } from './servers.js';
import { summarize } from './stats.js';

/** The fill puts are bounded by count; this only stops a server that got stuck. */
const FILL_LIMIT_MS = 600_000;
/** Key number of the key the range loads read. */
const RANGE_KEY = 0;

export type Progress = (msg: string) => void;

interface Shape {
  title: string;
  op: 'put' | 'range';
  serializable: boolean;
  conns: number;
  clients: number;
}

export function loadShape(id: LoadId, o: BenchOptions): Shape {
  const many = { conns: o.conns, clients: o.clients };
  const tail = `${o.clients} clients / ${o.conns} conns`;
  switch (id) {
    case 'put-1':
      return { title: 'put, 1 client', op: 'put', serializable: false, conns: 1, clients: 1 };
    case 'put-100':
      return { title: `put, ${tail}`, op: 'put', serializable: false, ...many };
    case 'range-l':
      return { title: `range linearizable, ${tail}`, op: 'range', serializable: false, ...many };
    case 'range-s':
      return { title: `range serializable, ${tail}`, op: 'range', serializable: true, ...many };
  }
}

/** Puts sent to one server process: where the next key starts and what was acknowledged. */
class PutLedger {
  nextKey = 0;
  acked = 0;
  failed = 0;

  note(op: 'put' | 'range', r: LoadResult): void {
    if (op !== 'put') return;
    this.nextKey += r.ok + r.errors;
    this.acked += r.ok;
    this.failed += r.errors;
  }
}

/**
 * Waits (up to `maxSec`) until processes other than the server and this one use less than
 * NOISY_OTHER_CPU of a core over a second.
 */
async function waitQuiet(serverPids: readonly number[], maxSec: number, say: Progress): Promise<void> {
  const until = Date.now() + maxSec * 1000;
  let told = false;
  for (;;) {
    const sample = new CpuSample(serverPids);
    await new Promise((r) => setTimeout(r, 1000));
    const d = sample.since();
    const share = Math.round((100 * d.otherSec) / d.wallSec);
    if (d.otherSec / d.wallSec <= NOISY_OTHER_CPU || Date.now() >= until) {
      if (told) say(`other processes now use ${share}% of a core`);
      return;
    }
    if (!told) say(`other processes use ${share}% of a core; waiting up to ${maxSec} s`);
    told = true;
  }
}

export class LoadSession {
  private readonly ledger = new PutLedger();
  private readonly value: Uint8Array;
  /** Member 1's client port: the range key is written there. */
  private readonly port: number;

  constructor(
    private readonly server: ServerCluster,
    private readonly rep: ServerReport,
    private readonly o: BenchOptions,
    private readonly gen: LoadGenerator,
    private readonly say: Progress,
  ) {
    this.value = benchValue(o.valueSize);
    this.port = server.ports[0] as number;
  }

  private async run(
    spec: Omit<LoadSpec, 'host' | 'ports' | 'keySize' | 'valueSize' | 'keySpace' | 'keyBase' | 'rangeKey'>,
  ): Promise<LoadResult> {
    const o = this.o;
    const r = await this.gen.run({
      host: HOST,
      ports: this.server.ports,
      keySize: o.keySize,
      valueSize: o.valueSize,
      keySpace: o.keySpace,
      keyBase: this.ledger.nextKey,
      rangeKey: RANGE_KEY,
      ...spec,
    });
    this.ledger.note(spec.op, r);
    return r;
  }

  /** `n` puts from 100 clients (bounded by count only); errors become problems of the report. */
  async fill(n: number, what: string): Promise<LoadResult | null> {
    const o = this.o;
    if (n === 0) return null;
    const r = await this.run({
      op: 'put',
      serializable: false,
      conns: o.conns,
      clients: o.clients,
      maxRequests: n,
      durationMs: FILL_LIMIT_MS,
    });
    this.say(`${r.ok} puts ${what} in ${r.elapsedSec.toFixed(1)} s, ${r.errors} errors`);
    if (r.errors > 0)
      this.rep.problems.push(`${r.errors} errors in the puts ${what}: ${r.errorSamples[0]?.message}`);
    return r;
  }

  /** The RSS row: peak RSS of this (fresh, single-member) process after `o.rssPuts` puts, then the store check. */
  async measureRss(): Promise<void> {
    if (this.server.size !== 1) throw new Error('the RSS reading is taken of a single member only');
    const r = await this.fill(this.o.rssPuts, 'before the RSS reading');
    if (r === null) return;
    const rss = peakRssBytes(this.server.pids[0] as number);
    this.say(`peak RSS ${(rss / 2 ** 20).toFixed(1)} MB`);
    this.rep.rss = {
      puts: r.ok,
      errors: r.errors,
      errorSamples: r.errorSamples,
      elapsedSec: r.elapsedSec,
      peakRssBytes: rss,
    };
    await this.putRangeKey();
    for (const p of await this.checkState()) this.rep.problems.push(`after the RSS puts: ${p}`);
  }

  private async putRangeKey(): Promise<void> {
    const req = preparePut(`${HOST}:${this.port}`, this.o.keySize, this.value);
    const put0 = await unaryCall(HOST, this.port, req, RANGE_KEY);
    if (put0.status !== 0) throw new Error(`put of the range key failed: ${put0.status} ${put0.message}`);
    this.ledger.acked++;
  }

  async measure(id: LoadId): Promise<LoadReport> {
    const o = this.o;
    const shape = loadShape(id, o);
    await this.putRangeKey();
    const spec = {
      op: shape.op,
      serializable: shape.serializable,
      conns: shape.conns,
      clients: shape.clients,
    };
    if (o.warmupRequests > 0) {
      const w = await this.run({ ...spec, maxRequests: o.warmupRequests, durationMs: o.durationSec * 1000 });
      if (w.errors > 0)
        this.rep.problems.push(
          `${w.errors} errors in the warm-up of ${shape.title}: ${w.errorSamples[0]?.message}`,
        );
    }
    if (o.waitQuietSec > 0) await waitQuiet(this.server.pids, o.waitQuietSec, this.say);
    const sample = new CpuSample(this.server.pids);
    const r = await this.run({ ...spec, maxRequests: o.maxRequests, durationMs: o.durationSec * 1000 });
    if (!this.server.alive)
      throw new Error(
        `${this.rep.name} ${this.server.exitReason} during ${shape.title}\n${this.server.logTail()}`,
      );
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
      peakRssBytes: Math.max(...this.server.pids.map(peakRssBytes)),
      ...(this.server.leaderName !== null ? { leader: this.server.leaderName } : {}),
    };
    this.say(
      `${shape.title}: ${Math.round(load.requestsPerSec)} req/s, p50 ${load.latency.p50Ms.toFixed(2)} ms, ` +
        `p99 ${load.latency.p99Ms.toFixed(2)} ms, ${r.errors} errors; CPU server ${cpu.serverSec.toFixed(2)} s, ` +
        `generator ${cpu.generatorSec.toFixed(2)} s, other ${cpu.otherSec.toFixed(2)} s in ${cpu.wallSec.toFixed(2)} s`,
    );
    for (const p of await this.checkState()) this.rep.problems.push(`after ${shape.title}: ${p}`);
    return load;
  }

  /** Reads the range key back on every member and compares the revision with the puts acknowledged. */
  private async checkState(): Promise<string[]> {
    const problems: string[] = [];
    for (const [i, port] of this.server.ports.entries()) {
      const where = this.server.size > 1 ? `m${i + 1}: ` : '';
      for (const p of await this.checkMember(port)) problems.push(where + p);
    }
    return problems;
  }

  private async checkMember(port: number): Promise<string[]> {
    const o = this.o;
    const r = await unaryCall(
      HOST,
      port,
      prepareRange(`${HOST}:${port}`, benchKey(RANGE_KEY, o.keySize), false),
    );
    if (r.status !== 0 || r.body === null) return [`final range failed: ${r.status} ${r.message}`];
    const problems: string[] = [];
    const got = decodeRangeResponse(r.body);
    const kv = got.kvs[0];
    if (
      got.count !== 1n ||
      kv === undefined ||
      Buffer.compare(Buffer.from(kv.value), Buffer.from(this.value)) !== 0
    ) {
      problems.push(
        `range of the bench key returned count ${got.count} and ${got.kvs.length} kvs, not the value written`,
      );
    }
    // A fresh store is at revision 1 and each put adds one; puts that failed may or may not have applied.
    const { acked, failed } = this.ledger;
    const rev = responseRevision(r.body);
    const want = BigInt(1 + acked);
    if (failed === 0 ? rev !== want : rev < want || rev > want + BigInt(failed)) {
      problems.push(
        `store revision is ${rev} after ${acked} acknowledged puts (${failed} failed); expected ${want}`,
      );
    }
    return problems;
  }
}

// Crash test: many concurrent writers put increasing values to their own keys while the server is
// killed with SIGKILL at random moments, several times, and restarted on the same data dir. After
// every restart every acknowledged write must be there (latest value ≥ last acknowledged; a read
// at each acknowledged revision returns exactly that value), and revisions never go back. Runs are
// bounded in writes and time; the seed is printed (set KETCH_E2E_SEED to replay a schedule).
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, target, type ServerHandle } from './harness.js';
import { GrpcConn, Code } from './grpc-wire.js';
import { call, Rpc } from './etcd-pb.js';

const WRITERS = 32;
const WRITERS_PER_CONN = 4;
const ROUNDS = 5;
const MAX_PUTS_PER_WRITER_PER_ROUND = 400;
const VERIFY_SAMPLE = 1500;
const COMPACTED = 'etcdserver: mvcc: required revision has been compacted';

interface Ack {
  key: string;
  seq: number;
  rev: bigint;
}

/** mulberry32: a small seeded PRNG so a failing kill schedule can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Writers {
  readonly acks: Ack[] = [];
  /** Highest sequence number ever sent (acknowledged or not) per key. */
  readonly attempted = new Map<string, number>();
  private nextSeq = new Map<string, number>();
  private stopped = false;
  private acked = 0;
  private onAck: (() => void) | undefined;

  constructor(readonly keys: string[]) {
    for (const k of keys) this.nextSeq.set(k, 1);
  }

  /** Writes until stopped, killed, or the per-round cap is reached; resolves when all writers end. */
  async round(url: string): Promise<void> {
    this.stopped = false;
    this.acked = 0;
    const conns: GrpcConn[] = [];
    for (let i = 0; i < this.keys.length / WRITERS_PER_CONN; i++) conns.push(new GrpcConn(url));
    await Promise.all(this.keys.map((key, i) => this.writer(conns[Math.floor(i / WRITERS_PER_CONN)]!, key)));
    for (const c of conns) c.destroy();
  }

  private async writer(conn: GrpcConn, key: string): Promise<void> {
    for (let n = 0; n < MAX_PUTS_PER_WRITER_PER_ROUND && !this.stopped; n++) {
      const seq = this.nextSeq.get(key)!;
      this.nextSeq.set(key, seq + 1);
      this.attempted.set(key, seq);
      let r;
      try {
        r = await call(conn, Rpc.Put, { key: Buffer.from(key), value: Buffer.from(String(seq)) }, 10_000);
      } catch {
        return; // the server died under us: this write is unacknowledged
      }
      if (r.code === Code.UNAVAILABLE) return; // e.g. "server stopped": not acknowledged
      if (r.code !== 0) throw new Error(`put ${key}=${seq}: status ${r.code} ${r.message}`);
      this.acks.push({ key, seq, rev: r.res!.header!.revision });
      this.acked++;
      this.onAck?.();
    }
  }

  /** Resolves once `n` writes of the current round are acknowledged (or the round ends). */
  whenAcked(n: number, ended: Promise<void>): Promise<void> {
    if (this.acked >= n) return Promise.resolve();
    return Promise.race([
      ended,
      new Promise<void>((res) => {
        this.onAck = () => {
          if (this.acked >= n) {
            this.onAck = undefined;
            res();
          }
        };
      }),
    ]);
  }

  stop(): void {
    this.stopped = true;
  }
}

/** Latest acknowledged write per key. */
function lastAcks(acks: Ack[]): Map<string, Ack> {
  const last = new Map<string, Ack>();
  for (const a of acks) if ((last.get(a.key)?.seq ?? 0) < a.seq) last.set(a.key, a);
  return last;
}

function sample<T>(xs: T[], n: number, rnd: () => number): T[] {
  if (xs.length <= n) return xs;
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(xs[Math.floor(rnd() * xs.length)]!);
  return out;
}

async function verify(url: string, w: Writers, checks: Ack[], minRevision: bigint): Promise<bigint> {
  const conn = new GrpcConn(url);
  try {
    const all = await call(conn, Rpc.Range, { key: Buffer.from('crash/'), rangeEnd: Buffer.from('crash0') });
    assert.equal(all.code, 0, all.message);
    const head = all.res!.header!.revision;
    assert.ok(head >= minRevision, `revision went back: ${head} after ${minRevision} was observed`);
    const latest = new Map(all.res!.kvs.map((kv) => [kv.key.toString(), kv]));
    const createRev = new Map<string, bigint>();
    for (const [key, ack] of lastAcks(w.acks)) {
      const kv = latest.get(key);
      assert.ok(kv !== undefined, `${key}: acknowledged ${ack.seq} at ${ack.rev}, now missing`);
      const v = Number(kv.value.toString());
      assert.ok(v >= ack.seq, `${key}: value ${v} < last acknowledged ${ack.seq}`);
      assert.ok(v <= w.attempted.get(key)!, `${key}: value ${v} was never written`);
      assert.ok(
        kv.modRevision >= ack.rev,
        `${key}: mod revision ${kv.modRevision} < acknowledged ${ack.rev}`,
      );
      assert.ok(BigInt(v) >= kv.version, `${key}: version ${kv.version} > writes ${v}`);
      createRev.set(key, kv.createRevision);
    }
    const inFlight = new Set<Promise<void>>();
    for (const ack of checks) {
      const p = (async () => {
        const r = await call(conn, Rpc.Range, { key: Buffer.from(ack.key), revision: ack.rev });
        if (r.code !== 0 && r.message === COMPACTED) return;
        assert.equal(r.code, 0, `${ack.key}@${ack.rev}: ${r.message}`);
        const kv = r.res!.kvs[0];
        assert.ok(
          kv !== undefined,
          `${ack.key}@${ack.rev}: acknowledged ${ack.seq}, missing at that revision`,
        );
        assert.equal(kv.value.toString(), String(ack.seq), `${ack.key}@${ack.rev}`);
        assert.equal(kv.modRevision, ack.rev, `${ack.key}@${ack.rev}: mod revision`);
        assert.equal(kv.createRevision, createRev.get(ack.key), `${ack.key}: create revision changed`);
      })().finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= 64) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    return head;
  } finally {
    conn.close();
  }
}

void describe(`crash: kill -9 under concurrent writes (${target()})`, () => {
  let server: ServerHandle | undefined;
  after(async () => {
    await server?.kill9();
  });

  void it(`every acknowledged write survives ${ROUNDS} kill -9s; revisions never go back`, async (t) => {
    const seed = Number(process.env['KETCH_E2E_SEED'] ?? Date.now() % 1_000_000);
    t.diagnostic(`seed ${seed} (KETCH_E2E_SEED=${seed} replays the kill schedule)`);
    const rnd = prng(seed);
    server = await startServer(target());
    const keys = Array.from({ length: WRITERS }, (_, i) => `crash/w${String(i).padStart(2, '0')}`);
    const w = new Writers(keys);
    let maxSeen = 0n;
    for (let round = 1; round <= ROUNDS; round++) {
      const before = w.acks.length;
      const ended = w.round(server.clientUrl);
      await w.whenAcked(1 + Math.floor(rnd() * 300), ended);
      await new Promise((r) => setTimeout(r, Math.floor(rnd() * 400)));
      await server.kill9();
      w.stop();
      await ended;
      const fresh = w.acks.slice(before);
      for (const a of fresh) {
        assert.ok(a.rev > maxSeen, `round ${round}: write acknowledged at ${a.rev}, not above ${maxSeen}`);
      }
      for (const a of fresh) if (a.rev > maxSeen) maxSeen = a.rev;
      assert.ok(fresh.length > 0, `round ${round}: some writes were acknowledged before the kill`);
      await server.restart();
      // Sometimes crash again right after recovery, before any new write.
      const again = rnd() < 0.4;
      if (again) {
        await server.kill9();
        await server.restart();
      }
      t.diagnostic(
        `round ${round}: ${fresh.length} acknowledged writes, kill -9${again ? ', restart, kill -9 again' : ''}; max revision ${maxSeen}`,
      );
      const checks = [...sample(fresh, VERIFY_SAMPLE, rnd), ...sample(w.acks.slice(0, before), 200, rnd)];
      maxSeen = await verify(server.clientUrl, w, checks, maxSeen);
    }
    await server.stop();
    await server.restart();
    await verify(server.clientUrl, w, sample(w.acks, VERIFY_SAMPLE, rnd), maxSeen);
    await server.stop();
  });
});

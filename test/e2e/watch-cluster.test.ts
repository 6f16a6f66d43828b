// Watch across a 3-member cluster (issue #5): a writer puts a few hundred keys under w/ through
// whichever member answers; a watch of w/ from revision 1 is opened on a FOLLOWER; the leader is
// killed with -9 midway; the client drops its stream and resumes on the other live member with
// start_revision = last seen + 1; the killed member is restarted and the client resumes once more
// on it. The pieces together must be exactly the committed history of w/ (checkResumedWatch against
// a watch of all keys from revision 1), every acknowledged write seen once with its value. Then a
// learner is added: ketch serves it a watch from revision 1 that sees the whole history; etcd 3.4
// refuses stream RPCs on a learner ("rpc not supported for learner"), which the etcd run checks.
// KETCH_E2E_TARGET=etcd runs the same file against Debian's etcd 3.4.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { target } from './harness.js';
import { Cluster, sleep, Writer, type Member } from './cluster.js';
import { WatchCall, type Event } from './watch-wire.js';
import { show } from './watch-helpers.js';
import { Collector, allEvents, specOf } from './watch-observe.js';
import {
  checkResumedWatch,
  checkWatch,
  historyFromEvents,
  type ObservedWatch,
  type WatchHistory,
} from '../../src/mvcc/watch-checker.js';

const kind = target();
const PREFIX = 'w/';
/** A bound on attempts (failed ones during the election count too); the test stops the writer earlier. */
const TOTAL = 5000;

async function until(
  what: string,
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** One piece of the resumed watch: a watch of w/ from `start` on `m`. */
function openPiece(m: Member, start: bigint): { member: Member; start: bigint; col: Collector } {
  const call = new WatchCall(m.clientUrl);
  call.create({ key: Buffer.from(PREFIX), rangeEnd: Buffer.from('w0'), startRevision: start });
  return { member: m, start, col: new Collector(call) };
}

const lastRev = (evs: readonly Event[]): bigint => evs[evs.length - 1]?.kv?.modRevision ?? 0n;

void describe(`watch on a 3-member ${kind} cluster`, () => {
  let c: Cluster;
  let history: WatchHistory;
  let finalRev = 0n;

  before(async () => {
    c = await Cluster.start(kind, 3);
  });
  after(async () => {
    await c?.stopAll();
  });

  const dumpLogs = (): void => {
    for (const m of c.members)
      process.stderr.write(`--- ${m.name} log tail:\n${m.server.logs().slice(-3000)}\n`);
  };

  void it('a follower watch resumed on another member after kill -9 of the leader loses and duplicates nothing', async () => {
    try {
      const leader = await c.waitLeader();
      const follower = c.members.find((m) => m !== leader)!;
      const other = c.members.find((m) => m !== leader && m !== follower)!;
      const w = new Writer(() => c.live().map((m) => m.clientUrl), PREFIX, TOTAL);
      const pieces = [openPiece(follower, 1n)];
      await pieces[0]!.col.nth((r) => r.created, 1, 'created on the follower');
      w.start();

      // Piece 0 on the follower, through the leader's kill -9 and a new election.
      await until('120 acknowledged writes', () => w.acked.size >= 120);
      await leader.server.kill9();
      await c.waitLeader(c.live());
      const afterKill = w.acked.size;
      await until('60 writes after the kill', () => w.acked.size >= afterKill + 60);

      // The client loses its stream to the follower and resumes on the other live member.
      const resume = async (to: Member): Promise<void> => {
        const prev = pieces[pieces.length - 1]!;
        await prev.col.waitUntil(() => true, 'drain');
        prev.col.call.close();
        const evs = allEvents(prev.col.responses);
        const next = openPiece(to, evs.length === 0 ? prev.start : lastRev(evs) + 1n);
        await next.col.nth((r) => r.created, 1, `created on ${to.name}`);
        pieces.push(next);
      };
      await resume(other);

      // The killed leader comes back; once it has caught up the client resumes on it.
      leader.server.spawn();
      await leader.server.waitHealthy();
      const atRestart = w.acked.size;
      await until('60 writes after the restart', () => w.acked.size >= atRestart + 60);
      await resume(leader);

      const atLast = w.acked.size;
      await until('60 writes after the last resumption', () => w.acked.size >= atLast + 60);
      await w.stop();
      const st = await c.waitConverged(c.live());
      finalRev = st[0]!.revision;
      const last = pieces[pieces.length - 1]!;
      await last.col.waitUntil(
        (rs) => lastRev(allEvents(rs)) >= finalRev,
        `the last piece (on ${last.member.name}) to reach revision ${finalRev}`,
      );

      // The committed history, from a watch of every key from revision 1 with prev_kv.
      const hist = new Collector(new WatchCall(other.clientUrl));
      hist.call.create({
        key: Buffer.from('\0'),
        rangeEnd: Buffer.from('\0'),
        startRevision: 1n,
        prevKv: true,
      });
      await hist.waitUntil((rs) => lastRev(allEvents(rs)) >= finalRev, `history through ${finalRev}`);
      hist.call.close();
      history = historyFromEvents(allEvents(hist.responses));

      const observed: ObservedWatch[] = pieces.map((p) => ({
        spec: specOf({ key: Buffer.from(PREFIX), rangeEnd: Buffer.from('w0'), startRevision: p.start }, 0n),
        responses: p.col.responses,
      }));
      const r = checkResumedWatch(history, observed);
      assert.ok(r.ok, `resumed watch: ${r.ok ? '' : show(r.violation)}`);

      // Every acknowledged write exactly once, with its value; anything else was attempted and unanswered.
      const seen = new Map<string, string>();
      for (const p of pieces)
        for (const e of allEvents(p.col.responses)) {
          const key = e.kv!.key.toString();
          assert.ok(!seen.has(key), `${key} delivered twice`);
          seen.set(key, e.kv!.value.toString());
        }
      for (const [key, value] of w.acked) assert.equal(seen.get(key), value, `acknowledged ${key}`);
      assert.ok(
        seen.size - w.acked.size <= w.failures,
        `${seen.size - w.acked.size} unacknowledged writes seen`,
      );
      assert.equal(r.summary.events, seen.size);
      assert.equal(r.summary.lastEventRev, finalRev);
      for (const p of pieces) p.col.call.close();
      process.stdout.write(
        `# ${kind}: ${w.acked.size} acknowledged, ${w.failures} failed attempts, ${seen.size} events over ` +
          `${pieces.length} pieces starting at ${pieces.map((p) => p.start).join(', ')}; final revision ${finalRev}\n`,
      );
    } catch (e) {
      dumpLogs();
      throw e;
    }
  });

  void it(
    kind === 'etcd'
      ? 'a learner refuses the Watch stream (etcd 3.4)'
      : 'a learner serves a watch from revision 1 with the whole history',
    async () => {
      assert.ok(history !== undefined, 'the first test ran');
      await c.waitLeader(c.live());
      const learner = await c.addMember('m4', { learner: true }, 30_000);
      await learner.server.waitHealthy({ serializable: true });
      const col = new Collector(new WatchCall(learner.clientUrl));
      col.call.create({
        key: Buffer.from(PREFIX),
        rangeEnd: Buffer.from('w0'),
        startRevision: 1n,
        prevKv: true,
      });
      try {
        if (kind === 'etcd') {
          const end = await col.call.ended;
          assert.deepStrictEqual(end, { code: 14, message: 'etcdserver: rpc not supported for learner' });
          return;
        }
        await col.waitUntil(
          (rs) => lastRev(allEvents(rs)) >= finalRev,
          `the learner's watch to reach ${finalRev}`,
        );
        const spec = specOf(
          { key: Buffer.from(PREFIX), rangeEnd: Buffer.from('w0'), startRevision: 1n, prevKv: true },
          0n,
        );
        const r = checkWatch(history, { spec, responses: col.responses });
        assert.ok(r.ok, `learner watch: ${r.ok ? '' : show(r.violation)}`);
        assert.equal(r.summary.lastEventRev, finalRev);
        assert.equal(r.summary.events, history.revisions.length);
      } catch (e) {
        dumpLogs();
        throw e;
      } finally {
        col.call.close();
      }
    },
  );
});

// The watch checker against hand-made streams over one small history: streams that keep every
// guarantee pass, and for each guarantee a stream that breaks it is caught with that guarantee
// and a message naming the event.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WatchResponse } from '../generated/etcdserverpb.js';
import type { Event, KeyValue } from '../generated/mvccpb.js';
import {
  checkResumedWatch,
  checkWatch,
  historyFromEvents,
  type ObservedResponse,
  type ObservedWatch,
  type WatchCheck,
  type WatchHistory,
} from './watch-checker.js';
import type { WatchSpec } from './watch-types.js';

const te = new TextEncoder();
const b = (s: string): Uint8Array => te.encode(s);

function kv(key: string, value: string, create: bigint, mod: bigint, ver: bigint): KeyValue {
  return { key: b(key), value: b(value), createRevision: create, modRevision: mod, version: ver, lease: 0n };
}
function put(key: string, value: string, create: bigint, mod: bigint, ver: bigint, prev?: KeyValue): Event {
  return prev === undefined
    ? { type: 0, kv: kv(key, value, create, mod, ver) }
    : { type: 0, kv: kv(key, value, create, mod, ver), prevKv: prev };
}
function del(key: string, mod: bigint, prev: KeyValue): Event {
  return {
    type: 1,
    kv: { key: b(key), value: b(''), createRevision: 0n, modRevision: mod, version: 0n, lease: 0n },
    prevKv: prev,
  };
}

// rev 2: put a=1 | rev 3: put b=1, put a=2 | rev 4: delete a | rev 5: put c=1 | rev 6: put a=3
// compacted at 3 when the store was at revision 4.
const A1 = put('a', '1', 2n, 2n, 1n);
const B1 = put('b', '1', 3n, 3n, 1n);
const A2 = put('a', '2', 2n, 3n, 2n, A1.kv);
const DA = del('a', 4n, A2.kv!);
const C1 = put('c', '1', 5n, 5n, 1n);
const A3 = put('a', '3', 6n, 6n, 1n);
const history: WatchHistory = {
  revisions: [
    { rev: 2n, events: [A1] },
    { rev: 3n, events: [B1, A2] },
    { rev: 4n, events: [DA] },
    { rev: 5n, events: [C1] },
    { rev: 6n, events: [A3] },
  ],
  compactions: [{ atRev: 4n, compactRev: 3n }],
};

/** Without prevKv, as a watcher that did not ask for it gets the event. */
const bare = (e: Event): Event => ({ type: e.type, kv: e.kv });

function spec(over: Partial<WatchSpec> = {}): WatchSpec {
  return {
    key: b('a'),
    end: new Uint8Array(0),
    startRev: 2n,
    prevKv: false,
    noPut: false,
    noDelete: false,
    ...over,
  };
}
const PREFIX_ALL: Partial<WatchSpec> = { key: b(''), end: new Uint8Array([0]) };

function resp(over: Partial<ObservedResponse>): ObservedResponse {
  return { created: false, canceled: false, compactRevision: 0n, fragment: false, events: [], ...over };
}
const created = (rev = 1n): ObservedResponse => resp({ created: true, header: { revision: rev } });
const events = (...evs: Event[]): ObservedResponse =>
  resp({ header: { revision: 6n }, events: evs.map(bare) });
const progress = (rev: bigint): ObservedResponse => resp({ header: { revision: rev } });
const watch = (s: WatchSpec, ...responses: ObservedResponse[]): ObservedWatch => ({ spec: s, responses });

function violation(r: WatchCheck): { guarantee: string; response: number; message: string } {
  assert.equal(r.ok, false, 'expected a violation');
  if (r.ok) throw new Error('unreachable');
  return r.violation;
}

void describe('watch checker: streams that keep the guarantees', () => {
  void it('accepts a key watch with events, multi-revision responses and progress notifications', () => {
    const r = checkWatch(
      history,
      watch(spec(), created(), events(A1), events(A2, DA), progress(5n), events(A3), progress(6n)),
    );
    assert.deepEqual(r, {
      ok: true,
      summary: {
        start: 2n,
        claimedThrough: 6n,
        lastEventRev: 6n,
        events: 4,
        compactedAt: 0n,
        canceled: false,
      },
    });
  });

  void it('a watch from now starts after the created header revision; prevKv and filters are honoured', () => {
    const fromNow = spec({ startRev: 0n, prevKv: true, noPut: true });
    const r = checkWatch(
      history,
      watch(fromNow, created(3n), resp({ header: { revision: 4n }, events: [DA] })),
    );
    assert.equal(r.ok, true);
  });

  void it('accepts a revision split into fragments when fragments were asked for', () => {
    const w: ObservedWatch = {
      spec: spec({ ...PREFIX_ALL, startRev: 3n }),
      fragment: true,
      responses: [created(), resp({ fragment: true, events: [bare(B1)] }), resp({ events: [bare(A2)] })],
    };
    assert.equal(checkWatch(history, w).ok, true);
  });

  void it('accepts created then canceled with the compaction revision for a compacted start', () => {
    const r = checkWatch(history, watch(spec(), created(5n), resp({ canceled: true, compactRevision: 3n })));
    assert.equal(r.ok && r.summary.compactedAt, 3n);
  });

  void it('accepts a watch from the compaction revision itself, which etcd still serves', () => {
    const r = checkWatch(history, watch(spec({ startRev: 3n }), created(5n), events(A2, DA)));
    assert.equal(r.ok && r.summary.events, 2);
  });

  void it('accepts a missing prevKv only where the previous value was compacted away', () => {
    const withPrev = spec({ startRev: 3n, prevKv: true });
    const atCompaction = resp({ header: { revision: 5n }, events: [bare(A2), DA] });
    assert.equal(checkWatch(history, watch(withPrev, created(5n), atCompaction)).ok, true);
    const afterIt = resp({ header: { revision: 5n }, events: [A2, bare(DA)] });
    const v = violation(checkWatch(history, watch(withPrev, created(5n), afterIt)));
    assert.equal(v.guarantee, 'valid');
    assert.match(v.message, /^DELETE "a" .* prev none differs from the committed DELETE "a"/);
  });

  void it('takes decoded etcdserverpb.WatchResponse messages and a history built from events as they are', () => {
    const wire = [
      WatchResponse.create({
        header: { clusterId: 1n, memberId: 2n, revision: 1n, raftTerm: 2n },
        created: true,
      }),
      WatchResponse.create({
        header: { clusterId: 1n, memberId: 2n, revision: 6n, raftTerm: 2n },
        events: [B1, A2],
      }),
    ].map((m) => WatchResponse.decode(WatchResponse.encode(m)));
    const built = historyFromEvents([A1, B1, A2, DA, C1, A3], history.compactions);
    assert.deepEqual(built, history);
    const r = checkWatch(built, watch(spec({ ...PREFIX_ALL, startRev: 3n, prevKv: true }), ...wire));
    assert.equal(r.ok && r.summary.claimedThrough, 3n);
    assert.throws(() => historyFromEvents([A1, DA]), /events jump from revision 2 to 4/);
  });

  void it('accepts a watch resumed at last seen + 1 on another member', () => {
    const first = watch(spec(), created(), events(A1), events(A2));
    const second = watch(spec({ startRev: 4n }), created(5n), events(DA, A3));
    const r = checkResumedWatch(history, [first, second]);
    assert.equal(r.ok && r.summary.events, 4);
  });
});

void describe('watch checker: each broken guarantee is caught', () => {
  void it('ordered: a later revision before an earlier one, and sub-revisions out of order', () => {
    const v = violation(checkWatch(history, watch(spec(), created(), events(A2), events(A1))));
    assert.deepEqual(v, {
      guarantee: 'ordered',
      response: 1,
      message: 'PUT "a" at 3.1 comes before PUT "a" at 2.0 (response #2)',
    });
    const w = violation(
      checkWatch(history, watch(spec({ ...PREFIX_ALL, startRev: 3n }), created(), events(A2, B1))),
    );
    assert.equal(w.guarantee, 'ordered');
    assert.equal(w.message, 'PUT "a" at 3.1 comes before PUT "b" at 3.0 (response #1)');
  });

  void it('unique: the same event twice', () => {
    const v = violation(checkWatch(history, watch(spec(), created(), events(A1), events(A1))));
    assert.deepEqual(v, {
      guarantee: 'unique',
      response: 2,
      message: 'PUT "a" at 2.0 delivered again (first in response #1)',
    });
  });

  void it('reliable: a gap between delivered events', () => {
    const v = violation(checkWatch(history, watch(spec(), created(), events(A1), events(DA))));
    assert.deepEqual(v, {
      guarantee: 'reliable',
      response: 2,
      message: 'gap: PUT "a" at 3.1 was never delivered, but DELETE "a" at 4.0 was',
    });
  });

  void it('atomic: one revision split over two responses without fragments', () => {
    const v = violation(
      checkWatch(history, watch(spec({ ...PREFIX_ALL, startRev: 3n }), created(), events(B1), events(A2))),
    );
    assert.equal(v.guarantee, 'atomic');
    assert.equal(
      v.message,
      'revision 3 is split: 1 of the 2 events of revision 3 in response #1, PUT "a" at 3.1 in response #2',
    );
  });

  void it('bookmarkable: a progress notification past an undelivered event', () => {
    const v = violation(checkWatch(history, watch(spec(), created(), events(A1), progress(3n), events(A2))));
    assert.deepEqual(v, {
      guarantee: 'bookmarkable',
      response: 2,
      message:
        'progress notification at 3, but PUT "a" at 3.1 had not been delivered (it came in response #3)',
    });
  });

  void it('resumable: a resumed watch repeating what was seen, or resuming at the wrong revision', () => {
    const first = watch(spec(), created(), events(A1), events(A2));
    const repeats = watch(spec({ startRev: 4n }), created(5n), events(A2, DA));
    const v = violation(checkResumedWatch(history, [first, repeats]));
    assert.equal(v.guarantee, 'resumable');
    assert.equal(v.message, 'piece 1 (start 4): PUT "a" at 3.1 is before the resumed start revision 4');
    const late = watch(spec({ startRev: 5n }), created(5n), events(A3));
    const w = violation(checkResumedWatch(history, [first, late]));
    assert.equal(w.guarantee, 'resumable');
    assert.match(w.message, /^piece 1 resumes at revision 5, but piece 0 had its last event at 3/);
  });

  void it('compaction: canceled as compacted though nothing it needed was, or with a wrong revision', () => {
    const needless = watch(
      spec({ startRev: 4n }),
      created(5n),
      events(DA),
      resp({ canceled: true, compactRevision: 3n }),
    );
    const v = violation(checkWatch(history, needless));
    assert.equal(v.guarantee, 'compaction');
    assert.equal(
      v.message,
      'canceled with compact_revision 3, but it had been given everything through 4 and needed no revision below 3',
    );
    const atTheEdge = watch(
      spec({ startRev: 3n }),
      created(5n),
      resp({ canceled: true, compactRevision: 3n }),
    );
    assert.match(
      violation(checkWatch(history, atTheEdge)).message,
      /everything through 2 and needed no revision below 3/,
    );
    const wrongRev = watch(spec(), created(5n), resp({ canceled: true, compactRevision: 4n }));
    assert.match(
      violation(checkWatch(history, wrongRev)).message,
      /^compact_revision 4 is not a revision the store was compacted at \(3\)/,
    );
    const stale = watch(
      spec(),
      created(),
      resp({ header: { revision: 6n }, canceled: true, compactRevision: 3n }),
    );
    assert.equal(checkWatch(history, stale).ok, true);
    const tooEarly = watch(
      spec(),
      created(),
      resp({ header: { revision: 3n }, canceled: true, compactRevision: 3n }),
    );
    assert.match(
      violation(checkWatch(history, tooEarly)).message,
      /^compact_revision 3 in a response at revision 3/,
    );
  });

  void it('compaction: a watch created with a compacted start is given events', () => {
    const v = violation(checkWatch(history, watch(spec(), created(5n), events(A1))));
    assert.equal(v.guarantee, 'compaction');
    assert.equal(
      v.message,
      'PUT "a" at 2.0 delivered, but the start revision 2 had been compacted (at 3) before the watch was created',
    );
  });

  void it('valid: an event the history does not hold, one outside the watch, one without the asked prevKv', () => {
    const wrong = put('a', 'X', 2n, 2n, 1n);
    assert.match(
      violation(checkWatch(history, watch(spec(), created(), events(wrong)))).message,
      /differs from the committed PUT "a"/,
    );
    assert.match(
      violation(checkWatch(history, watch(spec(), created(), events(B1)))).message,
      /PUT "b" .* does not match the watch/,
    );
    const wantsPrev = spec({ startRev: 4n, prevKv: true });
    assert.equal(violation(checkWatch(history, watch(wantsPrev, created(), events(DA)))).guarantee, 'valid');
  });

  void it('protocol: no created response first, a response after the cancel, fragments nobody asked for', () => {
    assert.equal(
      violation(checkWatch(history, watch(spec(), events(A1)))).message,
      'the first response is not the created response',
    );
    const after = watch(spec(), created(), resp({ canceled: true }), events(A1));
    assert.equal(violation(checkWatch(history, after)).message, 'a response after the cancel in response #1');
    const frag = watch(spec(), created(), resp({ fragment: true, events: [bare(A1)] }), events(A2));
    assert.equal(violation(checkWatch(history, frag)).message, 'a fragment, which the watch did not ask for');
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventLatencyRecorder, readDecimal } from './watch-accounting.js';

test('every watcher getting every acknowledged put once, in order, is complete and problem-free', () => {
  const rec = new EventLatencyRecorder(2, 3, 1);
  for (let s = 0; s < 3; s++) rec.sent(s, 100 * s);
  for (let s = 0; s < 3; s++) rec.acked(s, 10 + s);
  for (let s = 0; s < 3; s++) for (let w = 0; w < 2; w++) rec.event(w, s, 10 + s, 100 * s + 1 + w);
  const a = rec.finish();
  assert.deepEqual(
    [a.putsSent, a.putsAcked, a.putErrors, a.expectedEvents, a.receivedEvents, a.watchersShort],
    [3, 3, 0, 6, 6, 0],
  );
  assert.deepEqual(a.problems, []);
  // Put 0 is warm-up: 4 samples (puts 1 and 2, two watchers) of 1 ms and 2 ms.
  assert.equal(a.timedEvents, 4);
  assert.deepEqual([a.latency.count, a.latency.p50Ms, a.latency.maxMs], [4, 1, 2]);
});

test('a watcher that misses a put is counted short; received stays below expected', () => {
  const rec = new EventLatencyRecorder(2, 2, 0);
  rec.sent(0, 0);
  rec.sent(1, 0);
  rec.acked(0, 5);
  rec.acked(1, 6);
  rec.event(0, 0, 5, 1);
  rec.event(0, 1, 6, 1);
  rec.event(1, 1, 6, 1);
  const a = rec.finish();
  assert.deepEqual([a.expectedEvents, a.receivedEvents, a.watchersShort], [4, 3, 1]);
});

test('duplicates, reordering, unknown puts and revision mismatches are problems, counted', () => {
  const rec = new EventLatencyRecorder(1, 3, 0);
  rec.sent(0, 0);
  rec.sent(1, 0);
  rec.acked(0, 5);
  rec.event(0, 0, 5, 1);
  rec.event(0, 0, 5, 1); // duplicate
  rec.event(0, 2, 9, 1); // put 2 was never sent
  rec.event(0, 1, 7, 1);
  rec.acked(1, 6); // the reply names another revision than the event had
  rec.event(0, 0, 4, 1); // below what the watcher saw
  assert.deepEqual(rec.finish().problems, [
    'a watcher got an event at or below a revision it had already seen (duplicate or out of order) (×2)',
    'an event whose value names no put that was sent',
    'a put answered with revision 6 reached watchers at revision 7',
  ]);
});

test('failed puts are not expected from watchers; in-flight counts sent minus answered', () => {
  const rec = new EventLatencyRecorder(3, 3, 0);
  rec.sent(0, 0);
  rec.sent(1, 0);
  rec.sent(2, 0);
  assert.equal(rec.putsInFlight, 3);
  rec.acked(0, 2);
  rec.failed(1);
  assert.equal(rec.putsInFlight, 1);
  const a = rec.finish();
  assert.deepEqual([a.putsAcked, a.putErrors, a.expectedEvents], [1, 1, 3]);
});

test('puts must be sent in order and within the bound', () => {
  const rec = new EventLatencyRecorder(1, 1, 0);
  assert.throws(() => rec.sent(1, 0), /sent out of turn/);
  rec.sent(0, 0);
  assert.throws(() => rec.sent(1, 0), /sent out of turn/);
  assert.throws(() => new EventLatencyRecorder(1, 2, 3), RangeError);
});

test('readDecimal reads fixed-width digits and refuses anything else', () => {
  const b = new TextEncoder().encode('000000001234....');
  assert.equal(readDecimal(b, 0, 12), 1234);
  assert.ok(Number.isNaN(readDecimal(b, 4, 12)));
  assert.ok(Number.isNaN(readDecimal(b, 10, 12)));
});

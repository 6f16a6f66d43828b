import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PausableSchedule } from './watch-schedule.js';

/** A manual run queue: nothing runs until drain(). */
function manual(): { run: (fn: () => void) => void; drain: () => void } {
  const q: (() => void)[] = [];
  return {
    run: (fn) => q.push(fn),
    drain: () => {
      while (q.length > 0) q.shift()!();
    },
  };
}

void describe('PausableSchedule', () => {
  void it('runs steps through the underlying schedule when not paused', () => {
    const m = manual();
    const s = new PausableSchedule(m.run);
    const ran: number[] = [];
    s.schedule(() => ran.push(1));
    s.schedule(() => ran.push(2));
    assert.equal(ran.length, 0);
    m.drain();
    assert.deepStrictEqual(ran, [1, 2]);
  });

  void it('holds steps that come due while paused and runs them in order after resume', () => {
    const m = manual();
    const s = new PausableSchedule(m.run);
    const ran: number[] = [];
    s.schedule(() => ran.push(1));
    s.pause();
    s.schedule(() => ran.push(2));
    m.drain();
    assert.equal(ran.length, 0);
    assert.equal(s.paused, true);
    s.schedule(() => ran.push(3));
    s.resume();
    assert.equal(s.paused, false);
    m.drain();
    assert.deepStrictEqual(ran, [1, 2, 3]);
  });

  void it('a pause during the resumed steps holds the rest again', () => {
    const m = manual();
    const s = new PausableSchedule(m.run);
    const ran: number[] = [];
    s.pause();
    s.schedule(() => {
      ran.push(1);
      s.pause();
    });
    s.schedule(() => ran.push(2));
    m.drain();
    s.resume();
    m.drain();
    assert.deepStrictEqual(ran, [1]);
    s.resume();
    m.drain();
    assert.deepStrictEqual(ran, [1, 2]);
  });
});

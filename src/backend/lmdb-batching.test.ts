// The LMDB backend's batched commits: reads merge the pending overlay with what is already in
// LMDB (puts win, deletes hide, limits and early stops hold), a throwing write leaves nothing,
// flushes happen at the batch limit, on the timer and in sync(), and a random workload reads the
// same as the memory backend whatever the flush points.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utf8, fromUtf8 } from '../base/bytes.js';
import type { Backend, BackendEntry } from './backend.js';
import { LmdbBackend, type LmdbBackendOptions } from './lmdb-backend.js';
import { MemoryBackend } from './memory-backend.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function openLmdb(opts: Omit<LmdbBackendOptions, 'path'> = {}, path?: string): LmdbBackend {
  const dir = path ?? mkdtempSync(join(tmpdir(), 'ketch-batching-'));
  if (path === undefined) dirs.push(dir);
  return LmdbBackend.open({ path: dir, ...opts });
}

/** A timer the test fires by hand. */
function manualTimer(): { set: NonNullable<LmdbBackendOptions['setTimer']>; fire(): void; armed(): boolean } {
  let pending: (() => void) | undefined;
  return {
    set: (fn) => {
      pending = fn;
      return () => {
        pending = undefined;
      };
    },
    fire: () => {
      const fn = pending;
      pending = undefined;
      fn?.();
    },
    armed: () => pending !== undefined,
  };
}

const k = (s: string): Uint8Array => utf8(s);
const pairs = (es: BackendEntry[]): string[] => es.map((e) => `${fromUtf8(e.key)}=${fromUtf8(e.value)}`);

/** Flushed: a=1 b=2 c=3 d=4 e=5; pending on top: b deleted, c=C, bb=BB, f=F, d deleted. */
function mixed(): LmdbBackend {
  const b = openLmdb({ setTimer: manualTimer().set });
  b.write((tx) => {
    for (const [i, s] of ['a', 'b', 'c', 'd', 'e'].entries()) tx.put('key', k(s), k(String(i + 1)));
  });
  b.flush();
  b.write((tx) => {
    assert.equal(tx.delete('key', k('b')), true);
    tx.put('key', k('c'), k('C'));
    tx.put('key', k('bb'), k('BB'));
  });
  b.write((tx) => {
    tx.put('key', k('f'), k('F'));
    assert.equal(tx.delete('key', k('d')), true);
    assert.equal(tx.delete('key', k('zz')), false);
  });
  assert.equal(b.pendingCount(), 5);
  return b;
}

void describe('LMDB backend batching', () => {
  void it('merges flushed and pending keys in get, range and forEach', async () => {
    const b = mixed();
    b.read((tx) => {
      assert.deepEqual(pairs(tx.range('key', k(''), undefined)), ['a=1', 'bb=BB', 'c=C', 'e=5', 'f=F']);
      assert.deepEqual(pairs(tx.range('key', k('b'), k('e'))), ['bb=BB', 'c=C']);
      assert.deepEqual(pairs(tx.range('key', k('a'), undefined, 3)), ['a=1', 'bb=BB', 'c=C']);
      assert.deepEqual(pairs(tx.range('key', k('c'), undefined, 2)), ['c=C', 'e=5']);
      assert.equal(tx.get('key', k('b')), undefined);
      assert.equal(tx.peek('key', k('d')), undefined);
      assert.equal(fromUtf8(tx.get('key', k('c'))!), 'C');
      assert.equal(fromUtf8(tx.peek('key', k('e'))!), '5');
      assert.equal(tx.get('meta', k('c')), undefined);
    });
    const seen: string[] = [];
    b.read((tx) =>
      tx.forEach('key', k('a'), undefined, (key) => {
        seen.push(fromUtf8(key));
        return seen.length < 3;
      }),
    );
    assert.deepEqual(seen, ['a', 'bb', 'c']);
    await b.close();
  });

  void it('reads inside a write see staged over pending over flushed', async () => {
    const b = mixed();
    b.write((tx) => {
      tx.put('key', k('b'), k('again'));
      assert.equal(tx.delete('key', k('c')), true);
      assert.equal(tx.delete('key', k('e')), true);
      assert.equal(tx.delete('key', k('e')), false);
      assert.deepEqual(pairs(tx.range('key', k(''), undefined)), ['a=1', 'b=again', 'bb=BB', 'f=F']);
      assert.deepEqual(
        b.read((r) => pairs(r.range('key', k('b'), undefined, 2))),
        ['b=again', 'bb=BB'],
      );
    });
    b.flush();
    assert.equal(b.pendingCount(), 0);
    assert.deepEqual(
      b.read((tx) => pairs(tx.range('key', k(''), undefined))),
      ['a=1', 'b=again', 'bb=BB', 'f=F'],
    );
    await b.close();
  });

  void it('a write that throws leaves nothing behind and runs only its abort hooks', async () => {
    const b = mixed();
    const before = b.read((tx) => pairs(tx.range('key', k(''), undefined)));
    const events: string[] = [];
    assert.throws(
      () =>
        b.write((tx) => {
          tx.onCommit(() => events.push('commit'));
          tx.onAbort(() => events.push('abort'));
          tx.put('key', k('a'), k('changed'));
          tx.put('key', k('new'), k('x'));
          tx.delete('key', k('c'));
          tx.delete('key', k('e'));
          throw new Error('boom');
        }),
      /boom/,
    );
    assert.deepEqual(events, ['abort']);
    assert.equal(b.pendingCount(), 5);
    assert.deepEqual(
      b.read((tx) => pairs(tx.range('key', k(''), undefined))),
      before,
    );
    b.write((tx) => tx.onCommit(() => events.push('commit')));
    assert.deepEqual(events, ['abort', 'commit']);
    await b.close();
  });

  void it('flushes at the batch limit, on the timer, and in sync()', async () => {
    const timer = manualTimer();
    const b = openLmdb({ batchLimitOps: 4, setTimer: timer.set });
    b.write((tx) => tx.put('meta', k('x'), k('1')));
    assert.equal(b.pendingCount(), 1);
    assert.equal(timer.armed(), true);
    timer.fire();
    assert.equal(b.pendingCount(), 0);
    b.write((tx) => {
      for (const s of ['p', 'q', 'r']) tx.put('meta', k(s), k(s));
    });
    assert.equal(b.pendingCount(), 3);
    b.write((tx) => tx.put('lease', k('s'), k('s')));
    assert.equal(b.pendingCount(), 0, 'the fourth op reaches the limit');
    assert.equal(timer.armed(), false);
    b.write((tx) => tx.delete('meta', k('p')));
    assert.equal(b.pendingCount(), 1);
    await b.sync();
    assert.equal(b.pendingCount(), 0);
    assert.deepEqual(
      b.read((tx) => pairs(tx.range('meta', k(''), undefined))),
      ['q=q', 'r=r', 'x=1'],
    );
    await b.close();
  });

  void it('sync() and close() put pending writes into the file', async () => {
    const b = openLmdb({ setTimer: manualTimer().set });
    const path = (b as unknown as { path: string }).path;
    b.write((tx) => tx.put('key', k('kept'), k('v')));
    await b.sync();
    b.write((tx) => tx.put('key', k('at-close'), k('w')));
    await b.close();
    const r = openLmdb({}, path);
    assert.deepEqual(
      r.read((tx) => pairs(tx.range('key', k(''), undefined))),
      ['at-close=w', 'kept=v'],
    );
    await r.close();
  });

  void it('reads the same as the memory backend under a random workload and random flushes', async () => {
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const key = (): Uint8Array => new Uint8Array([rand(4), rand(6)]);
    const b = openLmdb({ batchLimitOps: 37, setTimer: manualTimer().set });
    const m = new MemoryBackend();
    const both = (fn: (x: Backend) => void): void => [b, m].forEach(fn);
    for (let step = 0; step < 2000; step++) {
      const ops = Array.from({ length: 1 + rand(4) }, () => ({
        del: rand(3) === 0,
        key: key(),
        v: rand(1000),
      }));
      const fails = rand(10) === 0;
      both((x) => {
        try {
          x.write((tx) => {
            for (const op of ops) {
              if (op.del) tx.delete('key', op.key);
              else tx.put('key', op.key, new Uint8Array([op.v & 0xff, op.v >> 8]));
            }
            if (fails) throw new Error('rolled back');
          });
        } catch (err) {
          assert.equal((err as Error).message, 'rolled back');
        }
      });
      if (rand(50) === 0) b.flush();
      const start = key();
      const end = rand(4) === 0 ? undefined : key();
      const limit = rand(3) === 0 ? rand(5) : undefined;
      const [got, want] = [b, m].map((x) => x.read((tx) => tx.range('key', start, end, limit)));
      assert.deepEqual(
        got!.map((e) => [...e.key, ...e.value]),
        want!.map((e) => [...e.key, ...e.value]),
      );
      const probe = key();
      const [g, w] = [b, m].map((x) => x.read((tx) => tx.get('key', probe)));
      assert.deepEqual(g === undefined ? undefined : [...g], w === undefined ? undefined : [...w]);
    }
    await b.close();
  });
});

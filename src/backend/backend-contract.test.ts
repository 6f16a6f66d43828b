// One contract, every Backend implementation: the memory backend and the LMDB backend must behave
// identically for everything the interface promises.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utf8, fromUtf8 } from '../base/bytes.js';
import type { Backend } from './backend.js';
import { MemoryBackend } from './memory-backend.js';
import { LmdbBackend, type LmdbBackendOptions } from './lmdb-backend.js';

interface Impl {
  name: string;
  make(): Backend;
  /** Closes and reopens the same storage; undefined when the implementation has none. */
  reopen?: (b: Backend) => Promise<Backend>;
}

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const impls: Impl[] = [
  { name: 'memory', make: () => new MemoryBackend() },
  lmdbImpl('lmdb (batched commits)', {}),
  lmdbImpl('lmdb (flush after every write)', { batchLimitOps: 1 }),
];

function lmdbImpl(name: string, opts: Omit<LmdbBackendOptions, 'path'>): Impl {
  return {
    name,
    make: () => {
      const dir = mkdtempSync(join(tmpdir(), 'ketch-backend-'));
      dirs.push(dir);
      return LmdbBackend.open({ path: dir, ...opts });
    },
    reopen: async (b) => {
      const path = (b as unknown as { path: string }).path;
      await b.close();
      return LmdbBackend.open({ path, ...opts });
    },
  };
}

const k = (s: string): Uint8Array => utf8(s);
const keysOf = (entries: { key: Uint8Array }[]): string[] => entries.map((e) => fromUtf8(e.key));

for (const impl of impls) {
  void describe(`Backend contract: ${impl.name}`, () => {
    void it('stores, overwrites and deletes values per bucket', async () => {
      const b = impl.make();
      b.write((tx) => {
        tx.put('key', k('a'), k('1'));
        tx.put('meta', k('a'), k('meta-a'));
      });
      assert.equal(
        b.read((tx) => fromUtf8(tx.get('key', k('a'))!)),
        '1',
      );
      assert.equal(
        b.read((tx) => fromUtf8(tx.get('meta', k('a'))!)),
        'meta-a',
      );
      assert.equal(
        b.read((tx) => tx.get('lease', k('a'))),
        undefined,
      );
      b.write((tx) => tx.put('key', k('a'), k('2')));
      assert.equal(
        b.read((tx) => fromUtf8(tx.get('key', k('a'))!)),
        '2',
      );
      assert.equal(
        b.write((tx) => tx.delete('key', k('a'))),
        true,
      );
      assert.equal(
        b.write((tx) => tx.delete('key', k('a'))),
        false,
      );
      assert.equal(
        b.read((tx) => tx.get('key', k('a'))),
        undefined,
      );
      await b.close();
    });

    void it('stores empty values and binary keys with zero and 0xff bytes', async () => {
      const b = impl.make();
      const keys = [
        new Uint8Array([0]),
        new Uint8Array([0, 0]),
        new Uint8Array([0xff]),
        new Uint8Array([1, 0xff, 0]),
      ];
      b.write((tx) => {
        for (const key of keys) tx.put('key', key, new Uint8Array(0));
      });
      for (const key of keys) assert.deepEqual(Array.from(b.read((tx) => tx.get('key', key))!), []);
      const all = b.read((tx) => tx.range('key', new Uint8Array([0]), undefined));
      assert.deepEqual(
        all.map((e) => [...e.key]),
        [[0], [0, 0], [1, 0xff, 0], [0xff]],
      );
      await b.close();
    });

    void it('round-trips values of every size class, through get and range', async () => {
      const b = impl.make();
      const sizes = [0, 1, 63, 64, 65, 1000, 4096, 4097, 9000, 100000];
      const valueOf = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + n) & 0xff);
      b.write((tx) => {
        for (const n of sizes)
          tx.put('key', new Uint8Array([n >> 16, (n >> 8) & 0xff, n & 0xff]), valueOf(n));
      });
      const got = sizes.map((n) =>
        b.read((tx) => tx.get('key', new Uint8Array([n >> 16, (n >> 8) & 0xff, n & 0xff]))!),
      );
      sizes.forEach((n, i) => assert.deepEqual(Array.from(got[i]!), Array.from(valueOf(n)), `size ${n}`));
      for (const n of sizes) {
        const peeked = b.read((tx) =>
          Array.from(tx.peek('key', new Uint8Array([n >> 16, (n >> 8) & 0xff, n & 0xff]))!),
        );
        assert.deepEqual(peeked, Array.from(valueOf(n)), `peek size ${n}`);
      }
      assert.equal(
        b.read((tx) => tx.peek('key', k('missing'))),
        undefined,
      );
      const ranged = b.read((tx) => tx.range('key', new Uint8Array(0), undefined));
      assert.deepEqual(
        ranged.map((e) => e.value.length),
        sizes,
      );
      await b.close();
    });

    void it('ranges [start, end) in byte order, with limit and open end', async () => {
      const b = impl.make();
      b.write((tx) => {
        for (const s of ['b', 'a', 'ab', 'c', 'ba', 'd', 'aa']) tx.put('key', k(s), k(s.toUpperCase()));
      });
      assert.deepEqual(keysOf(b.read((tx) => tx.range('key', k('a'), k('c')))), ['a', 'aa', 'ab', 'b', 'ba']);
      assert.deepEqual(keysOf(b.read((tx) => tx.range('key', k('ab'), undefined))), [
        'ab',
        'b',
        'ba',
        'c',
        'd',
      ]);
      assert.deepEqual(keysOf(b.read((tx) => tx.range('key', k('a'), undefined, 2))), ['a', 'aa']);
      assert.deepEqual(keysOf(b.read((tx) => tx.range('key', k('a'), undefined, 0))).length, 7);
      assert.deepEqual(keysOf(b.read((tx) => tx.range('key', k('e'), undefined))), []);
      assert.deepEqual(keysOf(b.read((tx) => tx.range('key', k('c'), k('a')))), []);
      const values = b.read((tx) => tx.range('key', k('b'), k('c'))).map((e) => fromUtf8(e.value));
      assert.deepEqual(values, ['B', 'BA']);
      await b.close();
    });

    void it('forEach streams in order and stops when the visitor returns false', async () => {
      const b = impl.make();
      b.write((tx) => {
        for (let i = 0; i < 50; i++) tx.put('lease', new Uint8Array([i]), new Uint8Array([i, i]));
      });
      const seen: number[] = [];
      b.read((tx) =>
        tx.forEach('lease', new Uint8Array([10]), new Uint8Array([40]), (key, value) => {
          assert.deepEqual(Array.from(value), [key[0]!, key[0]!]);
          seen.push(key[0]!);
          return seen.length < 5;
        }),
      );
      assert.deepEqual(seen, [10, 11, 12, 13, 14]);
      await b.close();
    });

    void it('a write transaction sees its own writes, through tx and through read()', async () => {
      const b = impl.make();
      b.write((tx) => tx.put('key', k('x'), k('old')));
      b.write((tx) => {
        tx.put('key', k('x'), k('new'));
        tx.put('key', k('y'), k('y'));
        tx.delete('key', k('x'));
        assert.equal(tx.get('key', k('x')), undefined);
        assert.deepEqual(keysOf(tx.range('key', k('a'), undefined)), ['y']);
        assert.deepEqual(keysOf(b.read((r) => r.range('key', k('a'), undefined))), ['y']);
      });
      await b.close();
    });

    void it('a throwing write rolls back every put and delete and runs abort hooks', async () => {
      const b = impl.make();
      b.write((tx) => {
        tx.put('key', k('keep'), k('v1'));
        tx.put('key', k('gone'), k('v1'));
      });
      const events: string[] = [];
      assert.throws(
        () =>
          b.write((tx) => {
            tx.onCommit(() => events.push('commit'));
            tx.onAbort(() => events.push('abort'));
            tx.put('key', k('keep'), k('v2'));
            tx.put('key', k('keep'), k('v3'));
            tx.delete('key', k('gone'));
            tx.put('key', k('new'), k('v'));
            tx.put('meta', k('m'), k('v'));
            throw new Error('boom');
          }),
        /boom/,
      );
      assert.deepEqual(events, ['abort']);
      assert.equal(
        b.read((tx) => fromUtf8(tx.get('key', k('keep'))!)),
        'v1',
      );
      assert.equal(
        b.read((tx) => fromUtf8(tx.get('key', k('gone'))!)),
        'v1',
      );
      assert.equal(
        b.read((tx) => tx.get('key', k('new'))),
        undefined,
      );
      assert.equal(
        b.read((tx) => tx.get('meta', k('m'))),
        undefined,
      );
      // The backend is still usable afterwards.
      b.write((tx) => tx.put('key', k('after'), k('ok')));
      assert.equal(
        b.read((tx) => fromUtf8(tx.get('key', k('after'))!)),
        'ok',
      );
      await b.close();
    });

    void it('returns the callback result and runs commit hooks in order after commit', async () => {
      const b = impl.make();
      const events: string[] = [];
      const r = b.write((tx) => {
        tx.onCommit(() => events.push(`first:${b.read((t) => fromUtf8(t.get('key', k('h'))!))}`));
        tx.onCommit(() => events.push('second'));
        tx.put('key', k('h'), k('committed'));
        return 42;
      });
      assert.equal(r, 42);
      assert.deepEqual(events, ['first:committed', 'second']);
      await b.close();
    });

    void it('refuses nested writes and asynchronous callbacks', async () => {
      const b = impl.make();
      assert.throws(() => b.write(() => b.write(() => 1)), /do not nest/);
      assert.throws(() => b.write(async () => 1), /synchronous/);
      b.write((tx) => tx.put('key', k('a'), k('b')));
      assert.equal(
        b.read((tx) => fromUtf8(tx.get('key', k('a'))!)),
        'b',
      );
      await b.close();
    });

    void it('copies put bytes and hands out bytes that later writes do not change', async () => {
      const b = impl.make();
      const key = k('key1');
      const value = k('value1');
      b.write((tx) => tx.put('key', key, value));
      key[0] = 0x41;
      value[0] = 0x41;
      const got = b.read((tx) => tx.get('key', k('key1')))!;
      const ranged = b.read((tx) => tx.range('key', k('key1'), undefined))[0]!;
      assert.equal(fromUtf8(got), 'value1');
      b.write((tx) => tx.put('key', k('key1'), k('other!')));
      assert.equal(fromUtf8(got), 'value1');
      assert.equal(fromUtf8(ranged.key), 'key1');
      assert.equal(fromUtf8(ranged.value), 'value1');
      await b.close();
    });

    void it('sync resolves and sizes grow with data', async () => {
      const b = impl.make();
      const before = b.sizeBytes();
      const inUseBefore = b.sizeInUseBytes();
      b.write((tx) => {
        for (let i = 0; i < 2000; i++)
          tx.put('key', k(`k${String(i).padStart(5, '0')}`), new Uint8Array(100));
      });
      await b.sync();
      assert.ok(b.sizeBytes() > before);
      assert.ok(b.sizeInUseBytes() > inUseBefore);
      assert.ok(b.sizeInUseBytes() <= b.sizeBytes());
      await b.close();
    });

    const reopen = impl.reopen;
    if (reopen !== undefined) {
      void it('keeps committed data across close and reopen', async () => {
        let b = impl.make();
        b.write((tx) => {
          for (let i = 0; i < 100; i++) tx.put('members', new Uint8Array([i]), new Uint8Array([i]));
        });
        b = await reopen(b);
        const all = b.read((tx) => tx.range('members', new Uint8Array(0), undefined));
        assert.equal(all.length, 100);
        assert.deepEqual([Array.from(all[99]!.key), Array.from(all[99]!.value)], [[99], [99]]);
        await b.close();
      });
    }
  });
}

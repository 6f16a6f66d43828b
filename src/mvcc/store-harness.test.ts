// Test harness shared by the store tests (named .test.ts so it may use node:* and lmdb; it holds
// no tests itself): one store per backend implementation, reopening on the same storage, and
// one-line helpers for put/delete/compact in their own backend transactions.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromUtf8, utf8 } from '../base/bytes.js';
import type { Backend } from '../backend/backend.js';
import { LmdbBackend } from '../backend/lmdb-backend.js';
import { MemoryBackend } from '../backend/memory-backend.js';
import type { Event, KeyValue } from './key-value.js';
import type { CompactionJob } from './compaction.js';
import { KVStore, type KVStoreOptions } from './kv-store.js';

export interface BackendImpl {
  name: string;
  make(): Backend;
  /** The same storage, as after a restart (memory: the same object; LMDB: closed and reopened). */
  reopen(b: Backend): Promise<Backend>;
  cleanup(): void;
}

export function backendImpls(): BackendImpl[] {
  const dirs: string[] = [];
  const paths = new Map<Backend, string>();
  return [
    {
      name: 'memory',
      make: () => new MemoryBackend(),
      reopen: (b) => Promise.resolve(b),
      cleanup: () => {},
    },
    {
      name: 'lmdb',
      make: () => {
        const dir = mkdtempSync(join(tmpdir(), 'ketch-mvcc-'));
        dirs.push(dir);
        const b = LmdbBackend.open({ path: dir });
        paths.set(b, dir);
        return b;
      },
      reopen: async (b) => {
        const dir = paths.get(b)!;
        await b.close();
        const nb = LmdbBackend.open({ path: dir });
        paths.set(nb, dir);
        return nb;
      },
      cleanup: () => {
        for (const d of dirs) rmSync(d, { recursive: true, force: true });
      },
    },
  ];
}

export const k = utf8;
export const ALL_END = new Uint8Array([0]);

export function put(s: KVStore, key: string, value: string, lease = 0n): Event[] {
  return s.backend.write((tx) => {
    const txn = s.write(tx);
    txn.put(utf8(key), utf8(value), lease);
    return txn.end();
  });
}

export function del(s: KVStore, key: string, end?: string): Event[] {
  return s.backend.write((tx) => {
    const txn = s.write(tx);
    txn.deleteRange(utf8(key), end === undefined ? undefined : utf8(end));
    return txn.end();
  });
}

export function compact(s: KVStore, rev: bigint): CompactionJob {
  return s.backend.write((tx) => s.compact(tx, rev));
}

export function open(b: Backend, opts?: KVStoreOptions): KVStore {
  return KVStore.open(b, opts);
}

/** A KeyValue as a compact string: key=value c<create> m<mod> v<version> [l<lease>]. */
export function show(kv: KeyValue): string {
  const lease = kv.lease === 0n ? '' : ` l${kv.lease}`;
  return `${fromUtf8(kv.key)}=${fromUtf8(kv.value)} c${kv.createRevision} m${kv.modRevision} v${kv.version}${lease}`;
}

/** Every kv in the store at rev (all keys), as strings. */
export function dump(s: KVStore, rev = 0n): string[] {
  return s.range(utf8('\0'), ALL_END, { rev }).kvs.map(show);
}

/** Every revision key in the backend's key bucket, as "main.sub" (+ "t"). */
export function storedRevisions(b: Backend): string[] {
  return b.read((tx) =>
    tx.range('key', new Uint8Array(0), undefined).map((e) => {
      const v = new DataView(e.key.buffer, e.key.byteOffset, e.key.byteLength);
      return `${v.getBigInt64(0)}.${v.getBigInt64(9)}${e.key.length === 18 ? 't' : ''}`;
    }),
  );
}

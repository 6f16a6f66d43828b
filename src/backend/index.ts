// Layer `backend`: the storage under mvcc, lease, auth and the server's meta data. It owns
// - the Backend interface (backend.ts): named buckets of byte keys/values in byte order,
//   synchronous read snapshots and synchronous all-or-nothing write transactions, sync() as the
//   durability point, file size and in-use size;
// - two implementations that one contract test runs against: MemoryBackend (tests, simulator)
//   and LmdbBackend (the real one; the only importer of the `lmdb` package), which batches its
//   LMDB commits like etcd's bbolt backend behind an in-memory overlay of pending changes that
//   every read merges in (overlay.ts), flushing on a size limit, a timer, sync() and close();
// - SortedMap, the B+tree ordered map the memory backend and mvcc's tree index are built on,
//   and copyBytes, the cheap copy of small byte arrays both backends use.
// Invariants: a write transaction is atomic (a throw rolls back all of it) and sees its own
// writes; write transactions never nest; bytes handed out are never mutated afterwards.
// May import: src/base, and (lmdb-backend.ts only) the `lmdb` package and node:* built-ins.
export * from './backend.js';
export * from './memory-backend.js';
export * from './lmdb-backend.js';
export * from './sorted-map.js';
export * from './copy-bytes.js';

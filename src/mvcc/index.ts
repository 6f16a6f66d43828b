// Layer `mvcc`: the multi-version key-value store. It owns
// - the revision codec (revision.ts) and the KeyValue/Event shapes with the protobuf codec of
//   the values the `key` bucket stores (key-value.ts, etcd's on-disk format);
// - keyIndex with generations (key-index.ts) and the B+tree tree index (tree-index.ts);
// - KVStore (kv-store.ts): reads at a revision, write transactions inside a caller-owned backend
//   transaction (kv-txn.ts), compaction with scheduled/finished markers that resumes after a
//   crash (compaction.ts), index rebuild on open (restore.ts), and etcd 3.4's HashKV;
// - WatchableStore (watchable-store.ts): synced/unsynced watcher groups indexed by key and by
//   range (watch-group.ts, watch-interval-tree.ts), small watchers (watch-watcher.ts), events
//   shared and encoded once (watch-events.ts), bounded catch-up from the key bucket; its contract
//   with sinks is watch-types.ts.
// Invariants: every change of one TxnWrite shares one main revision; the index and the key bucket
// always describe the same history; nothing reads a clock or random numbers.
// May import: src/base, src/backend, src/generated.
export * from './revision.js';
export * from './key-value.js';
export * from './key-index.js';
export * from './tree-index.js';
export * from './kv-txn.js';
export * from './compaction.js';
export * from './kv-store.js';
export * from './watch-types.js';
export * from './watchable-store.js';

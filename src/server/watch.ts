// What the API layers (gRPC Watch, the JSON gateway) use of a member's watchable store. They may
// not import src/mvcc themselves (DESIGN §2), so the contract of mvcc/watch-types.ts and the
// store's type are re-exported here; the store itself is EtcdServer.watchable.
export type { SharedEvent, WatchBatch, Watcher, WatchSink, WatchSpec } from '../mvcc/watch-types.js';
export type { WatchableStore } from '../mvcc/watchable-store.js';

// Folder `server/concurrency`: etcd 3.4's lock and election recipes (the v3lock and v3election
// services), run inside the member as etcd runs them over an in-process clientv3. It owns
// - KvClient (kv-client.ts): Txn, Range, DeleteRange and lease grants through the same checks,
//   quota and raft proposals as a client's requests, with their response headers;
// - KeyWatch, waitDelete(s) (key-watch.ts): waiting on the member's WatchableStore for keys to go;
// - sessions and key names (session.ts): lease 0 gets a fresh 60 s lease; keys are `name/<lease hex>`;
// - lock/unlock (mutex.ts), campaign/proclaim/resign/leader (election.ts), observe (observe.ts).
// Invariants: every write takes the one write path (a proposal through raft); a lock or campaign
// that is given up, or whose wait fails, removes its key (a campaign only when given up, as etcd);
// a lock waiter whose key vanished while it waited is refused ("mutex: session is expired").
// Errors are EtcdErrors with etcd's messages; the gRPC layer decides their status codes.
// May import what src/server may import.
export * from './kv-client.js';
export * from './key-watch.js';
export * from './session.js';
export * from './mutex.js';
export * from './election.js';
export * from './observe.js';

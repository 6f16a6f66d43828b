// src/transport — the real PeerTransport (DESIGN §2): raft messages and snapshots between ketch
// members over HTTP/2 (h2c on http:// peer URLs; https:// is not implemented and refused at start).
//
// Owns: the peer listener (one TCP server per --listen-peer-urls entry, sniffing HTTP/2 from
// HTTP/1.1), POST /raft/stream (a long-lived stream of length-prefixed raftpb Messages per peer,
// batched per write, pipelined, bounded queue, reconnect with exponential backoff), POST
// /raft/snapshot (one connection per snapshot, body chunked with backpressure, answered 204 once the
// receiver has persisted it), GET /members, /version and /raft/probing, and the checks every
// request passes (cluster ID, sender and recipient IDs) with etcd's rafthttp log wording.
// Invariants: send() never blocks or throws for a peer's sake (it queues or drops, and drops are
// reported unreachable); messages to a peer arrive in send order on one connection; every
// sendSnapshot ends in exactly one reportSnapshot (unless the transport is stopped first); a request
// from another cluster, for another member or from a removed member is refused before any of it is
// processed; malformed input drops that connection and is logged, never crashes the process.
// May import: src/base, src/generated, src/raft (types and codec), src/server (the PeerTransport
// interface, the version), node:*. Members talk only to members: no wire compatibility with etcd's
// rafthttp is attempted, though raft messages use raftpb's encoding.

export { HttpPeerTransport, type HttpPeerTransportOptions } from './http-peer-transport.js';
export { DEFAULT_TRANSPORT_LIMITS, resolveLimits, type TransportLimits } from './limits.js';
export type { PeerSenderStats } from './peer-sender.js';

// Layer `lease`: leases, the keys attached to them, and when they expire. It owns
// - Lease and the limits (lease.ts): MAX_LEASE_TTL, the minimum TTL rule, the revoke rate and the
//   checkpoint batch size, as etcd 3.4 has them;
// - the Lessor (lessor.ts), in two halves:
//   * replicated state, changed only by applying entries: grant, revoke (after the server deleted
//     the keys keysToRevoke named, in the same backend transaction), checkpoint of a remaining TTL,
//     attach/detach of keys on put/delete. Pure: no clock, no randomness; the `lease` bucket is
//     written in the caller's transaction in etcd's format (lease-codec.ts: 8-byte big-endian ID →
//     leasepb.Lease {ID, TTL, RemainingTTL}) and read back by Lessor.open (a snapshot's new
//     backend gets a new Lessor);
//   * the leader side (primary.ts), present only between promote and demote and driven by an
//     injected Clock: a min-heap of revoke deadlines (lease-queue.ts), renewals, TimeToLive, the
//     expired leases the server must propose revokes for (retried until revoked), and the
//     checkpoints (each lease's remaining TTL, once per interval when it changed, ≤ 1000 per entry)
//     that let a new leader continue from what was left instead of the full TTL;
// - the leasepb codecs the peer forwarding of LeaseTimeToLive uses (lease-codec.ts).
// Invariants: followers never expire a lease; a lease's keys are exactly the live keys whose
// `lease` field names it; a revoke leaves no key attached.
// May import: src/base, src/backend, src/generated.
export * from './lease.js';
export * from './lease-codec.js';
export * from './lease-queue.js';
export * from './lessor.js';

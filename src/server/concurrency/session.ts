// Sessions and key names as etcd's concurrency package has them (clientv3/concurrency/session.go):
// a request naming lease 0 gets a fresh lease of the default session TTL, which nobody keeps alive
// (etcd's lock and election servers orphan the session at once), so its keys go after 60 s unless
// the caller renews that lease itself. A nonzero lease is taken as given, checked only when a key
// is put with it.
import { concatBytes, utf8 } from '../../base/bytes.js';
import type { KvClient } from './kv-client.js';

/** clientv3/concurrency's defaultSessionTTL, in seconds. */
export const DEFAULT_SESSION_TTL_SECONDS = 60n;

/** The session lease a request runs under: its own, or a new one when it names none. */
export async function sessionLease(client: KvClient, lease: bigint, signal: AbortSignal): Promise<bigint> {
  if (lease !== 0n) return lease;
  return client.grant(DEFAULT_SESSION_TTL_SECONDS, signal);
}

/** Go's %x of an int64: lower-case hex, a minus sign before the magnitude of a negative value. */
export function leaseHex(lease: bigint): string {
  return lease < 0n ? `-${(-lease).toString(16)}` : lease.toString(16);
}

const SLASH = utf8('/');

/** The election or lock prefix: the name and a slash. */
export function prefixOf(name: Uint8Array): Uint8Array {
  return concatBytes(name, SLASH);
}

/** A session's key under a prefix: the prefix and the lease in hex. */
export function sessionKey(pfx: Uint8Array, lease: bigint): Uint8Array {
  return concatBytes(pfx, utf8(leaseHex(lease)));
}

// Named limits of the peer transport (DESIGN §5.6), with etcd's rafthttp values where it has one,
// validated when a transport is constructed.

export interface TransportLimits {
  /** Messages queued for one peer before further ones are dropped (etcd's streamBufSize). */
  maxQueuedMessages: number;
  /** Encoded bytes queued for one peer before further messages are dropped. */
  maxQueuedBytes: number;
  /** Most bytes put into one write on a message stream; a burst beyond it takes several writes. */
  maxBatchBytes: number;
  /** Largest frame (one encoded message or snapshot chunk) a receiver accepts. */
  maxFrameBytes: number;
  /** Size of the chunks a snapshot's body is cut into on the wire. */
  snapshotChunkBytes: number;
  /** First reconnect delay after a failure; doubled per failed attempt up to backoffMaxMs. */
  backoffMinMs: number;
  backoffMaxMs: number;
  /** How long a connection attempt may take until the peer answers the stream request. */
  dialTimeoutMs: number;
  /**
   * Interval of HTTP/2 PINGs on every peer connection (both ends ping), and how long an unanswered
   * one is tolerated before the connection is dropped: this is how a stopped or cut-off peer is told
   * from a quiet one.
   */
  pingIntervalMs: number;
  pingTimeoutMs: number;
  /** HTTP/2 receive windows: per stream and per connection. */
  streamWindowBytes: number;
  connectionWindowBytes: number;
}

export const DEFAULT_TRANSPORT_LIMITS: Readonly<TransportLimits> = Object.freeze({
  maxQueuedMessages: 4096,
  maxQueuedBytes: 64 * 1024 * 1024,
  maxBatchBytes: 4 * 1024 * 1024,
  maxFrameBytes: 64 * 1024 * 1024,
  snapshotChunkBytes: 256 * 1024,
  backoffMinMs: 100,
  backoffMaxMs: 5000,
  dialTimeoutMs: 5000,
  pingIntervalMs: 1000,
  pingTimeoutMs: 5000,
  streamWindowBytes: 4 * 1024 * 1024,
  connectionWindowBytes: 16 * 1024 * 1024,
});

/** Node's per-connection HTTP/2 memory cap (MB): room for the receive windows above, and to spare. */
export const SESSION_MEMORY_MB = 256;

const HTTP2_MAX_WINDOW = 2 ** 31 - 1;

/** The defaults overridden by `given`; throws a RangeError naming the first limit that is invalid. */
export function resolveLimits(given: Partial<TransportLimits> = {}): TransportLimits {
  const l: TransportLimits = { ...DEFAULT_TRANSPORT_LIMITS, ...given };
  for (const [name, v] of Object.entries(l)) {
    if (!(Number.isSafeInteger(v) && v > 0))
      throw new RangeError(`transport limit ${name} must be a positive integer, got ${v}`);
  }
  const check = (ok: boolean, what: string): void => {
    if (!ok) throw new RangeError(`transport limits: ${what}`);
  };
  check(l.backoffMinMs <= l.backoffMaxMs, 'backoffMinMs must not exceed backoffMaxMs');
  check(l.snapshotChunkBytes <= l.maxFrameBytes, 'snapshotChunkBytes must not exceed maxFrameBytes');
  check(l.maxFrameBytes <= 0xffffffff, 'maxFrameBytes must fit the 32-bit frame length');
  check(
    l.streamWindowBytes >= 65535 && l.streamWindowBytes <= HTTP2_MAX_WINDOW,
    'streamWindowBytes out of HTTP/2 range',
  );
  check(
    l.connectionWindowBytes >= 65535 && l.connectionWindowBytes <= HTTP2_MAX_WINDOW,
    'connectionWindowBytes out of HTTP/2 range',
  );
  return l;
}

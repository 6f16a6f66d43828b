// The Watch service (etcd 3.4's v3rpc watchServer): one WatchStream per bidi call. Responses are
// written as pre-encoded frames (watch-encode.ts), so the method is bound with a response codec
// that passes bytes through; requests, the interceptor and error conversion are bind.ts's.
//
// Lifetime, as in etcd: a client that half-closes keeps its watchers (etcd's recv loop ends, the
// stream stays); the call ends when the client cancels or disconnects, the server shuts down, or —
// for a call with `hasleader: true` metadata — when this member has known no leader for three
// election timeouts running (etcd's monitorLeader), which ends it with "etcdserver: no leader".
// Ending the call cancels every watcher of the stream.
import { assert } from '../../base/assert.js';
import { Err, EtcdError } from '../../base/errors.js';
import type { Logger } from '../../base/log.js';
import { silentLogger } from '../../base/log.js';
import { WatchService, type WatchRequest } from '../../generated/etcdserverpb.js';
import type { MessageCodec, ServiceDescriptor } from '../../generated/wire.js';
import { EMPTY_BYTES } from '../../generated/wire.js';
import { GRPC_OVERHEAD_BYTES } from '../../server/limits.js';
import { bindService, type BidiStream, type BindOptions, type GrpcServerPort } from './bind.js';
import { METADATA_HAS_LEADER, METADATA_REQUIRE_LEADER_KEY } from './interceptors.js';
import { FRAME_BYTES } from './watch-encode.js';
import { WatchStream, type WatchHost } from './watch-stream.js';

/** etcd's default progress report interval, used when the flag is 0. */
export const DEFAULT_PROGRESS_INTERVAL_MS = 10 * 60 * 1000;
/** etcd's minWatchProgressInterval: shorter settings are raised to it. */
export const MIN_PROGRESS_INTERVAL_MS = 100;
/** etcd's maxNoLeaderCnt: election timeouts without a leader before hasleader streams end. */
const MAX_NO_LEADER_CHECKS = 3;

/** What the service needs from its member. EtcdServer satisfies it. */
export interface WatchServer extends WatchHost {
  readonly leaderId: bigint;
  readonly electionMs: number;
  readonly opts: { readonly maxRequestBytes: number };
}

export interface WatchServiceOptions {
  /** --experimental-watch-progress-notify-interval in ms; 0 = etcd's default (10 min). */
  progressNotifyIntervalMs?: number;
  logger?: Logger;
}

/** The response codec of the bound method: responses are already framed WatchResponse bytes. */
const framedResponse: MessageCodec<Uint8Array> = {
  typeName: 'etcdserverpb.WatchResponse',
  create: () => EMPTY_BYTES,
  encode: (m) => m.subarray(FRAME_BYTES),
  encodeWithHeader: (m, headerBytes) => {
    assert(headerBytes === FRAME_BYTES, 'watch responses are framed for a 5-byte prefix');
    return m;
  },
  decode: (b) => b,
  _size: () => {
    throw new Error('framed watch responses are not nested');
  },
  _write: () => {
    throw new Error('framed watch responses are not nested');
  },
  _read: () => {
    throw new Error('framed watch responses are not nested');
  },
};

const FramedWatchService = {
  name: WatchService.name,
  methods: { Watch: { ...WatchService.methods.Watch, response: framedResponse } },
} as const satisfies ServiceDescriptor;

/** The progress interval etcd would use for a flag value (ms), with the warning it logs. */
export function progressIntervalMs(flagMs: number, logger: Logger): number {
  if (flagMs <= 0) return DEFAULT_PROGRESS_INTERVAL_MS;
  if (flagMs < MIN_PROGRESS_INTERVAL_MS) {
    logger.warn('adjusting watch progress notify interval to minimum period', {
      'min-watch-progress-notify-interval': `${MIN_PROGRESS_INTERVAL_MS}ms`,
    });
    return MIN_PROGRESS_INTERVAL_MS;
  }
  return flagMs;
}

/**
 * etcd's monitorLeader: every election timeout, count checks without a leader; at three in a row
 * every registered stream is ended. Its timer runs only while some stream is registered.
 */
export class LeaderMonitor {
  private readonly streams = new Set<() => void>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private noLeaderChecks = 0;

  constructor(
    private readonly leaderId: () => bigint,
    private readonly intervalMs: number,
  ) {}

  /** Registers a stream; `lost` ends it. Returns the unregister function. */
  add(lost: () => void): () => void {
    this.streams.add(lost);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.check(), this.intervalMs);
      this.timer.unref();
    }
    return () => {
      this.streams.delete(lost);
      if (this.streams.size === 0 && this.timer !== undefined) {
        clearInterval(this.timer);
        this.timer = undefined;
        this.noLeaderChecks = 0;
      }
    };
  }

  check(): void {
    this.noLeaderChecks = this.leaderId() === 0n ? this.noLeaderChecks + 1 : 0;
    if (this.noLeaderChecks < MAX_NO_LEADER_CHECKS) return;
    for (const lost of [...this.streams]) lost();
  }
}

/** The Watch service's implementation for bindService. */
export function watchService(server: WatchServer, opts: WatchServiceOptions = {}) {
  const logger = opts.logger ?? silentLogger;
  const interval = progressIntervalMs(opts.progressNotifyIntervalMs ?? 0, logger);
  const monitor = new LeaderMonitor(() => server.leaderId, server.electionMs);
  const streamOpts = {
    maxResponseBytes: server.opts.maxRequestBytes + GRPC_OVERHEAD_BYTES,
    startTicker: (tick: () => void) => {
      // etcd adds up to a tenth of the interval as jitter, so streams opened together do not tick together.
      const t = setInterval(tick, interval + Math.floor(Math.random() * (interval / 10)));
      t.unref();
      return () => clearInterval(t);
    },
  };
  return {
    Watch(call: BidiStream<WatchRequest, Uint8Array>): Promise<void> {
      const stream = new WatchStream(server, call, streamOpts);
      return new Promise<void>((resolve, reject) => {
        let unregister: (() => void) | undefined;
        const finish = (err?: Error): void => {
          stream.close();
          unregister?.();
          if (err === undefined) resolve();
          else reject(err);
        };
        if (call.signal.aborted) return finish();
        call.signal.addEventListener('abort', () => finish(), { once: true });
        if (call.metadata[METADATA_REQUIRE_LEADER_KEY] === METADATA_HAS_LEADER) {
          unregister = monitor.add(() => finish(new EtcdError(Err.noLeader)));
        }
        readRequests(call, stream).catch((e: unknown) =>
          finish(e instanceof Error ? e : new Error('watch request stream failed')),
        );
      });
    },
  };
}

/** Handles requests in order; waits while the stream is over its bound. Half-close just ends reading. */
async function readRequests(call: AsyncIterable<WatchRequest>, stream: WatchStream): Promise<void> {
  for await (const req of call) {
    if (stream.closed) return;
    stream.handle(req);
    const w = stream.writable();
    if (w !== undefined) await w;
  }
}

/** Registers the Watch service on the gRPC server. */
export function bindWatchService(
  grpc: GrpcServerPort,
  server: WatchServer,
  bindOpts: BindOptions,
  opts: WatchServiceOptions = {},
): void {
  bindService(grpc, FramedWatchService, watchService(server, { logger: bindOpts.logger, ...opts }), bindOpts);
}

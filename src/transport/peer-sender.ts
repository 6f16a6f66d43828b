// The sending side of one peer's message stream: one HTTP/2 connection, one long-lived POST
// /raft/stream whose body carries length-prefixed messages. Messages are queued (bounded, as
// etcd's stream writer buffer) and every write takes all that is queued, so a burst costs a few
// writes; nothing waits for a reply (pipelining). On any failure the connection is torn down, what
// was queued is dropped and reported unreachable, and a new connection is tried after an
// exponential backoff; while there is no connection, messages are dropped and reported at once.
//
// States: connecting (request sent, no answer yet; messages queue) → active (200 received; queue
// flushed as it fills) → backoff (waiting to retry; messages dropped) → connecting … ; stopped is
// final. Every asynchronous event carries the attempt number it belongs to and is ignored if stale.

import http2 from 'node:http2';
import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders } from 'node:http2';
import type { Logger } from '../base/log.js';
import { approxMessageBytes, encodedMessageSize } from '../raft/raft-codec.js';
import { messageTypeName, type Message } from '../raft/types.js';
import type { PeerHandler } from '../server/peer-transport.js';
import { encodeMessageFrames } from './frame.js';
import {
  ERR_CLUSTER_ID_MISMATCH,
  ERR_MEMBER_REMOVED,
  HEADER_CLUSTER_ID,
  HEADER_FROM,
  HEADER_TO,
  PATH_STREAM,
  idHex,
} from './headers.js';
import { keepAlive } from './keepalive.js';
import { SESSION_MEMORY_MB, type TransportLimits } from './limits.js';

export interface SenderContext {
  localId: bigint;
  clusterId: bigint;
  logger: Logger;
  limits: TransportLimits;
  nowMs: () => number;
  handler(): PeerHandler | undefined;
  /** A peer answered that this member was removed from the cluster. */
  onRemoved(byPeer: bigint): void;
}

export interface PeerSenderStats {
  /** Writes on the stream (each carries one batch of messages). */
  writes: number;
  messagesSent: number;
  /** Messages dropped: queue full, no connection, or lost with a failed connection. */
  dropped: number;
  /** Connections that reached the active state. */
  connects: number;
}

type State = 'connecting' | 'active' | 'backoff' | 'stopped';

/** Request headers every peer request carries. */
export function peerHeaders(ctx: SenderContext, to: bigint, path: string): http2.OutgoingHttpHeaders {
  return {
    ':method': 'POST',
    ':path': path,
    'content-type': 'application/octet-stream',
    [HEADER_CLUSTER_ID]: idHex(ctx.clusterId),
    [HEADER_FROM]: idHex(ctx.localId),
    [HEADER_TO]: idHex(to),
  };
}

export class PeerSender {
  private state: State = 'backoff';
  private attempt = 0;
  private urlIndex = 0;
  private session: ClientHttp2Session | undefined;
  private stream: ClientHttp2Stream | undefined;
  private stopKeepAlive: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private queue: Message[] = [];
  private queuedBytes = 0;
  private waitingDrain = false;
  private flushScheduled = false;
  private overflowLogged = false;
  private backoffMs: number;
  private since: number | undefined;
  readonly stats: PeerSenderStats = { writes: 0, messagesSent: 0, dropped: 0, connects: 0 };

  constructor(
    private readonly ctx: SenderContext,
    readonly id: bigint,
    private urls: readonly string[],
  ) {
    if (urls.length === 0) throw new Error(`peer ${idHex(id)} has no URLs`);
    this.backoffMs = ctx.limits.backoffMinMs;
    this.warnUnsupported(urls);
    this.connect();
  }

  private get fields(): Record<string, string> {
    return { 'local-member-id': idHex(this.ctx.localId), 'remote-peer-id': idHex(this.id) };
  }

  /** The URL currently used (or next to be tried). */
  url(): string {
    return this.urls[this.urlIndex % this.urls.length]!;
  }

  activeSince(): number | undefined {
    return this.state === 'active' ? this.since : undefined;
  }

  private warnUnsupported(urls: readonly string[]): void {
    for (const u of urls) {
      if (!u.startsWith('http://')) {
        this.ctx.logger.warn(
          'unsupported peer URL: only http:// (HTTP/2 cleartext) is implemented between peers',
          {
            ...this.fields,
            url: u,
          },
        );
      }
    }
  }

  updateUrls(urls: readonly string[]): void {
    if (urls.length === 0) throw new Error(`peer ${idHex(this.id)} has no URLs`);
    this.warnUnsupported(urls);
    const current = this.url();
    this.urls = [...urls];
    const i = this.urls.indexOf(current);
    if (i >= 0) {
      this.urlIndex = i;
      return;
    }
    this.urlIndex = 0;
    if (this.state === 'connecting' || this.state === 'active')
      this.fail(this.attempt, 'peer URLs changed', true);
  }

  send(m: Message): void {
    if (this.state === 'stopped') return;
    if (this.state === 'backoff') {
      this.drop(m, false);
      return;
    }
    const size = approxMessageBytes(m);
    const l = this.ctx.limits;
    if (size > l.maxFrameBytes && encodedMessageSize(m) > l.maxFrameBytes) {
      // The receiver would drop the connection over it: never put it on the wire.
      this.ctx.logger.warn('dropped internal Raft message larger than the frame limit', {
        'message-type': messageTypeName(m.type),
        ...this.fields,
        bytes: encodedMessageSize(m),
        limit: l.maxFrameBytes,
      });
      this.drop(m, false);
      return;
    }
    if (this.queue.length >= l.maxQueuedMessages || this.queuedBytes + size > l.maxQueuedBytes) {
      this.drop(m, true);
      return;
    }
    this.queue.push(m);
    this.queuedBytes += size;
    if (this.state === 'active' && !this.flushScheduled) {
      this.flushScheduled = true;
      // Everything sent in this turn of the event loop goes into one write.
      queueMicrotask(() => this.flush());
    }
  }

  private drop(m: Message, full: boolean): void {
    this.stats.dropped++;
    if (full && !this.overflowLogged) {
      this.overflowLogged = true; // once per episode: a full buffer drops thousands in a row
      this.ctx.logger.warn(
        'dropped internal Raft message since sending buffer is full (overloaded network)',
        {
          'message-type': messageTypeName(m.type),
          ...this.fields,
          'remote-peer-active': this.state === 'active',
        },
      );
    }
    this.ctx.handler()?.reportUnreachable(this.id);
  }

  private flush(): void {
    this.flushScheduled = false;
    const stream = this.stream;
    if (this.state !== 'active' || stream === undefined) return;
    const l = this.ctx.limits;
    while (this.queue.length > 0 && !this.waitingDrain) {
      let n = 0;
      let bytes = 0;
      while (
        n < this.queue.length &&
        (n === 0 || bytes + approxMessageBytes(this.queue[n]!) <= l.maxBatchBytes)
      ) {
        bytes += approxMessageBytes(this.queue[n]!);
        n++;
      }
      const batch = this.queue.splice(0, n);
      this.queuedBytes -= bytes;
      this.stats.writes++;
      this.stats.messagesSent += batch.length;
      if (!stream.write(encodeMessageFrames(batch))) {
        this.waitingDrain = true;
        const gen = this.attempt;
        stream.once('drain', () => {
          if (gen !== this.attempt) return;
          this.waitingDrain = false;
          this.flush();
        });
      }
    }
    if (this.queue.length === 0) this.overflowLogged = false;
  }

  private connect(): void {
    const gen = ++this.attempt;
    this.state = 'connecting';
    this.timer = undefined;
    const l = this.ctx.limits;
    const url = this.url();
    let session: ClientHttp2Session;
    try {
      session = http2.connect(url, {
        settings: { initialWindowSize: l.streamWindowBytes },
        maxSessionMemory: SESSION_MEMORY_MB,
      });
    } catch (err) {
      // An unusable URL (it came from the member list): keep retrying, as for an unreachable peer.
      this.fail(gen, `cannot connect to ${url}: ${String(err)}`);
      return;
    }
    this.session = session;
    session.on('error', (err: Error) => this.fail(gen, `connection error: ${err.message}`));
    session.on('close', () => this.fail(gen, 'connection closed'));
    session.once('connect', () => {
      try {
        session.setLocalWindowSize(l.connectionWindowBytes);
      } catch {
        // Already closing; the close handler takes over.
      }
    });
    const req = session.request(peerHeaders(this.ctx, this.id, PATH_STREAM), { endStream: false });
    this.stream = req;
    req.on('response', (headers) => this.onResponse(gen, req, headers));
    req.on('error', (err: Error) => this.fail(gen, `stream error: ${err.message}`));
    req.on('close', () => this.fail(gen, 'stream closed'));
    this.timer = setTimeout(() => this.fail(gen, `no answer within ${l.dialTimeoutMs} ms`), l.dialTimeoutMs);
  }

  private onResponse(gen: number, req: ClientHttp2Stream, headers: IncomingHttpHeaders): void {
    if (gen !== this.attempt) return;
    const status = Number(headers[':status']);
    if (status === 200) {
      this.activate(gen);
      return;
    }
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => {
      if (body.length < 1024) body += d;
    });
    req.on('end', () => {
      if (gen !== this.attempt) return;
      this.refused(status, body.trim(), String(headers[HEADER_CLUSTER_ID] ?? ''));
      this.fail(gen, `refused with HTTP ${status}: ${body.trim()}`, true);
    });
  }

  private refused(status: number, body: string, remoteClusterId: string): void {
    const lg = this.ctx.logger;
    if (status === 412 && body === ERR_CLUSTER_ID_MISMATCH) {
      lg.warn('request sent was ignored by remote peer due to cluster ID mismatch', {
        'remote-peer-id': idHex(this.id),
        'remote-peer-cluster-id': remoteClusterId,
        'local-member-id': idHex(this.ctx.localId),
        'local-member-cluster-id': idHex(this.ctx.clusterId),
        error: ERR_CLUSTER_ID_MISMATCH,
      });
    } else if (status === 410) {
      lg.warn('request sent was ignored by remote peer because this member was removed', {
        ...this.fields,
        error: body || ERR_MEMBER_REMOVED,
      });
      this.ctx.onRemoved(this.id);
    } else if (status === 404) {
      lg.warn(`peer ${idHex(this.id)} failed to find local node ${idHex(this.ctx.localId)}`, this.fields);
    } else {
      lg.warn('request sent was refused by remote peer', { ...this.fields, status, error: body });
    }
  }

  private activate(gen: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.state = 'active';
    this.since = this.ctx.nowMs();
    this.backoffMs = this.ctx.limits.backoffMinMs;
    this.stats.connects++;
    const lg = this.ctx.logger;
    lg.info('established TCP streaming connection with remote peer', {
      'stream-writer-type': 'stream Message',
      ...this.fields,
    });
    lg.info('peer became active', { 'peer-id': idHex(this.id) });
    const l = this.ctx.limits;
    const session = this.session;
    if (session !== undefined) {
      this.stopKeepAlive = keepAlive(session, l.pingIntervalMs, l.pingTimeoutMs, () =>
        this.fail(gen, `ping unanswered for ${l.pingTimeoutMs} ms`),
      );
    }
    this.flush();
  }

  private teardown(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.stopKeepAlive?.();
    this.stopKeepAlive = undefined;
    const s = this.session;
    this.session = undefined;
    this.stream = undefined;
    this.waitingDrain = false;
    this.since = undefined;
    if (s !== undefined && !s.destroyed) s.destroy();
  }

  /** Gives up the current connection (if `gen` is still current) and schedules the next attempt. */
  private fail(gen: number, reason: string, quiet = false): void {
    if (gen !== this.attempt || this.state === 'stopped' || this.state === 'backoff') return;
    this.attempt++;
    const wasActive = this.state === 'active';
    this.teardown();
    const lost = this.queue.length;
    this.stats.dropped += lost;
    this.queue = [];
    this.queuedBytes = 0;
    this.overflowLogged = false;
    const lg = this.ctx.logger;
    if (wasActive) {
      lg.warn('lost TCP streaming connection with remote peer', {
        'stream-writer-type': 'stream Message',
        ...this.fields,
        error: reason,
      });
      lg.warn('peer became inactive (message send to peer failed)', {
        'peer-id': idHex(this.id),
        error: reason,
      });
    } else if (!quiet) {
      lg.debug('failed to connect to remote peer', { ...this.fields, url: this.url(), error: reason });
    }
    if (wasActive || lost > 0) this.ctx.handler()?.reportUnreachable(this.id);
    this.urlIndex = (this.urlIndex + 1) % this.urls.length;
    this.state = 'backoff';
    const delay = wasActive ? this.ctx.limits.backoffMinMs : this.backoffMs;
    this.backoffMs = Math.min(delay * 2, this.ctx.limits.backoffMaxMs);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  stop(): void {
    if (this.state === 'stopped') return;
    this.attempt++;
    this.state = 'stopped';
    this.teardown();
    this.queue = [];
    this.queuedBytes = 0;
  }
}

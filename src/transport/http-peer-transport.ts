// HttpPeerTransport: the PeerTransport of real ketch members (src/server/peer-transport.ts), over
// HTTP/2 cleartext between members: a message stream per peer (peer-sender.ts), a connection per
// snapshot (snapshot-sender.ts), and the listener that receives both and serves /members, /version
// and /raft/probing (listener.ts, receiver.ts). Like etcd's rafthttp it never blocks the raft loop:
// send() queues or drops, and every failure is reported to the handler.

import http2 from 'node:http2';
import type { ClientHttp2Session, ServerHttp2Stream } from 'node:http2';
import type { Logger } from '../base/log.js';
import { MessageType, messageTypeName, type Message } from '../raft/types.js';
import type { LeasePath, PeerHandler, PeerTransport } from '../server/peer-transport.js';
import { idHex } from './headers.js';
import { resolveLimits, type TransportLimits } from './limits.js';
import { LeaseClient } from './lease-route.js';
import { PeerListener, listenAddress } from './listener.js';
import { PeerSender, type PeerSenderStats, type SenderContext } from './peer-sender.js';
import type { PeerState, ReceiverContext } from './receiver.js';
import { postSnapshot } from './snapshot-sender.js';

export interface HttpPeerTransportOptions {
  /** This member's ID. */
  localId: bigint;
  clusterId: bigint;
  /** --listen-peer-urls (http:// only); port 0 picks a free port, see listenAddresses(). */
  listenUrls: readonly string[];
  logger: Logger;
  /** Monotonic milliseconds, for activeSince(). */
  nowMs: () => number;
  /** Body of GET /members on the peer listener: a JSON string, or a value to serialise (bigints as decimal strings). 404 when absent. */
  membersJson?: () => unknown;
  /** A peer refused us with 410: this member has been removed from the cluster (etcd stops then). */
  onRemoved?: (byPeer: bigint) => void;
  limits?: Partial<TransportLimits>;
}

async function* emptyBody(): AsyncGenerator<Uint8Array> {}

export class HttpPeerTransport implements PeerTransport {
  private readonly limits: TransportLimits;
  private readonly peers = new Map<bigint, PeerSender>();
  private readonly removed = new Set<bigint>();
  private readonly snapshotSessions = new Set<ClientHttp2Session>();
  private readonly incoming = new Map<bigint, ServerHttp2Stream>();
  private readonly listener: PeerListener;
  private readonly sender: SenderContext;
  private readonly leaseClient = new LeaseClient();
  private handler: PeerHandler | undefined;
  private started = false;
  private stopped = false;

  constructor(private readonly opts: HttpPeerTransportOptions) {
    this.limits = resolveLimits(opts.limits);
    if (opts.localId === 0n) throw new Error('transport: local member ID must not be 0');
    for (const u of opts.listenUrls) listenAddress(u); // refuse bad URLs now, not at start
    const handler = (): PeerHandler | undefined => (this.stopped ? undefined : this.handler);
    this.sender = {
      localId: opts.localId,
      clusterId: opts.clusterId,
      logger: opts.logger,
      limits: this.limits,
      nowMs: opts.nowMs,
      handler,
      onRemoved: (by) => opts.onRemoved?.(by),
    };
    const receiver: ReceiverContext = {
      localId: opts.localId,
      clusterId: opts.clusterId,
      logger: opts.logger,
      limits: this.limits,
      handler,
      peerState: (id) => this.peerState(id),
      incoming: this.incoming,
    };
    this.listener = new PeerListener(receiver, opts.membersJson);
  }

  private peerState(id: bigint): PeerState {
    if (this.peers.has(id)) return 'known';
    return this.removed.has(id) ? 'removed' : 'unknown';
  }

  async start(handler: PeerHandler): Promise<void> {
    if (this.started) throw new Error('transport already started');
    this.started = true;
    this.handler = handler;
    await this.listener.listen(this.opts.listenUrls);
    this.opts.logger.info('started rafthttp transport', {
      'local-member-id': idHex(this.opts.localId),
      'cluster-id': idHex(this.opts.clusterId),
      'listen-peer-urls': this.listener.addresses(),
    });
  }

  /** The URLs listened on, with the actual ports (useful with port 0). */
  listenAddresses(): string[] {
    return this.listener.addresses();
  }

  addPeer(id: bigint, urls: readonly string[]): void {
    if (this.stopped || id === this.opts.localId || this.peers.has(id)) return;
    this.removed.delete(id);
    this.peers.set(id, new PeerSender(this.sender, id, urls));
    this.opts.logger.info('added remote peer', {
      'local-member-id': idHex(this.opts.localId),
      'remote-peer-id': idHex(id),
      'remote-peer-urls': [...urls],
    });
  }

  updatePeer(id: bigint, urls: readonly string[]): void {
    this.peers.get(id)?.updateUrls(urls);
  }

  removePeer(id: bigint): void {
    const p = this.peers.get(id);
    if (p === undefined) return;
    p.stop();
    this.peers.delete(id);
    this.removed.add(id);
    // Nothing more is taken from it: its open stream is closed, and new ones are refused (410).
    this.incoming.get(id)?.close(http2.constants.NGHTTP2_CANCEL);
    this.incoming.delete(id);
    this.opts.logger.info('removed remote peer', {
      'local-member-id': idHex(this.opts.localId),
      'removed-remote-peer-id': idHex(id),
    });
  }

  send(msgs: readonly Message[]): void {
    if (this.stopped) return;
    for (const m of msgs) {
      if (m.type === MessageType.MsgSnap) {
        // A MsgSnap must travel with its body and get a reportSnapshot: take the snapshot path.
        this.sendSnapshot(m, emptyBody);
        continue;
      }
      const p = this.peers.get(m.to);
      if (p === undefined) {
        this.opts.logger.debug('ignored message send request; unknown remote peer target', {
          'message-type': messageTypeName(m.type),
          'unknown-target-peer-id': idHex(m.to),
        });
        continue;
      }
      p.send(m);
    }
  }

  sendSnapshot(msg: Message, body: () => AsyncIterable<Uint8Array>): void {
    if (this.stopped) return;
    const p = this.peers.get(msg.to);
    const to = idHex(msg.to);
    const lg = this.opts.logger;
    const fields = { 'snapshot-index': String(msg.snapshot?.metadata.index ?? 0n), 'remote-peer-id': to };
    const fail = (err: unknown): void => {
      lg.warn('failed to send database snapshot', {
        ...fields,
        error: String(err instanceof Error ? err.message : err),
      });
      if (this.stopped) return;
      this.handler?.reportUnreachable(msg.to);
      this.handler?.reportSnapshot(msg.to, false);
    };
    if (p === undefined) {
      fail(new Error(`unknown remote peer ${to}`));
      return;
    }
    lg.info('sending database snapshot', fields);
    const track = (s: ClientHttp2Session): (() => void) => {
      this.snapshotSessions.add(s);
      return () => this.snapshotSessions.delete(s);
    };
    let source: AsyncIterable<Uint8Array>;
    try {
      source = body();
    } catch (err) {
      fail(err);
      return;
    }
    postSnapshot(this.sender, p.url(), msg, source, track).then((r) => {
      lg.info('sent database snapshot', { ...fields, bytes: r.bytes });
      if (!this.stopped) this.handler?.reportSnapshot(msg.to, true);
    }, fail);
  }

  activeSince(id: bigint): number | undefined {
    return this.peers.get(id)?.activeSince();
  }

  /** etcd's lease forwarding: POST to the member's first reachable peer URL. */
  postLease(to: bigint, path: LeasePath, body: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    const p = this.peers.get(to);
    if (this.stopped || p === undefined)
      return Promise.reject(new Error(`lease: unknown member ${idHex(to)}`));
    return this.leaseClient.post(p.url(), path, body, timeoutMs);
  }

  /** Counters of the message stream to `id` (tests and metrics). */
  peerStats(id: bigint): Readonly<PeerSenderStats> | undefined {
    const s = this.peers.get(id)?.stats;
    return s === undefined ? undefined : { ...s };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const p of this.peers.values()) p.stop();
    this.peers.clear();
    this.leaseClient.close();
    for (const s of this.snapshotSessions) s.destroy();
    this.snapshotSessions.clear();
    await this.listener.close();
    this.opts.logger.info('stopped rafthttp transport', { 'local-member-id': idHex(this.opts.localId) });
  }
}

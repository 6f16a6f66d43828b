// The PeerTransport interface (DESIGN §2): how the server's raft loop exchanges raft messages and
// snapshots with the other members. The server declares it; src/transport implements it over
// HTTP/2 between ketch members, and the simulator and tests can implement it in memory.
//
// Contract:
// - send() never blocks and never throws for a peer's sake: messages to a peer that is down or
//   slow are dropped (bounded queues) and the loss is reported through handler.reportUnreachable,
//   which raft turns into a probe. Raft tolerates loss; the raft loop must never wait on a peer.
// - Messages to one peer arrive in the order sent while the connection stays up.
// - A MsgSnap goes through sendSnapshot with the state machine's bytes streamed alongside; the
//   receiver hands both to handler.receiveSnapshot, which persists them before stepping the message.
// - Every request carries the sender's member ID and cluster ID; a peer of another cluster is
//   refused (and logged), never processed.
import type { Message } from '../raft/types.js';

/**
 * The two lease requests a follower forwards to the leader over the peer URL, as etcd's leasehttp
 * does: POST /leases carries a LeaseKeepAliveRequest and answers a LeaseKeepAliveResponse; POST
 * /leases/internal carries a leasepb.LeaseInternalRequest and answers a LeaseInternalResponse.
 */
export const LEASE_PATHS = ['/leases', '/leases/internal'] as const;
export type LeasePath = (typeof LEASE_PATHS)[number];

export interface PeerHandler {
  /** An incoming raft message (anything but a MsgSnap with data). */
  process(m: Message): void;
  /**
   * An incoming snapshot: `m` is the MsgSnap (its snapshot.data may be empty) and `body` streams the
   * state machine's bytes. Resolve only once the snapshot is durable here and `m` has been stepped.
   */
  receiveSnapshot(m: Message, body: AsyncIterable<Uint8Array>): Promise<void>;
  /** A message to `id` was dropped or its connection failed. */
  reportUnreachable(id: bigint): void;
  /** The snapshot sent to `id` arrived (ok) or failed. */
  reportSnapshot(id: bigint, ok: boolean): void;
  /**
   * A forwarded lease request (see LEASE_PATHS); resolves with the encoded response. Rejects with
   * EtcdError `requested lease not found` (HTTP 404), `...waiting for the applied index took too
   * long` (408), or anything else (400, with the message).
   */
  serveLease?(path: LeasePath, body: Uint8Array): Promise<Uint8Array>;
}

export interface PeerTransport {
  /** Listens on the peer URLs; incoming messages go to `handler`. */
  start(handler: PeerHandler): Promise<void>;
  addPeer(id: bigint, urls: readonly string[]): void;
  updatePeer(id: bigint, urls: readonly string[]): void;
  removePeer(id: bigint): void;
  /** Queues messages for their `to` members; returns at once. */
  send(msgs: readonly Message[]): void;
  /** Streams a MsgSnap and the snapshot's bytes to `msg.to`; the outcome goes to handler.reportSnapshot. */
  sendSnapshot(msg: Message, body: () => AsyncIterable<Uint8Array>): void;
  /** Since when (ms, from the transport's clock) `id` has had a working connection, or undefined. */
  activeSince(id: bigint): number | undefined;
  /**
   * Posts a lease request to member `to` (its serveLease); resolves with the response body. Rejects
   * with EtcdError `requested lease not found` when the member answers 404, else with an Error.
   * Absent on a transport that cannot reach other members.
   */
  postLease?(to: bigint, path: LeasePath, body: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
  stop(): Promise<void>;
}

/** The transport of a member that has no peers: it sends nothing and never hears from anyone. */
export class NullTransport implements PeerTransport {
  async start(_handler: PeerHandler): Promise<void> {}
  addPeer(_id: bigint, _urls: readonly string[]): void {}
  updatePeer(_id: bigint, _urls: readonly string[]): void {}
  removePeer(_id: bigint): void {}
  send(_msgs: readonly Message[]): void {}
  sendSnapshot(_msg: Message, _body: () => AsyncIterable<Uint8Array>): void {}
  activeSince(_id: bigint): number | undefined {
    return undefined;
  }
  async stop(): Promise<void> {}
}

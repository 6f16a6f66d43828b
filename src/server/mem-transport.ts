// An in-memory PeerTransport for tests: members of one process exchange raft messages (encoded and
// decoded with raftpb's codec, as on the wire) on later event-loop turns, in send order, and
// snapshots with their bodies. Links can be cut both ways to partition a member; messages over a
// cut link are dropped and reported unreachable, as the real transport does.
import { decodeMessage, encodeMessage } from '../raft/raft-codec.js';
import type { Message } from '../raft/types.js';
import { EtcdError, Err } from '../base/errors.js';
import type { LeasePath, PeerHandler, PeerTransport } from './peer-transport.js';

export class MemNetwork {
  readonly handlers = new Map<bigint, PeerHandler>();
  private readonly cuts = new Set<string>();

  transport(id: bigint): MemTransport {
    return new MemTransport(this, id);
  }

  /** Cuts (or with `on` false, heals) every link of `id`. */
  isolate(id: bigint, on = true): void {
    for (const other of [...this.handlers.keys(), 0n]) {
      for (const k of [`${id}-${other}`, `${other}-${id}`]) {
        if (on) this.cuts.add(k);
        else this.cuts.delete(k);
      }
    }
    if (on) this.cuts.add(`*${id}`);
    else this.cuts.delete(`*${id}`);
  }

  connected(from: bigint, to: bigint): boolean {
    return !this.cuts.has(`*${from}`) && !this.cuts.has(`*${to}`) && this.handlers.has(to);
  }
}

const wire = (m: Message): Message => decodeMessage(encodeMessage(m));

export class MemTransport implements PeerTransport {
  private handler: PeerHandler | undefined;
  private readonly peers = new Set<bigint>();
  private stopped = false;

  constructor(
    private readonly net: MemNetwork,
    readonly id: bigint,
  ) {}

  async start(handler: PeerHandler): Promise<void> {
    this.handler = handler;
    this.net.handlers.set(this.id, handler);
  }

  addPeer(id: bigint): void {
    this.peers.add(id);
  }

  updatePeer(): void {}

  removePeer(id: bigint): void {
    this.peers.delete(id);
  }

  send(msgs: readonly Message[]): void {
    for (const m of msgs) {
      const copy = wire(m);
      setImmediate(() => {
        if (this.stopped) return;
        const to = this.net.handlers.get(copy.to);
        if (to === undefined || !this.net.connected(this.id, copy.to)) {
          this.handler?.reportUnreachable(copy.to);
          return;
        }
        to.process(copy);
      });
    }
  }

  sendSnapshot(msg: Message, body: () => AsyncIterable<Uint8Array>): void {
    const copy = wire(msg);
    const deliver = async (): Promise<boolean> => {
      const to = this.net.handlers.get(copy.to);
      if (to === undefined || !this.net.connected(this.id, copy.to)) return false;
      await to.receiveSnapshot(copy, body());
      return true;
    };
    deliver().then(
      (ok) => this.handler?.reportSnapshot(copy.to, ok),
      () => this.handler?.reportSnapshot(copy.to, false),
    );
  }

  activeSince(id: bigint): number | undefined {
    return this.net.connected(this.id, id) ? 0 : undefined;
  }

  /** A lease request to `to`'s serveLease on a later turn; its errors as the HTTP transport reports them. */
  async postLease(to: bigint, path: LeasePath, body: Uint8Array, _timeoutMs: number): Promise<Uint8Array> {
    await new Promise((r) => setImmediate(r));
    const h = this.net.handlers.get(to);
    if (this.stopped || h?.serveLease === undefined || !this.net.connected(this.id, to)) {
      throw new Error(`lease: member ${to.toString(16)} unreachable`);
    }
    try {
      return await h.serveLease(path, body.slice());
    } catch (err) {
      if (err instanceof EtcdError && err.message === Err.leaseNotFound) throw err;
      throw new Error(`lease: unknown error(${err instanceof Error ? err.message : String(err)})`);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.net.handlers.get(this.id) === this.handler) this.net.handlers.delete(this.id);
  }
}

// ReadIndex bookkeeping on the leader (etcd-io/raft's readOnly). A read request records the commit
// index at the time it arrived; with ReadOnlySafe it is answered only after a quorum acknowledged a
// heartbeat carrying the request's context, proving the leader was still the leader when it took
// the index. Requests are answered in arrival order: a quorum for a later request also confirms the
// earlier ones. ReadOnlyLeaseBased answers at once, trusting the check-quorum lease (clock drift can
// make that unsafe, which is why it is opt-in).
import { assert } from '../base/assert.js';
import type { Message } from './types.js';

export const ReadOnlyOption = { ReadOnlySafe: 0, ReadOnlyLeaseBased: 1 } as const;
export type ReadOnlyOption = (typeof ReadOnlyOption)[keyof typeof ReadOnlyOption];

/** A read that may be served once the application has applied up to `index`. */
export interface ReadState {
  index: bigint;
  requestCtx: Uint8Array;
}

export interface ReadIndexStatus {
  /** The original MsgReadIndex (entries[0].data is the request context). */
  req: Message;
  index: bigint;
  acks: Map<bigint, boolean>;
}

/** A request context as a map key (one char per byte, so any bytes round-trip). */
export function contextKey(ctx: Uint8Array): string {
  let s = '';
  for (const b of ctx) s += String.fromCharCode(b);
  return s;
}

function requestCtx(m: Message): Uint8Array {
  const e = m.entries[0];
  assert(e !== undefined, 'MsgReadIndex without a context entry');
  return e.data;
}

export class ReadOnly {
  readonly option: ReadOnlyOption;
  private readonly pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];

  constructor(option: ReadOnlyOption) {
    this.option = option;
  }

  /** Queue a read request taken at commit index `index`; a duplicate context is ignored. */
  addRequest(index: bigint, m: Message): void {
    const key = contextKey(requestCtx(m));
    if (this.pending.has(key)) return;
    this.pending.set(key, { index, req: m, acks: new Map() });
    this.queue.push(key);
  }

  /** Record a heartbeat acknowledgement from `id` for the request with `context`; returns its acks. */
  recvAck(id: bigint, context: Uint8Array): Map<bigint, boolean> | undefined {
    const rs = this.pending.get(contextKey(context));
    if (rs === undefined) return undefined;
    rs.acks.set(id, true);
    return rs.acks;
  }

  /**
   * The request with m.context got its quorum: remove and return it together with every request
   * queued before it. Returns [] if the context is unknown.
   */
  advance(m: Message): ReadIndexStatus[] {
    const key = contextKey(m.context);
    const at = this.queue.indexOf(key);
    if (at < 0) return [];
    const done = this.queue.slice(0, at + 1);
    this.queue = this.queue.slice(at + 1);
    return done.map((k) => {
      const rs = this.pending.get(k);
      assert(rs !== undefined, 'cannot find corresponding read state from pending map');
      this.pending.delete(k);
      return rs;
    });
  }

  /** The context of the newest pending request (sent with heartbeats), or undefined. */
  lastPendingRequestCtx(): Uint8Array | undefined {
    const key = this.queue[this.queue.length - 1];
    if (key === undefined) return undefined;
    return requestCtx((this.pending.get(key) as ReadIndexStatus).req);
  }

  pendingCount(): number {
    return this.queue.length;
  }
}

// The simulated application: each committed Normal entry with data is an operation
// (client, seq, value) proposed by a workload client. The state is the set of operations applied
// (an operation proposed twice — a client retry or a duplicated MsgProp — counts once) plus a
// digest chained over every applied entry (index, term, data), so two nodes that applied the same
// prefix have the same digest and one that applied a different entry at some index does not.
// The state is volatile: a restarted node rebuilds it from its latest snapshot and the log.
import { assert } from '../src/base/assert.js';
import { EntryType, type Entry } from '../src/raft/types.js';

export interface Op {
  client: number;
  seq: number;
  value: number;
}

export function opKey(client: number, seq: number): string {
  return `${client}:${seq}`;
}

export function encodeOp(op: Op): Uint8Array {
  const b = new Uint8Array(12);
  const v = new DataView(b.buffer);
  v.setUint32(0, op.client);
  v.setUint32(4, op.seq);
  v.setUint32(8, op.value);
  return b;
}

export function decodeOp(data: Uint8Array): Op {
  assert(data.length === 12, `op of ${data.length} bytes`);
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return { client: v.getUint32(0), seq: v.getUint32(4), value: v.getUint32(8) };
}

/** FNV-1a over 32 bits, continued from `h`. */
function fnv(h: number, bytes: Uint8Array): number {
  for (const x of bytes) h = Math.imul(h ^ x, 0x01000193) >>> 0;
  return h;
}

function u64(n: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, n);
  return b;
}

export class StateMachine {
  applied: bigint;
  digest: number;
  readonly ops = new Set<string>();

  constructor(applied = 0n, digest = 0x811c9dc5) {
    this.applied = applied;
    this.digest = digest;
  }

  /**
   * Applies the next entry; returns the operation it carries, if any (a repeated copy of an
   * operation changes nothing but is still returned: the operation is in the state).
   */
  apply(e: Entry): Op | undefined {
    assert(e.index === this.applied + 1n, `apply of ${e.index} after ${this.applied}`);
    this.applied = e.index;
    this.digest = fnv(fnv(fnv(this.digest, u64(e.index)), u64(e.term)), e.data);
    if (e.type !== EntryType.Normal || e.data.length === 0) return undefined;

    const op = decodeOp(e.data);
    this.ops.add(opKey(op.client, op.seq));
    return op;
  }

  /** The snapshot payload: digest, then the applied operations (client, seq), sorted. */
  encode(): Uint8Array {
    const keys = [...this.ops].sort();
    const b = new Uint8Array(8 + keys.length * 8);
    const v = new DataView(b.buffer);
    v.setUint32(0, this.digest);
    v.setUint32(4, keys.length);
    keys.forEach((k, i) => {
      const [c, s] = k.split(':');
      v.setUint32(8 + i * 8, Number(c));
      v.setUint32(12 + i * 8, Number(s));
    });
    return b;
  }

  static decode(index: bigint, data: Uint8Array): StateMachine {
    if (data.length === 0) return new StateMachine(index);
    const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const sm = new StateMachine(index, v.getUint32(0));
    const n = v.getUint32(4);
    assert(data.length === 8 + n * 8, 'bad state machine snapshot');
    for (let i = 0; i < n; i++) sm.ops.add(opKey(v.getUint32(8 + i * 8), v.getUint32(12 + i * 8)));
    return sm;
  }
}

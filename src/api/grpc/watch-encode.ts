// WatchResponse bytes, built straight into a gRPC frame without re-encoding events. An event
// response is the response header (encoded once per revision and raft term, and shared), the
// watch_id and fragment fields, then each event as field 11 copied from SharedEvent.encoded():
// the bytes gogoproto would write for the same message, since it writes fields in number order.
// Control responses (created, canceled, progress) carry no events and use the generated codec.
// Fragmentation follows etcd 3.4's sendFragments exactly, computed on sizes alone.
import { assert } from '../../base/assert.js';
import { ResponseHeader, WatchResponse } from '../../generated/etcdserverpb.js';
import { sizeInt64, sizeUint32, Writer } from '../../generated/wire.js';

/** The 5-byte gRPC message prefix the server fills in (bind.ts, encodeWithHeader). */
export const FRAME_BYTES = 5;
const TAG_HEADER = 0x0a; // field 1, length-delimited
const TAG_WATCH_ID = 0x10; // field 2, varint
const TAG_FRAGMENT = 0x38; // field 7, varint
const TAG_EVENT = 0x5a; // field 11, length-delimited
/** The fragment field as written when true: tag and one byte. */
const FRAGMENT_FIELD_BYTES = 2;

/** A WatchResponse without events. */
export type ControlResponse = Partial<Omit<WatchResponse, 'events'>> & { header: ResponseHeader };

/** Encodes a response without events into a frame. */
export function encodeControl(r: ControlResponse): Uint8Array {
  return WatchResponse.encodeWithHeader(WatchResponse.create(r), FRAME_BYTES);
}

/** Bytes of one event as field 11. */
function eventFieldBytes(len: number): number {
  return 1 + sizeUint32(len) + len;
}

/**
 * etcd's sendFragments on sizes: how many events each response carries. `headBytes` is the size of
 * the response without events and with fragment unset. One response when the whole is under
 * maxBytes or holds fewer than two events; otherwise each piece takes events until adding one more
 * would reach maxBytes (a piece always takes at least one).
 */
export function fragmentCounts(headBytes: number, eventLens: readonly number[], maxBytes: number): number[] {
  let total = headBytes;
  for (const len of eventLens) total += eventFieldBytes(len);
  if (total < maxBytes || eventLens.length < 2) return [eventLens.length];
  const counts: number[] = [];
  let i = 0;
  while (i < eventLens.length) {
    let size = headBytes + FRAGMENT_FIELD_BYTES;
    let n = 0;
    while (i < eventLens.length) {
      const next = size + eventFieldBytes(eventLens[i]!);
      if (n >= 1 && next >= maxBytes) break;
      size = next;
      n++;
      i++;
    }
    counts.push(n);
  }
  return counts;
}

/** Encodes event responses for one member: its header bytes are cached per (revision, raft term). */
export class WatchEncoder {
  private cachedRev = -1n;
  private cachedTerm = -1n;
  /** The whole header field: tag, length and the ResponseHeader message. */
  private cachedHeader: Uint8Array = new Uint8Array(0);
  private readonly w = new Writer();

  constructor(
    private readonly clusterId: bigint,
    private readonly memberId: bigint,
  ) {}

  header(revision: bigint, raftTerm: bigint): ResponseHeader {
    return { clusterId: this.clusterId, memberId: this.memberId, revision, raftTerm };
  }

  private headerField(revision: bigint, raftTerm: bigint): Uint8Array {
    if (revision !== this.cachedRev || raftTerm !== this.cachedTerm) {
      const h = ResponseHeader.encode(this.header(revision, raftTerm));
      const out = new Uint8Array(1 + sizeUint32(h.length) + h.length);
      const w = this.w;
      w.buf = out;
      w.pos = 0;
      w.byte(TAG_HEADER);
      w.uint32(h.length);
      out.set(h, w.pos);
      this.cachedHeader = out;
      this.cachedRev = revision;
      this.cachedTerm = raftTerm;
    }
    return this.cachedHeader;
  }

  /** Size of an event response without its events (fragment unset). */
  headBytes(revision: bigint, raftTerm: bigint, watchId: bigint): number {
    const id = watchId === 0n ? 0 : 1 + sizeInt64(watchId);
    return this.headerField(revision, raftTerm).length + id;
  }

  /**
   * One framed event response holding events[from, to). `fragment` sets the fragment flag (more
   * pieces of the same batch follow).
   */
  encodeEvents(
    revision: bigint,
    raftTerm: bigint,
    watchId: bigint,
    events: readonly Uint8Array[],
    from: number,
    to: number,
    fragment: boolean,
  ): Uint8Array {
    const header = this.headerField(revision, raftTerm);
    let n = FRAME_BYTES + this.headBytes(revision, raftTerm, watchId) + (fragment ? FRAGMENT_FIELD_BYTES : 0);
    for (let i = from; i < to; i++) n += eventFieldBytes(events[i]!.length);
    const out = Buffer.allocUnsafe(n);
    out.set(header, FRAME_BYTES);
    const w = this.w;
    w.buf = out;
    w.pos = FRAME_BYTES + header.length;
    if (watchId !== 0n) {
      w.byte(TAG_WATCH_ID);
      w.int64(watchId);
    }
    if (fragment) {
      w.byte(TAG_FRAGMENT);
      w.byte(1);
    }
    for (let i = from; i < to; i++) {
      const e = events[i]!;
      w.byte(TAG_EVENT);
      w.uint32(e.length);
      out.set(e, w.pos);
      w.pos += e.length;
    }
    assert(w.pos === n, `watch response encoded ${w.pos} of ${n} bytes`);
    return out;
  }
}

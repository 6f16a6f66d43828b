// The Watch messages `npm run bench -- watch` sends and reads, encoded and decoded by hand so that
// the client can read 100,000s of WatchResponses a second without being what is measured.
// Field numbers are etcd 3.4's (etcdserverpb): WatchRequest{create_request=1, cancel_request=2,
// progress_request=3}; WatchCreateRequest{key=1, range_end=2, start_revision=3, progress_notify=4,
// filters=5 (packed enum), prev_kv=6, watch_id=7, fragment=8}; WatchCancelRequest{watch_id=1};
// WatchResponse{header=1, watch_id=2, created=3, canceled=4, compact_revision=5, cancel_reason=6,
// fragment=7, events=11}; mvccpb.Event{type=1, kv=2, prev_kv=3}; KeyValue{key=1, mod_revision=3,
// value=5}; ResponseHeader{revision=3}.
// Revisions and watch ids are JS numbers here, not bigint: the decoder runs once per event per
// watcher, and in a benchmark they stay far below 2^53 (a larger one is an error, never rounded).
import { encodePutRequest, grpcFrame, varintSize, writeVarint } from './grpc-codec.js';
import { buildRequestTemplate } from './h2-frames.js';
import { PUT_PATH, type PreparedRequest } from './request.js';

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

export const WATCH_PATH = '/etcdserverpb.Watch/Watch';

export const WatchFilter = { NOPUT: 0, NODELETE: 1 } as const;
export const EventType = { PUT: 0, DELETE: 1 } as const;

export interface WatchCreate {
  key: Uint8Array;
  rangeEnd?: Uint8Array;
  startRevision?: number;
  progressNotify?: boolean;
  filters?: readonly number[];
  prevKv?: boolean;
  /** 0 (or absent): the server picks the id. */
  watchId?: number;
  fragment?: boolean;
}

/** Writes a length-delimited field header and returns the offset of its payload. */
function lenHeader(out: Uint8Array, p: number, field: number, len: number): number {
  out[p++] = (field << 3) | WIRE_LEN;
  return writeVarint(out, p, len);
}

function lenFieldSize(field: number, len: number): number {
  return varintSize((field << 3) | WIRE_LEN) + varintSize(len) + len;
}

function checkUint(name: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new RangeError(`${name} must be a non-negative integer, got ${n}`);
}

/** The WatchCreateRequest message alone (fields in number order, defaults left out). */
export function encodeWatchCreateRequest(c: WatchCreate): Uint8Array {
  const rangeEnd = c.rangeEnd ?? new Uint8Array(0);
  const start = c.startRevision ?? 0;
  const watchId = c.watchId ?? 0;
  const filters = c.filters ?? [];
  checkUint('startRevision', start);
  checkUint('watchId', watchId);
  for (const f of filters) checkUint('filter', f);
  const packed = filters.reduce((n, f) => n + varintSize(f), 0);
  let size = c.key.length > 0 ? lenFieldSize(1, c.key.length) : 0;
  if (rangeEnd.length > 0) size += lenFieldSize(2, rangeEnd.length);
  if (start > 0) size += 1 + varintSize(start);
  if (c.progressNotify === true) size += 2;
  if (filters.length > 0) size += lenFieldSize(5, packed);
  if (c.prevKv === true) size += 2;
  if (watchId > 0) size += 1 + varintSize(watchId);
  if (c.fragment === true) size += 2;
  const out = new Uint8Array(size);
  let p = 0;
  if (c.key.length > 0) {
    p = lenHeader(out, p, 1, c.key.length);
    out.set(c.key, p);
    p += c.key.length;
  }
  if (rangeEnd.length > 0) {
    p = lenHeader(out, p, 2, rangeEnd.length);
    out.set(rangeEnd, p);
    p += rangeEnd.length;
  }
  if (start > 0) p = writeVarint(out, writeVarint(out, p, (3 << 3) | WIRE_VARINT), start);
  if (c.progressNotify === true) p = writeVarint(out, writeVarint(out, p, (4 << 3) | WIRE_VARINT), 1);
  if (filters.length > 0) {
    p = lenHeader(out, p, 5, packed);
    for (const f of filters) p = writeVarint(out, p, f);
  }
  if (c.prevKv === true) p = writeVarint(out, writeVarint(out, p, (6 << 3) | WIRE_VARINT), 1);
  if (watchId > 0) p = writeVarint(out, writeVarint(out, p, (7 << 3) | WIRE_VARINT), watchId);
  if (c.fragment === true) p = writeVarint(out, writeVarint(out, p, (8 << 3) | WIRE_VARINT), 1);
  if (p !== size) throw new Error(`watch codec: wrote ${p} bytes, sized ${size}`);
  return out;
}

/** Wraps `inner` as field `field` of a WatchRequest. */
function watchRequest(field: number, inner: Uint8Array): Uint8Array {
  const out = new Uint8Array(lenFieldSize(field, inner.length));
  out.set(inner, lenHeader(out, 0, field, inner.length));
  return out;
}

/** WatchRequest{create_request}. */
export function encodeWatchCreate(c: WatchCreate): Uint8Array {
  return watchRequest(1, encodeWatchCreateRequest(c));
}

/** WatchRequest{cancel_request{watch_id}}. */
export function encodeWatchCancel(watchId: number): Uint8Array {
  checkUint('watchId', watchId);
  const inner = new Uint8Array(watchId > 0 ? 1 + varintSize(watchId) : 0);
  if (watchId > 0) writeVarint(inner, writeVarint(inner, 0, (1 << 3) | WIRE_VARINT), watchId);
  return watchRequest(2, inner);
}

/** WatchRequest{progress_request{}}. */
export function encodeWatchProgress(): Uint8Array {
  return watchRequest(3, new Uint8Array(0));
}

/** Digits at the start of a watch benchmark put's value: the put's number. */
export const SEQ_DIGITS = 12;

/**
 * A Put of `key` whose value (`valueSize` bytes, at least SEQ_DIGITS) starts with the put's number
 * in SEQ_DIGITS zero-padded decimal digits, written per request into the template's slot (the
 * `key` argument of H2Connection.request), then '.' padding.
 */
export function prepareNumberedPut(authority: string, key: Uint8Array, valueSize: number): PreparedRequest {
  if (valueSize < SEQ_DIGITS) throw new RangeError(`the value must have room for ${SEQ_DIGITS} digits`);
  const value = new Uint8Array(valueSize).fill(0x2e);
  value.fill(0x30, 0, SEQ_DIGITS);
  const body = grpcFrame(encodePutRequest(key, value));
  // Frame prefix, key field (tag, length, bytes), value tag and length: then the digits.
  const slot = 5 + 1 + varintSize(key.length) + key.length + 1 + varintSize(valueSize);
  return {
    path: PUT_PATH,
    body,
    keyOffsetInBody: slot,
    keyLength: SEQ_DIGITS,
    template: buildRequestTemplate(authority, PUT_PATH, body, slot, SEQ_DIGITS),
    nodeHeaders: { ':method': 'POST', ':path': PUT_PATH, 'content-type': 'application/grpc', te: 'trailers' },
  };
}

/** Several requests as one buffer of gRPC length-prefixed messages (what a stream sends). */
export function frameMessages(messages: readonly Uint8Array[]): Uint8Array {
  const framed = messages.map(grpcFrame);
  const out = new Uint8Array(framed.reduce((n, f) => n + f.length, 0));
  let p = 0;
  for (const f of framed) {
    out.set(f, p);
    p += f.length;
  }
  return out;
}

export interface WatchEventView {
  type: number;
  key: Uint8Array;
  modRevision: number;
  /** Views into the response bytes: valid only as long as those are. */
  value: Uint8Array;
  hasPrevKv: boolean;
}

export interface WatchResponseView {
  revision: number;
  watchId: number;
  created: boolean;
  canceled: boolean;
  compactRevision: number;
  cancelReason: string;
  fragment: boolean;
  events: WatchEventView[];
}

/** A cursor over protobuf bytes with varints read as exact JS numbers. */
class Reader {
  p: number;
  constructor(
    readonly b: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.p = start;
  }

  /** A varint as an int64 number; throws if it is not a safe integer (or runs past the end). */
  varint(): number {
    const b = this.b;
    let v = 0;
    let mul = 1;
    const start = this.p;
    for (let i = 0; i < 7; i++) {
      if (this.p >= this.end) throw new Error('protobuf: truncated varint');
      const x = b[this.p++] as number;
      v += (x & 0x7f) * mul;
      if ((x & 0x80) === 0) return v;
      mul *= 128;
    }
    this.p = start;
    return this.bigVarint();
  }

  private bigVarint(): number {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (this.p >= this.end) throw new Error('protobuf: truncated varint');
      const x = this.b[this.p++] as number;
      v |= BigInt(x & 0x7f) << shift;
      if ((x & 0x80) === 0) break;
      shift += 7n;
      if (shift > 63n) throw new Error('protobuf: varint longer than 10 bytes');
    }
    const n = Number(BigInt.asIntN(64, v));
    if (!Number.isSafeInteger(n)) throw new Error(`protobuf: int64 ${BigInt.asIntN(64, v)} is beyond 2^53`);
    return n;
  }

  /** Start of the last length-delimited payload read by `lenEnd`. */
  fieldStart = 0;

  /** Reads a length-delimited payload's header; sets `fieldStart`, returns its end, moves past it. */
  lenEnd(): number {
    const len = this.varint();
    const start = this.p;
    if (len < 0 || start + len > this.end)
      throw new Error('protobuf: length-delimited field runs past the message');
    this.fieldStart = start;
    this.p = start + len;
    return this.p;
  }

  /** Moves past a varint without reading its value (uint64 ids may exceed 2^53). */
  skipVarint(): void {
    for (let i = 0; i < 10; i++) {
      if (this.p >= this.end) throw new Error('protobuf: truncated varint');
      if (((this.b[this.p++] as number) & 0x80) === 0) return;
    }
    throw new Error('protobuf: varint longer than 10 bytes');
  }

  skip(wire: number): void {
    if (wire === WIRE_VARINT) this.skipVarint();
    else if (wire === WIRE_LEN) this.lenEnd();
    else if (wire === WIRE_I64 || wire === WIRE_I32) {
      this.p += wire === WIRE_I64 ? 8 : 4;
      if (this.p > this.end) throw new Error('protobuf: truncated fixed field');
    } else throw new Error(`protobuf: unsupported wire type ${wire}`);
  }
}

const TAG_HEADER = (1 << 3) | WIRE_LEN;
const TAG_WATCH_ID = (2 << 3) | WIRE_VARINT;
const TAG_CREATED = (3 << 3) | WIRE_VARINT;
const TAG_CANCELED = (4 << 3) | WIRE_VARINT;
const TAG_COMPACT_REV = (5 << 3) | WIRE_VARINT;
const TAG_CANCEL_REASON = (6 << 3) | WIRE_LEN;
const TAG_FRAGMENT = (7 << 3) | WIRE_VARINT;
const TAG_EVENTS = (11 << 3) | WIRE_LEN;

function headerRevision(b: Uint8Array, start: number, end: number): number {
  const r = new Reader(b, start, end);
  let rev = 0;
  while (r.p < end) {
    const tag = r.varint();
    if (tag === ((3 << 3) | WIRE_VARINT)) rev = r.varint();
    else r.skip(tag & 7);
  }
  return rev;
}

function decodeKv(b: Uint8Array, start: number, end: number, ev: WatchEventView): void {
  const r = new Reader(b, start, end);
  while (r.p < end) {
    const tag = r.varint();
    if (tag === ((1 << 3) | WIRE_LEN)) {
      const e = r.lenEnd();
      ev.key = b.subarray(r.fieldStart, e);
    } else if (tag === ((3 << 3) | WIRE_VARINT)) ev.modRevision = r.varint();
    else if (tag === ((5 << 3) | WIRE_LEN)) {
      const e = r.lenEnd();
      ev.value = b.subarray(r.fieldStart, e);
    } else r.skip(tag & 7);
  }
}

const EMPTY = new Uint8Array(0);

function decodeEvent(b: Uint8Array, start: number, end: number): WatchEventView {
  const ev: WatchEventView = {
    type: EventType.PUT,
    key: EMPTY,
    modRevision: 0,
    value: EMPTY,
    hasPrevKv: false,
  };
  const r = new Reader(b, start, end);
  while (r.p < end) {
    const tag = r.varint();
    if (tag === ((1 << 3) | WIRE_VARINT)) ev.type = r.varint();
    else if (tag === ((2 << 3) | WIRE_LEN)) {
      const e = r.lenEnd();
      decodeKv(b, r.fieldStart, e, ev);
    } else if (tag === ((3 << 3) | WIRE_LEN)) {
      r.lenEnd();
      ev.hasPrevKv = true;
    } else r.skip(tag & 7);
  }
  return ev;
}

/** Decodes a WatchResponse (the payload of one gRPC message); throws on malformed bytes. */
export function decodeWatchResponse(b: Uint8Array): WatchResponseView {
  const m: WatchResponseView = {
    revision: 0,
    watchId: 0,
    created: false,
    canceled: false,
    compactRevision: 0,
    cancelReason: '',
    fragment: false,
    events: [],
  };
  const r = new Reader(b, 0, b.length);
  while (r.p < b.length) {
    const tag = r.varint();
    switch (tag) {
      case TAG_HEADER: {
        const e = r.lenEnd();
        m.revision = headerRevision(b, r.fieldStart, e);
        break;
      }
      case TAG_WATCH_ID:
        m.watchId = r.varint();
        break;
      case TAG_CREATED:
        m.created = r.varint() !== 0;
        break;
      case TAG_CANCELED:
        m.canceled = r.varint() !== 0;
        break;
      case TAG_COMPACT_REV:
        m.compactRevision = r.varint();
        break;
      case TAG_CANCEL_REASON: {
        const e = r.lenEnd();
        m.cancelReason = Buffer.from(b.buffer, b.byteOffset + r.fieldStart, e - r.fieldStart).toString(
          'utf8',
        );
        break;
      }
      case TAG_FRAGMENT:
        m.fragment = r.varint() !== 0;
        break;
      case TAG_EVENTS: {
        const e = r.lenEnd();
        m.events.push(decodeEvent(b, r.fieldStart, e));
        break;
      }
      default:
        r.skip(tag & 7);
    }
  }
  return m;
}

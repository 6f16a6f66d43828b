// HPACK (RFC 7541), shared by the benchmark's raw HTTP/2 client (bench/) and the :authority shim
// (h2-authority-shim.ts). The decoder is complete (static table, dynamic table with eviction and
// size updates, Huffman strings) because peers index and Huffman-encode what they send. The encoder
// writes only literals without indexing, or fully indexed static entries: its output depends on the
// header list alone and never on connection state, so it never touches the receiver's dynamic table.
// That lets the benchmark encode a request's header block once per load, and lets the shim re-encode
// a client's header blocks for node's nghttp2 without keeping a second table in step.
import { Buffer } from 'node:buffer';
import { HpackError, huffmanDecode } from './hpack-huffman.js';

export { HpackError, huffmanDecode, huffmanEncode } from './hpack-huffman.js';

/** RFC 7541 Appendix A, entries 1..61 (index 0 unused). */
const STATIC_TABLE: readonly (readonly [string, string])[] = [
  ['', ''],
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];
const STATIC_COUNT = STATIC_TABLE.length - 1;

/** static name → index of its first entry; static name → value → index of the full entry. */
const STATIC_NAME = new Map<string, number>();
const STATIC_FULL = new Map<string, Map<string, number>>();
for (let i = 1; i <= STATIC_COUNT; i++) {
  const [name, value] = STATIC_TABLE[i] as readonly [string, string];
  if (!STATIC_NAME.has(name)) STATIC_NAME.set(name, i);
  let byValue = STATIC_FULL.get(name);
  if (byValue === undefined) STATIC_FULL.set(name, (byValue = new Map<string, number>()));
  if (!byValue.has(value)) byValue.set(value, i);
}

/** Default SETTINGS_HEADER_TABLE_SIZE (RFC 9113 §6.5.2), what node's nghttp2 announces. */
export const DEFAULT_HEADER_TABLE_SIZE = 4096;

/** Per-entry overhead counted against the dynamic table size (RFC 7541 §4.1). */
const ENTRY_OVERHEAD = 32;

/** A decoded header list, flattened as [name0, value0, name1, value1, ...]. */
export type HeaderList = string[];

/**
 * One connection's HPACK decoder. `maxTableSize` is the SETTINGS_HEADER_TABLE_SIZE the decoding side
 * announced; the peer may lower the table with size updates but never raise it above that. Strings
 * are latin1: one char per octet, so any octets round-trip.
 */
export class HpackDecoder {
  // Newest entry last; absolute index 62 is the newest.
  private readonly names: string[] = [];
  private readonly values: string[] = [];
  private size = 0;
  private tableLimit: number;

  constructor(private readonly maxTableSize = DEFAULT_HEADER_TABLE_SIZE) {
    this.tableLimit = maxTableSize;
  }

  get dynamicTableSize(): number {
    return this.size;
  }

  get dynamicTableLength(): number {
    return this.names.length;
  }

  /** The table size limit now in force (the last size update, or `maxTableSize`). */
  get dynamicTableLimit(): number {
    return this.tableLimit;
  }

  /**
   * Decodes a complete header block, appending name/value pairs to `out` and, when `sizeUpdates` is
   * given, the dynamic table size updates the block opens with. Throws HpackError on bad input;
   * the table may then be out of step with the encoder's, so the connection must not go on.
   */
  decode(block: Uint8Array, start: number, end: number, out: HeaderList, sizeUpdates?: number[]): void {
    let p = start;
    let sawField = false;
    while (p < end) {
      const b = block[p] as number;
      if (b & 0x80) {
        const [index, q] = readInteger(block, p, end, 7);
        p = q;
        this.pushIndexed(index, out);
        sawField = true;
      } else if (b & 0x40) {
        p = this.literal(block, p, end, 6, true, out);
        sawField = true;
      } else if (b & 0x20) {
        if (sawField) throw new HpackError('hpack: table size update after a header field');
        const [limit, q] = readInteger(block, p, end, 5);
        p = q;
        if (limit > this.maxTableSize) throw new HpackError(`hpack: table size update ${limit} too large`);
        this.tableLimit = limit;
        this.evict(0);
        sizeUpdates?.push(limit);
      } else {
        p = this.literal(block, p, end, 4, false, out);
        sawField = true;
      }
    }
  }

  private pushIndexed(index: number, out: HeaderList): void {
    if (index === 0) throw new HpackError('hpack: index 0');
    if (index <= STATIC_COUNT) {
      const e = STATIC_TABLE[index] as readonly [string, string];
      out.push(e[0], e[1]);
      return;
    }
    const i = this.names.length - (index - STATIC_COUNT);
    if (i < 0) throw new HpackError(`hpack: index ${index} beyond the dynamic table`);
    out.push(this.names[i] as string, this.values[i] as string);
  }

  private nameAt(index: number): string {
    if (index <= STATIC_COUNT) return (STATIC_TABLE[index] as readonly [string, string])[0];
    const i = this.names.length - (index - STATIC_COUNT);
    if (i < 0) throw new HpackError(`hpack: name index ${index} beyond the dynamic table`);
    return this.names[i] as string;
  }

  private literal(
    block: Uint8Array,
    p: number,
    end: number,
    prefix: number,
    index: boolean,
    out: HeaderList,
  ): number {
    const [nameIndex, q] = readInteger(block, p, end, prefix);
    let name: string;
    if (nameIndex === 0) {
      const r = readString(block, q, end);
      name = r[0];
      p = r[1];
    } else {
      name = this.nameAt(nameIndex);
      p = q;
    }
    const [value, q2] = readString(block, p, end);
    out.push(name, value);
    if (index) this.add(name, value);
    return q2;
  }

  private add(name: string, value: string): void {
    const entrySize = name.length + value.length + ENTRY_OVERHEAD;
    if (entrySize > this.tableLimit) {
      // An entry larger than the table empties it and is not added (RFC 7541 §4.4).
      this.names.length = 0;
      this.values.length = 0;
      this.size = 0;
      return;
    }
    this.evict(entrySize);
    this.names.push(name);
    this.values.push(value);
    this.size += entrySize;
  }

  /** Evicts oldest entries until `room` more octets fit under the limit. */
  private evict(room: number): void {
    let drop = 0;
    while (this.size + room > this.tableLimit && drop < this.names.length) {
      this.size -=
        (this.names[drop] as string).length + (this.values[drop] as string).length + ENTRY_OVERHEAD;
      drop++;
    }
    if (drop > 0) {
      this.names.splice(0, drop);
      this.values.splice(0, drop);
    }
  }
}

/** Reads an HPACK integer with an N-bit prefix at block[p]; returns [value, next offset]. */
export function readInteger(block: Uint8Array, p: number, end: number, prefixBits: number): [number, number] {
  if (p >= end) throw new HpackError('hpack: truncated integer');
  const max = (1 << prefixBits) - 1;
  let v = (block[p] as number) & max;
  p++;
  if (v < max) return [v, p];
  let shift = 0;
  for (;;) {
    if (p >= end) throw new HpackError('hpack: truncated integer');
    const b = block[p++] as number;
    v += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) break;
    if (shift > 28) throw new HpackError('hpack: integer too large');
  }
  return [v, p];
}

function readString(block: Uint8Array, p: number, end: number): [string, number] {
  if (p >= end) throw new HpackError('hpack: truncated string');
  const huffman = ((block[p] as number) & 0x80) !== 0;
  const [len, q] = readInteger(block, p, end, 7);
  if (q + len > end) throw new HpackError('hpack: string runs past the header block');
  const s = huffman ? huffmanDecode(block, q, q + len) : latin1(block, q, q + len);
  return [s, q + len];
}

function latin1(b: Uint8Array, start: number, end: number): string {
  const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  return buf.toString('latin1', start, end);
}

/** Appends an HPACK integer with an N-bit prefix; `flags` fills the bits above the prefix. */
export function writeInteger(out: number[], value: number, prefixBits: number, flags: number): void {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out.push(flags | value);
    return;
  }
  out.push(flags | max);
  value -= max;
  while (value >= 0x80) {
    out.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  out.push(value);
}

/** writeInteger into a buffer at `p`; returns the next offset. */
function putInteger(out: Buffer, p: number, value: number, prefixBits: number, flags: number): number {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out[p] = flags | value;
    return p + 1;
  }
  out[p++] = flags | max;
  value -= max;
  while (value >= 0x80) {
    out[p++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  out[p] = value;
  return p + 1;
}

function putString(out: Buffer, p: number, s: string): number {
  p = putInteger(out, p, s.length, 7, 0);
  return p + out.write(s, p, 'latin1');
}

/**
 * Encodes a flattened header list as literals without indexing (RFC 7541 §6.2.2) naming a static
 * entry when one has the same name, or as an indexed static entry when one matches name and value;
 * `sizeUpdates` (dynamic table size updates) go first. Strings must be latin1 (as decoded ones are).
 */
export function encodeLiteralHeaderList(list: HeaderList, sizeUpdates?: readonly number[]): Buffer {
  let bound = 0;
  for (const s of list) bound += s.length + 7;
  bound += 6 * (sizeUpdates?.length ?? 0);
  const out = Buffer.allocUnsafe(bound);
  let p = 0;
  for (const limit of sizeUpdates ?? []) p = putInteger(out, p, limit, 5, 0x20);
  for (let i = 0; i + 1 < list.length; i += 2) {
    const name = list[i] as string;
    const value = list[i + 1] as string;
    const full = STATIC_FULL.get(name)?.get(value);
    if (full !== undefined) {
      out[p++] = 0x80 | full; // every static index fits in 7 bits
      continue;
    }
    const named = STATIC_NAME.get(name);
    if (named !== undefined) {
      p = putInteger(out, p, named, 4, 0x00);
    } else {
      out[p++] = 0x00;
      p = putString(out, p, name);
    }
    p = putString(out, p, value);
  }
  return out.subarray(0, p);
}

/** encodeLiteralHeaderList for [name, value] pairs; throws on a string that is not latin1. */
export function encodeLiteralHeaders(headers: readonly (readonly [string, string])[]): Uint8Array {
  const list: HeaderList = [];
  for (const [name, value] of headers) {
    if (/[^\x00-\xff]/.test(name + value)) throw new HpackError('hpack: header strings must be latin1');
    list.push(name, value);
  }
  return encodeLiteralHeaderList(list);
}

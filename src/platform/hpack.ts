// HPACK (RFC 7541) for the benchmark's raw HTTP/2 client: a full decoder (static table, dynamic
// table with eviction and size updates, Huffman strings) because servers index and Huffman-encode
// response headers and trailers, and a tiny encoder that writes request headers as literals
// without indexing, so a request's header block is the same bytes every time and can be encoded
// once per load.
import { huffmanDecode } from './huffman.js';

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

/** Per-entry overhead counted against the dynamic table size (RFC 7541 §4.1). */
const ENTRY_OVERHEAD = 32;

export class HpackError extends Error {
  override name = 'HpackError';
}

/** A decoded header list, flattened as [name0, value0, name1, value1, ...]. */
export type HeaderList = string[];

/**
 * One connection's HPACK decoder. `maxTableSize` is the SETTINGS_HEADER_TABLE_SIZE we announced;
 * the peer may lower the table with size updates but never raise it above that.
 */
export class HpackDecoder {
  // Newest entry last; absolute index 62 is the newest.
  private readonly names: string[] = [];
  private readonly values: string[] = [];
  private size = 0;
  private tableLimit: number;

  constructor(private readonly maxTableSize = 4096) {
    this.tableLimit = maxTableSize;
  }

  get dynamicTableSize(): number {
    return this.size;
  }

  get dynamicTableLength(): number {
    return this.names.length;
  }

  /** Decodes a complete header block, appending name/value pairs to `out`. */
  decode(block: Uint8Array, start: number, end: number, out: HeaderList): void {
    let p = start;
    let sawField = false;
    while (p < end) {
      const b = block[p] ?? 0;
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
  let v = (block[p] ?? 0) & max;
  p++;
  if (v < max) return [v, p];
  let shift = 0;
  for (;;) {
    if (p >= end) throw new HpackError('hpack: truncated integer');
    const b = block[p++] ?? 0;
    v += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) break;
    if (shift > 28) throw new HpackError('hpack: integer too large');
  }
  return [v, p];
}

function readString(block: Uint8Array, p: number, end: number): [string, number] {
  if (p >= end) throw new HpackError('hpack: truncated string');
  const huffman = ((block[p] ?? 0) & 0x80) !== 0;
  const [len, q] = readInteger(block, p, end, 7);
  if (q + len > end) throw new HpackError('hpack: string runs past the header block');
  const s = huffman ? huffmanDecode(block, q, q + len) : latin1(block, q, q + len);
  return [s, q + len];
}

function latin1(b: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(b[i] ?? 0);
  return s;
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

function writeRawString(out: number[], s: string): void {
  writeInteger(out, s.length, 7, 0);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255) throw new HpackError('hpack: header strings must be latin1');
    out.push(c);
  }
}

/**
 * Encodes headers as literals without indexing (RFC 7541 §6.2.2), naming a static-table entry
 * when one has the same name. The result depends only on the input, never on connection state.
 */
export function encodeLiteralHeaders(headers: readonly (readonly [string, string])[]): Uint8Array {
  const out: number[] = [];
  for (const [name, value] of headers) {
    const full = STATIC_TABLE.findIndex((e, i) => i > 0 && e[0] === name && e[1] === value);
    if (full > 0) {
      writeInteger(out, full, 7, 0x80);
      continue;
    }
    const named = STATIC_TABLE.findIndex((e, i) => i > 0 && e[0] === name);
    if (named > 0) {
      writeInteger(out, named, 4, 0x00);
    } else {
      out.push(0x00);
      writeRawString(out, name);
    }
    writeRawString(out, value);
  }
  return Uint8Array.from(out);
}

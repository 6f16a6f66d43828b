// Protobuf wire primitives for the hand-written raftpb codecs (raft-codec.ts and
// confchange/codec.ts): varint sizes, a writer into a buffer sized exactly beforehand (one
// allocation per encoded message, no copies of nested messages), and a reader that refuses
// truncated or malformed input with an Error naming the message and byte offset.

export const WireVarint = 0;
export const WireFixed64 = 1;
export const WireBytes = 2;
export const WireStartGroup = 3;
export const WireEndGroup = 4;
export const WireFixed32 = 5;
const U64_MAX = 0xffffffffffffffffn;

/** Bytes of a uint64 varint. */
export function varintSize(v: bigint): number {
  if (v < 0n || v > U64_MAX) throw new RangeError(`varint out of uint64 range: ${v}`);
  if (v < 0x10000000n) return smallSize(Number(v));
  let n = 4;
  v >>= 28n;
  while (v > 0n) {
    n++;
    v >>= 7n;
  }
  return n;
}

/** Bytes of a varint below 2^32. */
export function smallSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

/** Size of a length-delimited field (one-byte tag: fields 1–15) holding `len` bytes. */
export function lenFieldSize(len: number): number {
  return 1 + smallSize(len) + len;
}

/** Size of a uint64 field (one-byte tag). */
export function u64FieldSize(v: bigint): number {
  return 1 + varintSize(v);
}

/** Writes into `buf` from `pos`; the caller sized `buf` exactly (the codec checks the end position). */
export class Writer {
  constructor(
    readonly buf: Uint8Array,
    public pos = 0,
  ) {}

  varint(v: bigint): void {
    if (v < 0x10000000n && v >= 0n) {
      this.small(Number(v));
      return;
    }
    if (v < 0n || v > U64_MAX) throw new RangeError(`varint out of uint64 range: ${v}`);
    const b = this.buf;
    while (v >= 0x80n) {
      b[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    b[this.pos++] = Number(v);
  }

  /** A non-negative number below 2^32 (tags, lengths, enums, bools) without bigint arithmetic. */
  small(n: number): void {
    const b = this.buf;
    while (n >= 0x80) {
      b[this.pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    b[this.pos++] = n;
  }

  tag(field: number, wire: number): void {
    this.small((field << 3) | wire);
  }

  uint64(field: number, v: bigint): void {
    this.tag(field, WireVarint);
    this.varint(v);
  }

  enumOrBool(field: number, v: number): void {
    this.tag(field, WireVarint);
    this.small(v);
  }

  /** Tag and length of a length-delimited field; the caller writes the body next. */
  lenPrefix(field: number, len: number): void {
    this.tag(field, WireBytes);
    this.small(len);
  }

  bytes(field: number, b: Uint8Array): void {
    this.lenPrefix(field, b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
}

/** Runs `write` over a buffer of exactly `size` bytes and checks that it filled it. */
export function encodeSized(size: number, what: string, write: (w: Writer) => void): Uint8Array {
  const w = new Writer(new Uint8Array(size));
  write(w);
  if (w.pos !== size) throw new Error(`raftpb.${what}: encoded ${w.pos} bytes, sized ${size}`);
  return w.buf;
}

export class Reader {
  pos = 0;
  /** Errors read `${prefix}${what}: <problem> at byte <offset>`. */
  constructor(
    private readonly b: Uint8Array,
    private readonly what: string,
    private readonly prefix = 'raftpb.',
  ) {}

  get done(): boolean {
    return this.pos >= this.b.length;
  }

  fail(msg: string): never {
    throw new Error(`${this.prefix}${this.what}: ${msg} at byte ${this.pos}`);
  }

  /**
   * A varint below 2^28 read with number arithmetic, or -1 (position unchanged) when it is longer:
   * tags, lengths and enums nearly always take this path.
   */
  private fast(): number {
    const b = this.b;
    let pos = this.pos;
    let v = 0;
    for (let i = 0; i < 4; i++) {
      if (pos >= b.length) this.fail('truncated varint');
      const byte = b[pos++]!;
      v |= (byte & 0x7f) << (7 * i);
      if (byte < 0x80) {
        this.pos = pos;
        return v;
      }
    }
    return -1;
  }

  varint(): bigint {
    const f = this.fast();
    if (f >= 0) return BigInt(f);
    let v = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.b.length) this.fail('truncated varint');
      const byte = this.b[this.pos++]!;
      if (i === 9 && byte > 1) this.fail('varint overflows uint64');
      v |= BigInt(byte & 0x7f) << BigInt(7 * i);
      if (byte < 0x80) return v;
    }
    return this.fail('varint longer than 10 bytes');
  }

  /** A varint that must be at most `max` (a safe integer): lengths, enums. */
  smallVarint(max: number, what: string): number {
    const f = this.fast();
    const v = f >= 0 ? f : this.varint();
    if (v > max) this.fail(`${what} ${v} out of range`);
    return Number(v);
  }

  /** Returns [field number, wire type]. */
  tag(): [number, number] {
    let t = this.fast();
    if (t < 0) {
      const big = this.varint();
      if (big >> 3n > 0x1fffffffn) this.fail(`invalid field number ${big >> 3n}`);
      t = Number(big);
    }
    const field = Math.floor(t / 8);
    if (field === 0) this.fail('invalid field number 0');
    return [field, t % 8];
  }

  /** A length-delimited value as a view into the input (callers copy what they keep). */
  view(): Uint8Array {
    const f = this.fast();
    const n = f >= 0 ? f : this.varint();
    if (n > this.b.length - this.pos) this.fail(`length ${n} past the end of the buffer`);
    const out = this.b.subarray(this.pos, this.pos + Number(n));
    this.pos += Number(n);
    return out;
  }

  /** A length-delimited value as a fresh copy: decoded messages never alias the input buffer. */
  bytes(): Uint8Array {
    const v = this.view();
    return v.length === 0 ? new Uint8Array(0) : new Uint8Array(v);
  }

  bool(): boolean {
    return this.varint() !== 0n;
  }

  skip(n: number): void {
    if (n > this.b.length - this.pos) this.fail('truncated fixed-width field');
    this.pos += n;
  }

  /** Skips an unknown field's value (groups included), as protobuf requires. */
  skipValue(field: number, wire: number, depth = 0): void {
    if (depth > 64) this.fail('groups nested too deeply');
    switch (wire) {
      case WireVarint:
        this.varint();
        return;
      case WireFixed64:
        this.skip(8);
        return;
      case WireBytes:
        this.view();
        return;
      case WireFixed32:
        this.skip(4);
        return;
      case WireStartGroup:
        for (;;) {
          const [f, w] = this.tag();
          if (w === WireEndGroup) {
            if (f !== field) this.fail(`end group ${f} does not match start group ${field}`);
            return;
          }
          this.skipValue(f, w, depth + 1);
        }
      default:
        this.fail(`illegal wire type ${wire} for field ${field}`);
    }
  }

  expectWire(field: number, wire: number, want: number): void {
    if (wire !== want) this.fail(`wrong wire type ${wire} for field ${field}`);
  }
}

// A tiny schema-driven protobuf (proto3) codec for the e2e tests. It is written apart from ketch's
// generated code on purpose: the tests judge ketch's wire format, so they must not share its codec.
// Decoding is strict: a wrong wire type is an error, and fields the schema does not know are kept
// in `$unknown` (their numbers) so a comparison notices them.

export type Scalar = 'int64' | 'uint64' | 'int32' | 'uint32' | 'bool' | 'bytes' | 'string' | 'enum';

export interface FieldDef {
  no: number;
  type: Scalar | (() => MsgDef<object>);
  repeated?: boolean;
  /** A member of a oneof: encoded whenever set (even to its default), absent when not set. */
  oneof?: boolean;
}

export interface MsgDef<T extends object> {
  readonly name: string;
  readonly fields: Readonly<Record<string, FieldDef>>;
  /** Phantom: the TypeScript shape of decoded values. */
  readonly shape?: T;
}

export function msgDef<T extends object>(name: string, fields: Record<string, FieldDef>): MsgDef<T> {
  return { name, fields };
}

class Writer {
  private readonly parts: number[] = [];

  varint(v: bigint): void {
    let x = BigInt.asUintN(64, v);
    while (x >= 0x80n) {
      this.parts.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.parts.push(Number(x));
  }

  tag(no: number, wireType: number): void {
    this.varint(BigInt((no << 3) | wireType));
  }

  bytes(b: Uint8Array): void {
    this.varint(BigInt(b.length));
    for (const x of b) this.parts.push(x);
  }

  finish(): Buffer {
    return Buffer.from(this.parts);
  }
}

function isDefault(v: unknown): boolean {
  if (typeof v === 'bigint') return v === 0n;
  if (typeof v === 'number') return v === 0;
  if (typeof v === 'boolean') return !v;
  if (typeof v === 'string') return v.length === 0;
  if (v instanceof Uint8Array) return v.length === 0;
  return v === undefined;
}

function writeValue(w: Writer, f: FieldDef, v: unknown): void {
  if (typeof f.type === 'function') {
    w.tag(f.no, 2);
    w.bytes(encodeWith(f.type(), v as object));
    return;
  }
  switch (f.type) {
    case 'bytes':
      w.tag(f.no, 2);
      w.bytes(v as Uint8Array);
      return;
    case 'string':
      w.tag(f.no, 2);
      w.bytes(Buffer.from(v as string, 'utf8'));
      return;
    case 'bool':
      w.tag(f.no, 0);
      w.varint(v ? 1n : 0n);
      return;
    case 'int64':
    case 'uint64':
      w.tag(f.no, 0);
      w.varint(v as bigint);
      return;
    default:
      w.tag(f.no, 0);
      w.varint(BigInt(v as number));
  }
}

function encodeWith(def: MsgDef<object>, value: object): Buffer {
  const w = new Writer();
  const fields = Object.entries(def.fields).sort((a, b) => a[1].no - b[1].no);
  const rec = value as Record<string, unknown>;
  for (const [name, f] of fields) {
    const v = rec[name];
    if (v === undefined) continue;
    if (f.repeated) {
      for (const x of v as unknown[]) writeValue(w, f, x);
    } else if (f.oneof || typeof f.type === 'function' || !isDefault(v)) {
      writeValue(w, f, v);
    }
  }
  for (const name of Object.keys(rec)) {
    if (!(name in def.fields) && rec[name] !== undefined) throw new Error(`${def.name} has no field ${name}`);
  }
  return w.finish();
}

/** Encodes a (partial) message; unset fields take their defaults. */
export function enc<T extends object>(def: MsgDef<T>, value: Partial<T>): Buffer {
  return encodeWith(def, value);
}

class Reader {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.buf.length) throw new Error('truncated varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asUintN(64, result);
    }
    throw new Error('varint too long');
  }

  bytes(): Uint8Array {
    const n = Number(this.varint());
    if (this.pos + n > this.buf.length) throw new Error('truncated bytes field');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 2) this.bytes();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wireType}`);
  }
}

function defaultOf(f: FieldDef): unknown {
  if (f.repeated) return [];
  if (f.oneof || typeof f.type === 'function') return undefined;
  switch (f.type) {
    case 'int64':
    case 'uint64':
      return 0n;
    case 'bool':
      return false;
    case 'bytes':
      return Buffer.alloc(0);
    case 'string':
      return '';
    default:
      return 0;
  }
}

function readValue(r: Reader, f: FieldDef, wireType: number, where: string): unknown {
  const want = typeof f.type === 'function' || f.type === 'bytes' || f.type === 'string' ? 2 : 0;
  if (wireType !== want) throw new Error(`${where}: wire type ${wireType}, expected ${want}`);
  if (typeof f.type === 'function') return decodeWith(f.type(), r.bytes());
  switch (f.type) {
    case 'bytes':
      return Buffer.from(r.bytes());
    case 'string':
      return Buffer.from(r.bytes()).toString('utf8');
    case 'bool':
      return r.varint() !== 0n;
    case 'int64':
      return BigInt.asIntN(64, r.varint());
    case 'uint64':
      return r.varint();
    case 'uint32':
      return Number(BigInt.asUintN(32, r.varint()));
    default:
      return Number(BigInt.asIntN(32, r.varint()));
  }
}

function decodeWith(def: MsgDef<object>, buf: Uint8Array): object {
  const out: Record<string, unknown> = {};
  const byNo = new Map<number, [string, FieldDef]>();
  for (const [name, f] of Object.entries(def.fields)) {
    byNo.set(f.no, [name, f]);
    const d = defaultOf(f);
    if (d !== undefined) out[name] = d;
  }
  const r = new Reader(buf);
  const unknown: number[] = [];
  while (!r.done()) {
    const tag = r.varint();
    const no = Number(tag >> 3n);
    const wireType = Number(tag & 7n);
    const entry = byNo.get(no);
    if (entry === undefined) {
      unknown.push(no);
      r.skip(wireType);
      continue;
    }
    const [name, f] = entry;
    const v = readValue(r, f, wireType, `${def.name}.${name}`);
    if (f.repeated) (out[name] as unknown[]).push(v);
    else out[name] = v;
  }
  if (unknown.length > 0) out['$unknown'] = unknown;
  return out;
}

/** Decodes a message: every scalar and repeated field present with its default, sub-messages when sent. */
export function dec<T extends object>(def: MsgDef<T>, buf: Uint8Array): T {
  return decodeWith(def, buf) as T;
}

// Messages to and from JSON exactly as etcd 3.4's gateway does it: grpc-gateway's JSONPb marshaler
// with OrigName (golang/protobuf 1.3 jsonpb). Writing: proto field names, declaration order, int64 and
// uint64 as decimal strings, bytes as padded standard base64, enums by name (an unknown value as a bare
// number), and every field at its default left out (EmitDefaults false), except message fields and
// oneof members that are set. Reading: a field is found under its proto name or its lowerCamelCase name,
// unknown fields are ignored, numbers may be quoted, `null` leaves a field unset, and every failure is
// reported in encoding/json's or jsonpb's own words, which the gateway passes on to the client.
import type { MessageCodec } from '../../generated/wire.js';
import * as authpb from '../../generated/authpb.js';
import * as etcdserverpb from '../../generated/etcdserverpb.js';
import * as mvccpb from '../../generated/mvccpb.js';
import * as v3electionpb from '../../generated/v3electionpb.js';
import * as v3lockpb from '../../generated/v3lockpb.js';
import { assert } from '../../base/assert.js';
import {
  GoJsonError,
  goBase64Decode,
  goQuote,
  goQuoteBytes,
  unmarshalWhole,
  type JsonNode,
} from './gateway-json.js';
import { enumSpec, messageSpec, type FieldSpec, type MessageSpec } from './gateway-schema.js';

type Msg = Record<string, unknown>;

const codecs = new Map<string, MessageCodec<Msg>>();
for (const mod of [authpb, etcdserverpb, mvccpb, v3electionpb, v3lockpb] as object[]) {
  for (const v of Object.values(mod) as unknown[]) {
    const c = v as Partial<MessageCodec<Msg>> | undefined;
    if (typeof c?.typeName === 'string' && typeof c.create === 'function')
      codecs.set(c.typeName, c as MessageCodec<Msg>);
  }
}

/** The generated codec of a message type (its create() gives every field its default). */
export function codecOf(type: string): MessageCodec<Msg> {
  const c = codecs.get(type);
  assert(c !== undefined, `gateway: no codec for ${type}`);
  return c;
}

// ---- reading ----

/** How encoding/json names a JSON value's kind in "cannot unmarshal X into ...". */
function kindWord(n: JsonNode): string {
  return n.kind;
}

function typeError(what: string, goType: string): GoJsonError {
  return new GoJsonError(`json: cannot unmarshal ${what} into Go value of type ${goType}`);
}

/** A request message from its JSON (jsonpb.Unmarshaler with unknown fields allowed). */
export function jsonToMessage(type: string, node: JsonNode): Msg {
  return readMessage(messageSpec(type), node);
}

function readMessage(spec: MessageSpec, node: JsonNode): Msg {
  const msg = codecOf(spec.name).create();
  if (node.kind === 'null') return msg;
  if (node.kind !== 'object') throw typeError(kindWord(node), 'map[string]json.RawMessage');
  const rest = new Map(node.fields);
  // Both names are accepted; with both present the camelCase one wins, and both are consumed.
  const take = (f: FieldSpec): JsonNode | undefined => {
    const orig = rest.get(f.name);
    const camel = rest.get(f.json);
    rest.delete(f.name);
    rest.delete(f.json);
    return camel ?? orig;
  };
  for (const f of spec.fields) {
    if (f.oneof !== undefined) continue;
    const v = take(f);
    if (v === undefined) continue;
    const value = f.repeated ? readRepeated(f, v) : readValue(f, v);
    if (value !== undefined) msg[f.json] = value;
  }
  if (rest.size === 0) return msg;
  for (const f of spec.fields) {
    if (f.oneof === undefined) continue;
    const v = take(f);
    if (v === undefined) continue;
    // Setting a member replaces whichever member of the same oneof was set before.
    for (const g of spec.fields) if (g.oneof === f.oneof) msg[g.json] = undefined;
    // A null message member leaves the oneof empty; a null scalar member is set to its default.
    msg[f.json] = v.kind === 'null' && f.kind !== 'message' ? defaultOf(f) : readValue(f, v);
  }
  return msg;
}

function defaultOf(f: FieldSpec): unknown {
  if (f.kind === 'int64' || f.kind === 'uint64') return 0n;
  if (f.kind === 'bytes') return new Uint8Array(0);
  if (f.kind === 'string') return '';
  if (f.kind === 'bool') return false;
  return 0;
}

function readRepeated(f: FieldSpec, node: JsonNode): unknown[] | undefined {
  if (node.kind === 'null') return undefined;
  if (node.kind !== 'array') throw typeError(kindWord(node), '[]json.RawMessage');
  // A null element of a repeated message is read as an empty message.
  return node.items.map((item) => readValue(f, item) ?? defaultElement(f));
}

function defaultElement(f: FieldSpec): unknown {
  return f.kind === 'message' ? codecOf(f.type).create() : defaultOf(f);
}

/** One (non-repeated) value; undefined leaves the field as it is. */
function readValue(f: FieldSpec, node: JsonNode): unknown {
  switch (f.kind) {
    case 'message':
      return node.kind === 'null' ? undefined : readMessage(messageSpec(f.type), node);
    case 'enum':
      if (node.kind === 'string') {
        const n = enumSpec(f.type).byName.get(Buffer.from(node.raw).toString('utf8'));
        if (n === undefined)
          throw new GoJsonError(`unknown value ${goQuoteBytes(node.raw)} for enum ${f.type}`);
        return n;
      }
      return toNumber(readInteger(node, f.type, 'int32'));
    case 'int64':
    case 'uint64':
    case 'int32':
    case 'uint32': {
      // Quoted numbers lose their quotes and are read again as JSON (not unescaped).
      const n = node.kind === 'string' ? unmarshalWhole(node.raw) : node;
      const v = readInteger(n, f.kind, f.kind);
      return f.kind === 'int64' || f.kind === 'uint64' || v === undefined ? v : Number(v);
    }
    case 'bool':
      if (node.kind === 'bool') return node.value;
      return node.kind === 'null' ? undefined : fail(node, 'bool');
    case 'string':
      if (node.kind === 'string') return node.value;
      return node.kind === 'null' ? undefined : fail(node, 'string');
    case 'bytes':
      return readBytes(node);
  }
}

function fail(node: JsonNode, goType: string): never {
  throw typeError(kindWord(node), goType);
}

const RANGES: Record<string, readonly [bigint, bigint]> = {
  int64: [-(1n << 63n), (1n << 63n) - 1n],
  uint64: [0n, (1n << 64n) - 1n],
  int32: [-(1n << 31n), (1n << 31n) - 1n],
  uint32: [0n, (1n << 32n) - 1n],
  uint8: [0n, 255n],
};

/** encoding/json's integer store: strconv.Parse(U)Int of the literal, then the type's range. */
function readInteger(node: JsonNode, goType: string, range: string): bigint | undefined {
  if (node.kind === 'null') return undefined;
  if (node.kind !== 'number') fail(node, goType);
  const [lo, hi] = RANGES[range]!;
  const ok = lo < 0n ? /^-?\d+$/.test(node.raw) : /^\d+$/.test(node.raw);
  const v = ok ? BigInt(node.raw) : undefined;
  if (v === undefined || v < lo || v > hi) throw typeError(`number ${node.raw}`, goType);
  return v;
}

function readBytes(node: JsonNode): Uint8Array | undefined {
  switch (node.kind) {
    case 'null':
      return undefined;
    case 'string':
      return goBase64Decode(Buffer.from(node.value, 'utf8'));
    case 'array':
      // encoding/json fills a []byte from an array of numbers too.
      return Uint8Array.from(node.items, (item) => Number(readInteger(item, 'uint8', 'uint8') ?? 0n));
    default:
      return fail(node, '[]uint8');
  }
}

// ---- writing ----

/** A message as jsonpb writes it with OrigName and without defaults. */
export function messageToJson(type: string, msg: object): string {
  return writeMessage(messageSpec(type), msg as Msg);
}

function writeMessage(spec: MessageSpec, msg: Msg): string {
  let out = '{';
  for (const f of spec.fields) {
    const v = msg[f.json];
    let text: string;
    if (f.repeated) {
      const items = v as readonly unknown[];
      if (items.length === 0) continue;
      text = `[${items.map((x) => writeValue(f, x)).join(',')}]`;
    } else {
      if (v === undefined) continue;
      if (f.kind !== 'message' && f.oneof === undefined && isDefault(v)) continue;
      text = writeValue(f, v);
    }
    out += `${out.length > 1 ? ',' : ''}"${f.name}":${text}`;
  }
  return out + '}';
}

function isDefault(v: unknown): boolean {
  if (v instanceof Uint8Array) return v.length === 0;
  return v === 0 || v === 0n || v === false || v === '';
}

function writeValue(f: FieldSpec, v: unknown): string {
  switch (f.kind) {
    case 'message':
      return writeMessage(messageSpec(f.type), v as Msg);
    case 'enum': {
      const name = enumSpec(f.type).values[v as number];
      return name === undefined ? String(v) : `"${name}"`;
    }
    case 'int64':
    case 'uint64':
      return `"${String(v)}"`;
    case 'int32':
    case 'uint32':
    case 'bool':
      return String(v);
    case 'string':
      return goQuote(v as string);
    case 'bytes': {
      const b = v as Uint8Array;
      return `"${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64')}"`;
    }
  }
}

function toNumber(v: bigint | undefined): number | undefined {
  return v === undefined ? undefined : Number(v);
}

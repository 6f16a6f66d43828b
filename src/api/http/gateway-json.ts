// JSON text as Go's encoding/json reads and writes it, for the gateway (etcd 3.4's grpc-gateway
// decodes request bodies with json.Decoder and answers with Go-escaped strings). Clients see Go's
// exact words when a body is malformed ("invalid character 'b' looking for beginning of object key
// string", "unexpected EOF"), so the scanner below follows the states of Go's scanner and words its
// errors the same way. Parsing is iterative (an explicit stack), so nesting up to Go's limit of 10000
// levels cannot overflow the JS stack.

/** A parsed JSON value. Strings keep their raw bytes too: jsonpb looks at them unescaped in places. */
export type JsonNode =
  | { readonly kind: 'object'; readonly fields: ReadonlyMap<string, JsonNode> }
  | { readonly kind: 'array'; readonly items: readonly JsonNode[] }
  | { readonly kind: 'string'; readonly raw: Uint8Array; readonly value: string }
  | { readonly kind: 'number'; readonly raw: string }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'null' };

/** A failure with Go's wording, which the gateway shows the client as is. */
export class GoJsonError extends Error {
  override name = 'GoJsonError';
}

/** Go's maxNestingDepth. */
const MAX_DEPTH = 10000;

/** Thrown inside the scanner when the input ends before the value does (one shared instance). */
class Incomplete extends Error {
  override name = 'Incomplete';
}
const INCOMPLETE = new Incomplete('input ends inside a JSON value');

/** Go's quoteChar: how a scanner error names the offending byte. */
export function quoteChar(c: number): string {
  if (c === 0x27) return `'\\''`;
  if (c === 0x22) return `'"'`;
  const q = goQuoteRune(c);
  return `'${q}'`;
}

/** strconv.Quote of one rune below 0x100, without the surrounding quotes. */
function goQuoteRune(c: number): string {
  const named: Record<number, string> = {
    7: '\\a',
    8: '\\b',
    12: '\\f',
    10: '\\n',
    13: '\\r',
    9: '\\t',
    11: '\\v',
  };
  if (named[c] !== undefined) return named[c];
  if (c === 0x5c) return '\\\\';
  if (c < 0x20 || c === 0x7f) return `\\x${hex2(c)}`;
  if (c < 0x7f) return String.fromCharCode(c);
  // U+0080..U+00A0 and the soft hyphen are not printable for Go; the rest of Latin-1 is.
  if (c <= 0xa0 || c === 0xad) return `\\u00${hex2(c)}`;
  return String.fromCharCode(c);
}

function hex2(c: number): string {
  return c.toString(16).padStart(2, '0');
}

function syntaxError(c: number, context: string): GoJsonError {
  return new GoJsonError(`invalid character ${quoteChar(c)} ${context}`);
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isHex = (c: number): boolean => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);

function skipSpace(b: Uint8Array, i: number): number {
  while (i < b.length && isSpace(b[i]!)) i++;
  return i;
}

interface Frame {
  readonly fields?: Map<string, JsonNode>;
  readonly items?: JsonNode[];
  key: string;
}

/** The scanner: one value from b[pos], or INCOMPLETE thrown when b ends first. */
class Scanner {
  constructor(
    private readonly b: Uint8Array,
    /** No more bytes will come: a number running to the end of b is complete. */
    private readonly atEof: boolean,
  ) {}

  private at(i: number): number {
    if (i >= this.b.length) throw INCOMPLETE;
    return this.b[i]!;
  }

  value(pos: number): { node: JsonNode; end: number } {
    const stack: Frame[] = [];
    let i = pos;
    for (;;) {
      i = skipSpace(this.b, i);
      const c = this.at(i);
      let node: JsonNode;
      if (c === 0x7b || c === 0x5b) {
        const isObject = c === 0x7b;
        if (stack.length + 1 > MAX_DEPTH) throw syntaxError(c, 'exceeded max depth');
        i = skipSpace(this.b, i + 1);
        const next = this.at(i);
        if (next === (isObject ? 0x7d : 0x5d)) {
          node = isObject ? { kind: 'object', fields: new Map() } : { kind: 'array', items: [] };
          i++;
        } else {
          const frame: Frame = isObject ? { fields: new Map(), key: '' } : { items: [], key: '' };
          stack.push(frame);
          if (isObject) i = this.key(i, frame, next);
          continue;
        }
      } else {
        ({ node, end: i } = this.scalar(i, c));
      }
      // Attach the finished value to its containers, closing those that end here.
      for (;;) {
        const top = stack[stack.length - 1];
        if (top === undefined) return { node, end: i };
        if (top.fields !== undefined) top.fields.set(top.key, node);
        else top.items!.push(node);
        i = skipSpace(this.b, i);
        const d = this.at(i);
        if (d === 0x2c) {
          i++;
          if (top.fields !== undefined) {
            i = skipSpace(this.b, i);
            i = this.key(i, top, this.at(i));
          }
          break;
        }
        if (top.fields !== undefined) {
          if (d !== 0x7d) throw syntaxError(d, 'after object key:value pair');
          node = { kind: 'object', fields: top.fields };
        } else {
          if (d !== 0x5d) throw syntaxError(d, 'after array element');
          node = { kind: 'array', items: top.items! };
        }
        stack.pop();
        i++;
      }
    }
  }

  /** An object key and its colon, from b[i] === c; returns where the value starts. */
  private key(i: number, frame: Frame, c: number): number {
    if (c !== 0x22) throw syntaxError(c, 'looking for beginning of object key string');
    const s = this.string(i);
    frame.key = s.node.kind === 'string' ? s.node.value : '';
    i = skipSpace(this.b, s.end);
    const colon = this.at(i);
    if (colon !== 0x3a) throw syntaxError(colon, 'after object key');
    return i + 1;
  }

  private scalar(i: number, c: number): { node: JsonNode; end: number } {
    if (c === 0x22) return this.string(i);
    if (c === 0x2d || isDigit(c)) return this.number(i);
    if (c === 0x74) return { node: { kind: 'bool', value: true }, end: this.literal(i, 'true') };
    if (c === 0x66) return { node: { kind: 'bool', value: false }, end: this.literal(i, 'false') };
    if (c === 0x6e) return { node: { kind: 'null' }, end: this.literal(i, 'null') };
    throw syntaxError(c, 'looking for beginning of value');
  }

  private literal(i: number, word: string): number {
    for (let k = 1; k < word.length; k++) {
      const c = this.at(i + k);
      if (c !== word.charCodeAt(k)) throw syntaxError(c, `in literal ${word} (expecting '${word[k]}')`);
    }
    return i + word.length;
  }

  private string(start: number): { node: JsonNode; end: number } {
    let i = start + 1;
    let escaped = false;
    for (;;) {
      const c = this.at(i);
      if (c === 0x22) break;
      if (c === 0x5c) {
        escaped = true;
        const e = this.at(i + 1);
        if (e === 0x75) {
          for (let k = 2; k < 6; k++) {
            const h = this.at(i + k);
            if (!isHex(h)) throw syntaxError(h, 'in \\u hexadecimal character escape');
          }
          i += 6;
          continue;
        }
        if (!'bfnrt\\/"'.includes(String.fromCharCode(e))) throw syntaxError(e, 'in string escape code');
        i += 2;
        continue;
      }
      if (c < 0x20) throw syntaxError(c, 'in string literal');
      i++;
    }
    const raw = this.b.subarray(start + 1, i);
    const value = escaped ? unescape(raw) : Buffer.from(raw).toString('utf8');
    return { node: { kind: 'string', raw, value }, end: i + 1 };
  }

  private number(start: number): { node: JsonNode; end: number } {
    let i = start;
    const peek = (): number => {
      if (i < this.b.length) return this.b[i]!;
      if (this.atEof) return -1;
      throw INCOMPLETE;
    };
    const digits = (): void => {
      while (isDigit(peek())) i++;
    };
    const need = (context: string): void => {
      const c = peek();
      if (c === -1) throw INCOMPLETE;
      if (!isDigit(c)) throw syntaxError(c, context);
    };
    if (peek() === 0x2d) {
      i++;
      need('in numeric literal');
    }
    if (peek() === 0x30) i++;
    else digits();
    if (peek() === 0x2e) {
      i++;
      need('after decimal point in numeric literal');
      digits();
    }
    const e = peek();
    if (e === 0x65 || e === 0x45) {
      i++;
      const s = peek();
      if (s === 0x2b || s === 0x2d) i++;
      need('in exponent of numeric literal');
      digits();
    }
    return {
      node: { kind: 'number', raw: Buffer.from(this.b.subarray(start, i)).toString('latin1') },
      end: i,
    };
  }
}

/** Go's unquote of a string body with escapes: lone surrogates become U+FFFD. */
function unescape(raw: Uint8Array): string {
  let out = '';
  let i = 0;
  let from = 0;
  const flush = (to: number): void => {
    if (to > from) out += Buffer.from(raw.subarray(from, to)).toString('utf8');
  };
  const u4 = (at: number): number => parseInt(Buffer.from(raw.subarray(at, at + 4)).toString('latin1'), 16);
  while (i < raw.length) {
    if (raw[i] !== 0x5c) {
      i++;
      continue;
    }
    flush(i);
    const e = raw[i + 1]!;
    if (e === 0x75) {
      let r = u4(i + 2);
      i += 6;
      if (r >= 0xd800 && r < 0xe000) {
        const r2 = raw[i] === 0x5c && raw[i + 1] === 0x75 ? u4(i + 2) : -1;
        if (r < 0xdc00 && r2 >= 0xdc00 && r2 < 0xe000) {
          out += String.fromCharCode(r, r2);
          i += 6;
          from = i;
          continue;
        }
        r = 0xfffd;
      }
      out += String.fromCharCode(r);
    } else {
      const simple: Record<number, string> = { 0x62: '\b', 0x66: '\f', 0x6e: '\n', 0x72: '\r', 0x74: '\t' };
      out += simple[e] ?? String.fromCharCode(e);
      i += 2;
    }
    from = i;
  }
  flush(i);
  return out;
}

/** What json.Decoder.Decode makes of b[pos..]: a value, the end of the stream, or a need for more bytes. */
export type DecodeStep = { node: JsonNode; end: number } | { eof: true } | { more: true };

/**
 * One step of Go's json.Decoder over a growing buffer. atEof says no more bytes will come. Throws
 * GoJsonError with Go's words on a syntax error, and "unexpected EOF" when the input ends inside a value.
 */
export function decodeNext(b: Uint8Array, pos: number, atEof: boolean): DecodeStep {
  const start = skipSpace(b, pos);
  if (start >= b.length) return atEof ? { eof: true } : { more: true };
  try {
    return new Scanner(b, atEof).value(start);
  } catch (e) {
    if (e !== INCOMPLETE) throw e;
    if (atEof) throw new GoJsonError('unexpected EOF');
    return { more: true };
  }
}

/** json.Unmarshal's reading of a whole input: exactly one value, surrounded by white space only. */
export function unmarshalWhole(b: Uint8Array): JsonNode {
  let r: { node: JsonNode; end: number };
  try {
    r = new Scanner(b, true).value(0);
  } catch (e) {
    if (e === INCOMPLETE) throw new GoJsonError('unexpected end of JSON input');
    throw e;
  }
  const end = skipSpace(b, r.end);
  if (end < b.length) throw syntaxError(b[end]!, 'after top-level value');
  return r.node;
}

const HEX = '0123456789abcdef';

/** A JSON string literal as Go's json.Marshal writes it (HTML-safe: <, >, & escaped). */
export function goQuote(s: string): string {
  let out = '"';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc: string | undefined;
    if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26) {
      esc =
        c === 0x0a ? '\\n' : c === 0x0d ? '\\r' : c === 0x09 ? '\\t' : `\\u00${HEX[c >> 4]}${HEX[c & 15]}`;
    } else if (c === 0x22 || c === 0x5c) {
      esc = c === 0x22 ? '\\"' : '\\\\';
    } else if (c === 0x2028 || c === 0x2029) {
      esc = c === 0x2028 ? '\\u2028' : '\\u2029';
    } else if (c >= 0xd800 && c < 0xe000) {
      const pair = c < 0xdc00 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
      if (pair) {
        i++;
        continue;
      }
      esc = '\ufffd';
    }
    if (esc === undefined) continue;
    out += s.slice(from, i) + esc;
    from = i + 1;
  }
  return out + s.slice(from) + '"';
}

/** Go's %q of a byte string (strconv.Quote): how jsonpb names an unknown enum value. */
export function goQuoteBytes(b: Uint8Array): string {
  const s = Buffer.from(b).toString('utf8');
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c === 0x22) out += '\\"';
    else if (c < 0x100) out += goQuoteRune(c);
    else if (c === 0xfffd) out += '\\ufffd';
    else out += ch;
  }
  return out + '"';
}

/**
 * base64.StdEncoding.Decode as Go does it: padding required, \r and \n skipped, and the offset of the
 * first bad byte in the message ("illegal base64 data at input byte N").
 */
export function goBase64Decode(src: Uint8Array): Uint8Array {
  const text = Buffer.from(src).toString('latin1');
  if (text.length % 4 === 0 && CLEAN_B64.test(text)) {
    const buf = Buffer.from(text, 'base64');
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
  }
  const out: number[] = [];
  let si = 0;
  const bad = (at: number): GoJsonError => new GoJsonError(`illegal base64 data at input byte ${at}`);
  const nl = (c: number | undefined): boolean => c === 0x0a || c === 0x0d;
  while (si < src.length) {
    const q = [0, 0, 0, 0];
    let n = 0;
    for (; n < 4; n++) {
      if (si === src.length) {
        if (n === 0) return Uint8Array.from(out);
        throw bad(si - n);
      }
      const c = src[si++]!;
      const v = B64.indexOf(String.fromCharCode(c));
      if (v >= 0 && c !== 0x3d) {
        q[n] = v;
        continue;
      }
      if (nl(c)) {
        n--;
        continue;
      }
      if (c !== 0x3d || n < 2) throw bad(si - 1);
      if (n === 2) {
        while (si < src.length && nl(src[si])) si++;
        if (si === src.length) throw bad(src.length);
        if (src[si] !== 0x3d) throw bad(si - 1);
        si++;
      }
      while (si < src.length && nl(src[si])) si++;
      if (si < src.length) throw bad(si);
      break;
    }
    const v = (q[0]! << 18) | (q[1]! << 12) | (q[2]! << 6) | q[3]!;
    out.push((v >> 16) & 0xff);
    if (n > 2) out.push((v >> 8) & 0xff);
    if (n > 3) out.push(v & 0xff);
  }
  return Uint8Array.from(out);
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=';
/** Input the fast path may hand to node's decoder: whole quanta, padding only at the end. */
const CLEAN_B64 = /^[A-Za-z0-9+/]*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

// Go's encoding/json as the gateway needs it. The expected error words are what etcd 3.4's gateway
// answered for the same bodies (curl against Debian's etcd 3.4.23).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  GoJsonError,
  decodeNext,
  goBase64Decode,
  goQuote,
  goQuoteBytes,
  quoteChar,
  unmarshalWhole,
  type JsonNode,
} from './gateway-json.js';

const b = (s: string): Uint8Array => Buffer.from(s, 'utf8');

/** The error json.Decoder.Decode gives for a whole body, or 'ok'. */
function decodeError(body: string): string {
  try {
    decodeNext(b(body), 0, true);
    return 'ok';
  } catch (e) {
    assert.ok(e instanceof GoJsonError);
    return e.message;
  }
}

void test("syntax errors are worded as Go's scanner words them", () => {
  const cases: [string, string][] = [
    ['{bad', "invalid character 'b' looking for beginning of object key string"],
    ['{"key":"Zm9v"', 'unexpected EOF'],
    ['{"key"', 'unexpected EOF'],
    ['{"key" 1}', "invalid character '1' after object key"],
    ['{"key":1 2}', "invalid character '2' after object key:value pair"],
    ['[1,]', "invalid character ']' looking for beginning of value"],
    ['[1 2]', "invalid character '2' after array element"],
    ['tru', 'unexpected EOF'],
    ['trux', "invalid character 'x' in literal true (expecting 'e')"],
    ['nul', 'unexpected EOF'],
    ['fx', "invalid character 'x' in literal false (expecting 'a')"],
    ['-', 'unexpected EOF'],
    ['-x', "invalid character 'x' in numeric literal"],
    ['1.x', "invalid character 'x' after decimal point in numeric literal"],
    ['1ex', "invalid character 'x' in exponent of numeric literal"],
    ['"a\\qb"', "invalid character 'q' in string escape code"],
    ['"a\\u12x"', "invalid character 'x' in \\u hexadecimal character escape"],
    ['"a\u0001"', "invalid character '\\x01' in string literal"],
    ["'x'", "invalid character '\\'' looking for beginning of value"],
    ['\u00e9', "invalid character 'Ã' looking for beginning of value"],
    ['{,}', "invalid character ',' looking for beginning of object key string"],
    ['{"a":1,}', "invalid character '}' looking for beginning of object key string"],
    ['{"key":"Zm9v"} {bad', 'ok'],
    ['123', 'ok'],
  ];
  for (const [body, want] of cases) assert.equal(decodeError(body), want, body);
});

void test('quoteChar names bytes as strconv.Quote would', () => {
  assert.equal(quoteChar(0x27), `'\\''`);
  assert.equal(quoteChar(0x22), `'"'`);
  assert.equal(quoteChar(0x5c), `'\\\\'`);
  assert.equal(quoteChar(0x0a), `'\\n'`);
  assert.equal(quoteChar(0x00), `'\\x00'`);
  assert.equal(quoteChar(0x7f), `'\\x7f'`);
  assert.equal(quoteChar(0x85), `'\\u0085'`);
  assert.equal(quoteChar(0xff), `'ÿ'`);
});

void test('decodeNext reads values one by one, asks for more mid-value, and ends at the end', () => {
  const input = b(' {"a":[1,{"b":null}]}\n{"c":"\\u00e9\\ud83d\\ude00"} 12');
  const nodes: JsonNode[] = [];
  let pos = 0;
  for (;;) {
    const step = decodeNext(input, pos, true);
    if ('eof' in step) break;
    assert.ok('node' in step);
    nodes.push(step.node);
    pos = step.end;
  }
  assert.equal(nodes.length, 3);
  const second = nodes[1]!;
  assert.ok(second.kind === 'object');
  const c = second.fields.get('c');
  assert.ok(c?.kind === 'string');
  assert.equal(c.value, 'é😀');
  assert.equal(Buffer.from(c.raw).toString(), '\\u00e9\\ud83d\\ude00');
  assert.deepEqual(nodes[2], { kind: 'number', raw: '12' });
  // Every prefix of a value needs more bytes, not an error; at the end of input it is "unexpected EOF".
  const whole = b('{"k":[true,false,null,-1.5e+3,"x\\n"]}');
  for (let n = 1; n < whole.length; n++) {
    assert.deepEqual(decodeNext(whole.subarray(0, n), 0, false), { more: true }, `prefix ${n}`);
  }
  assert.ok('node' in decodeNext(whole, 0, false));
  // A number running to the end of what arrived so far may go on.
  assert.deepEqual(decodeNext(b('12'), 0, false), { more: true });
  assert.deepEqual(decodeNext(b('  '), 0, false), { more: true });
  assert.deepEqual(decodeNext(b('  '), 0, true), { eof: true });
});

void test('duplicate keys: the last one wins, as in a Go map', () => {
  const step = decodeNext(b('{"a":1,"a":2}'), 0, true);
  assert.ok('node' in step && step.node.kind === 'object');
  assert.deepEqual(step.node.fields.get('a'), { kind: 'number', raw: '2' });
});

void test("nesting beyond Go's 10000 levels is refused, deep nesting below it is read", () => {
  assert.ok('node' in decodeNext(b('['.repeat(10000) + ']'.repeat(10000)), 0, true));
  assert.equal(decodeError('['.repeat(10001)), "invalid character '[' exceeded max depth");
});

void test("unmarshalWhole is json.Unmarshal's reading: one value and white space only", () => {
  const err = (s: string): string => {
    try {
      unmarshalWhole(b(s));
      return 'ok';
    } catch (e) {
      return (e as Error).message;
    }
  };
  assert.equal(err(''), 'unexpected end of JSON input');
  assert.equal(err('1 2'), "invalid character '2' after top-level value");
  assert.equal(err('x'), "invalid character 'x' looking for beginning of value");
  assert.equal(err('-'), 'unexpected end of JSON input');
  assert.equal(err(' 12 '), 'ok');
  assert.deepEqual(unmarshalWhole(b('12')), { kind: 'number', raw: '12' });
});

void test('goQuote escapes as encoding/json does (HTML-safe)', () => {
  assert.equal(goQuote('plain'), '"plain"');
  assert.equal(goQuote('a"b\\c'), '"a\\"b\\\\c"');
  assert.equal(goQuote('<a>&\n\r\t\b\f\u0001'), '"\\u003ca\\u003e\\u0026\\n\\r\\t\\u0008\\u000c\\u0001"');
  assert.equal(goQuote('\u2028\u2029é😀'), '"\\u2028\\u2029é😀"');
  assert.equal(goQuote('\ud800x'), '"\ufffdx"');
});

void test('goQuoteBytes is %q of a byte string', () => {
  assert.equal(goQuoteBytes(b('NOPE')), '"NOPE"');
  assert.equal(goQuoteBytes(b('N\\u004fPE')), '"N\\\\u004fPE"');
  assert.equal(goQuoteBytes(b('a"b\n')), '"a\\"b\\n"');
});

void test("base64 decoding accepts and refuses what Go's StdEncoding does, at the same byte", () => {
  const err = (s: string): string => {
    try {
      return Buffer.from(goBase64Decode(b(s))).toString('latin1');
    } catch (e) {
      return (e as Error).message;
    }
  };
  assert.equal(err('Zm9v'), 'foo');
  assert.equal(err('Zg=='), 'f');
  assert.equal(err('Zm8='), 'fo');
  assert.equal(err(''), '');
  assert.equal(err('Z\ng=='), 'f');
  assert.equal(err('Zm9'), 'illegal base64 data at input byte 0');
  assert.equal(err('Zm9v='), 'illegal base64 data at input byte 4');
  assert.equal(err('Zg'), 'illegal base64 data at input byte 0');
  assert.equal(err('Zg='), 'illegal base64 data at input byte 3');
  assert.equal(err('Zg==x'), 'illegal base64 data at input byte 4');
  assert.equal(err('Zm9v_-'), 'illegal base64 data at input byte 4');
  assert.equal(err('!!!'), 'illegal base64 data at input byte 0');
  assert.equal(err('Z==='), 'illegal base64 data at input byte 1');
  const big = Buffer.alloc(100_000, 7);
  assert.deepEqual(Buffer.from(goBase64Decode(b(big.toString('base64')))), big);
});

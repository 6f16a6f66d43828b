// Go-compatible value syntax and flag parsing (checked against etcd 3.4.23's behaviour).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseFlagArgs,
  parseGoBool,
  parseGoDuration,
  parseGoInt,
  parseGoUint,
  splitHostPort,
} from './flags.js';
import type { FlagSpec } from './flags.js';

void test('unsigned integers accept Go base prefixes and digit-separating underscores', () => {
  assert.equal(parseGoUint('100000', 64), 100000n);
  assert.equal(parseGoUint('0x10', 64), 16n);
  assert.equal(parseGoUint('0b101', 64), 5n);
  assert.equal(parseGoUint('010', 64), 8n);
  assert.equal(parseGoUint('0o17', 64), 15n);
  assert.equal(parseGoUint('1_000', 64), 1000n);
  assert.equal(parseGoUint('18446744073709551615', 64), 18446744073709551615n);
  for (const bad of ['', '_1', '1__0', '08', '0x', '-1', '+1', 'abc', '1_']) {
    assert.throws(() => parseGoUint(bad, 64), { reason: 'syntax' }, bad);
  }
  assert.throws(() => parseGoUint('18446744073709551616', 64), { reason: 'range' });
  assert.throws(() => parseGoUint('4294967296', 32), {
    message: 'strconv.ParseUint: parsing "4294967296": value out of range',
  });
});

void test('signed integers and booleans follow strconv', () => {
  assert.equal(parseGoInt('-5', 64), -5n);
  assert.equal(parseGoInt('+5', 64), 5n);
  assert.equal(parseGoInt('-9223372036854775808', 64), -9223372036854775808n);
  assert.throws(() => parseGoInt('9223372036854775808', 64), { reason: 'range' });
  assert.equal(parseGoBool('T'), true);
  assert.equal(parseGoBool('0'), false);
  assert.throws(() => parseGoBool('yes'), { reason: 'syntax' });
});

void test('durations follow time.ParseDuration, in nanoseconds', () => {
  assert.equal(parseGoDuration('0'), 0n);
  assert.equal(parseGoDuration('100ms'), 100_000_000n);
  assert.equal(parseGoDuration('1.5h'), 5_400_000_000_000n);
  assert.equal(parseGoDuration('1h30m'), 5_400_000_000_000n);
  assert.equal(parseGoDuration('.5s'), 500_000_000n);
  assert.equal(parseGoDuration('-1s'), -1_000_000_000n);
  assert.equal(parseGoDuration('2µs'), 2000n);
  assert.throws(() => parseGoDuration('abc'), { message: 'time: invalid duration "abc"' });
  assert.throws(() => parseGoDuration('1'), { message: 'time: missing unit in duration "1"' });
  assert.throws(() => parseGoDuration('1x'), { message: 'time: unknown unit "x" in duration "1x"' });
  assert.throws(() => parseGoDuration(''), { message: 'time: invalid duration ""' });
});

void test('host:port splitting follows net.SplitHostPort', () => {
  assert.deepEqual(splitHostPort('localhost:2379'), { host: 'localhost', port: '2379' });
  assert.deepEqual(splitHostPort('[::1]:2379'), { host: '::1', port: '2379' });
  assert.deepEqual(splitHostPort(':2379'), { host: '', port: '2379' });
  assert.equal(splitHostPort('localhost'), undefined);
  assert.equal(splitHostPort('::1:2379'), undefined);
  assert.equal(splitHostPort('[::1]'), undefined);
});

void test('flag parsing: forms, terminator, first non-flag stops, help', () => {
  const seen: [string, string][] = [];
  const lookup = (name: string): FlagSpec | undefined =>
    ['a', 'b'].includes(name)
      ? { name, isBool: name === 'b', set: (v) => void seen.push([name, v]) }
      : undefined;
  assert.deepEqual(parseFlagArgs(['--a', 'x', '-a=y', '--b', 'rest', '--a', 'z'], lookup), {
    kind: 'ok',
    setNames: ['a', 'a', 'b'],
    positional: ['rest', '--a', 'z'],
  });
  assert.deepEqual(seen, [
    ['a', 'x'],
    ['a', 'y'],
    ['b', 'true'],
  ]);
  assert.deepEqual(parseFlagArgs(['--', '--a'], lookup), { kind: 'ok', setNames: [], positional: ['--a'] });
  assert.deepEqual(parseFlagArgs(['--a', '--b'], lookup), { kind: 'ok', setNames: ['a'], positional: [] });
  assert.deepEqual(parseFlagArgs(['-h'], lookup), { kind: 'help' });
  assert.deepEqual(parseFlagArgs(['--c'], lookup), {
    kind: 'error',
    message: 'flag provided but not defined: -c',
  });
  assert.deepEqual(parseFlagArgs(['-=x'], lookup), { kind: 'error', message: 'bad flag syntax: -=x' });
});

// The etcd-shaped logger: line shape, level filtering, value rendering, outputs, and that lines
// written before the process is killed are complete and not lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, encodeLogValue, formatCapnslogTime, formatZapTime, readableBytes } from './logger.js';

process.env['TZ'] = 'UTC';
const at = new Date(Date.UTC(2026, 10, 22, 4, 30, 0, 123));

function tempFile(): string {
  return join(mkdtempSync(join(tmpdir(), 'ketch-log-')), 'out.log');
}

function lines(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

void test('JSON lines have zap field order and etcd timestamp format', () => {
  const path = tempFile();
  const lg = createLogger({ level: 'info', format: 'json', output: path, now: () => at });
  lg.info('ready to serve client requests', { address: '127.0.0.1:2379' });
  lg.close();
  const text = readFileSync(path, 'utf8');
  assert.match(
    text,
    /^\{"level":"info","ts":"2026-11-22T04:30:00\.123Z","caller":"platform\/logger\.test\.js:\d+","msg":"ready to serve client requests","address":"127\.0\.0\.1:2379"\}\n$/,
  );
});

void test('levels below the configured one are dropped', () => {
  const path = tempFile();
  const lg = createLogger({ level: 'warn', output: path, now: () => at, caller: false });
  lg.debug('d');
  lg.info('i');
  lg.warn('w');
  lg.error('e');
  lg.close();
  assert.deepEqual(
    lines(path).map((l) => [l['level'], l['msg']]),
    [
      ['warn', 'w'],
      ['error', 'e'],
    ],
  );
  assert.equal(lg.enabled('debug'), false);
  assert.equal(lg.enabled('error'), true);
});

void test('bigints are exact decimal numbers; bytes, errors and nested values are readable', () => {
  assert.equal(encodeLogValue(18446744073709551615n), '18446744073709551615');
  assert.equal(encodeLogValue(-5n), '-5');
  assert.equal(encodeLogValue(new TextEncoder().encode('foo/bar')), '"foo/bar"');
  assert.equal(encodeLogValue(new Uint8Array([0, 1, 0xff, 0x41])), '"\\\\x00\\\\x01\\\\xffA"');
  assert.equal(readableBytes(new Uint8Array([0x61, 0x5c, 0x62])), 'a\\\\b');
  assert.equal(readableBytes(new Uint8Array(300).fill(0x61)), `${'a'.repeat(256)}...(300 bytes)`);
  assert.equal(encodeLogValue(new Error('etcdserver: request timed out')), '"etcdserver: request timed out"');
  assert.equal(
    encodeLogValue({ a: [1n, 'x', null, undefined], b: new Map([['k', true]]) }),
    '{"a":[1,"x",null,null],"b":{"k":true}}',
  );
  assert.equal(encodeLogValue(NaN), '"NaN"');
  assert.equal(encodeLogValue(new URL('http://127.0.0.1:2379')), '"http://127.0.0.1:2379"');
  const loop: Record<string, unknown> = { name: 'x' };
  loop['self'] = loop;
  assert.equal(encodeLogValue(loop), '{"name":"x","self":"[Circular]"}');

  const path = tempFile();
  const lg = createLogger({ level: 'debug', output: path, now: () => at, caller: false });
  lg.info('applied', { index: 9007199254740993n, key: new TextEncoder().encode('k1') });
  lg.close();
  assert.equal(
    readFileSync(path, 'utf8'),
    '{"level":"info","ts":"2026-11-22T04:30:00.123Z","msg":"applied","index":9007199254740993,"key":"k1"}\n',
  );
});

void test('with() binds fields; panic writes then throws; fatal writes then exits 1', () => {
  const path = tempFile();
  let exited = -1;
  const lg = createLogger({
    level: 'info',
    output: path,
    now: () => at,
    caller: false,
    exit: (code: number): never => {
      exited = code;
      throw new Error('exit');
    },
  });
  const member = lg.with({ 'local-member-id': '8e9e05c52164694d' });
  member.info('became leader at term 2', { term: 2n });
  assert.throws(() => lg.panic('invariant broken', { index: 3n }), { message: 'invariant broken' });
  assert.throws(() => lg.fatal('discovery failed', { error: new Error('boom') }), { message: 'exit' });
  assert.equal(exited, 1);
  lg.close();
  lg.close();
  assert.deepEqual(lines(path), [
    {
      level: 'info',
      ts: '2026-11-22T04:30:00.123Z',
      msg: 'became leader at term 2',
      'local-member-id': '8e9e05c52164694d',
      term: 2,
    },
    { level: 'panic', ts: '2026-11-22T04:30:00.123Z', msg: 'invariant broken', index: 3 },
    { level: 'fatal', ts: '2026-11-22T04:30:00.123Z', msg: 'discovery failed', error: 'boom' },
  ]);
});

void test('capnslog format matches etcd 3.4 text lines', () => {
  const path = tempFile();
  const lg = createLogger({
    level: 'info',
    format: 'capnslog',
    pkg: 'etcdserver',
    output: path,
    now: () => at,
  });
  lg.info('published {Name:default ClientURLs:[http://localhost:2379]} to cluster cdf818194e3a8c32');
  lg.warn('slow fdatasync', { took: '1.2s' });
  lg.close();
  assert.equal(
    readFileSync(path, 'utf8'),
    '2026-11-22 04:30:00.123000 I | etcdserver: published {Name:default ClientURLs:[http://localhost:2379]} to cluster cdf818194e3a8c32\n' +
      '2026-11-22 04:30:00.123000 W | etcdserver: slow fdatasync {"took":"1.2s"}\n',
  );
});

void test('timestamps are local time with the zone offset, as zap and capnslog print them', () => {
  const saved = process.env['TZ'];
  process.env['TZ'] = 'Asia/Kolkata';
  try {
    assert.equal(formatZapTime(at), '2026-11-22T10:00:00.123+0530');
    assert.equal(formatCapnslogTime(at), '2026-11-22 10:00:00.123000');
  } finally {
    process.env['TZ'] = saved;
  }
});

void test('/dev/null discards; a file output is appended to, not truncated', () => {
  const path = tempFile();
  writeFileSync(path, 'existing\n');
  const lg = createLogger({ level: 'info', output: [path, '/dev/null'], caller: false });
  lg.info('x');
  lg.close();
  assert.equal(readFileSync(path, 'utf8'), 'existing\n');
  const lg2 = createLogger({ level: 'info', output: path, caller: false, now: () => at });
  lg2.info('y');
  lg2.close();
  const [first, second, rest] = readFileSync(path, 'utf8').split('\n');
  assert.equal(first, 'existing');
  assert.equal(second, '{"level":"info","ts":"2026-11-22T04:30:00.123Z","msg":"y"}');
  assert.equal(rest, '');
});

void test('lines written to stderr before SIGKILL are complete and none is lost', () => {
  const moduleUrl = new URL('./logger.js', import.meta.url).href;
  const script = `
    import { createLogger } from ${JSON.stringify(moduleUrl)};
    const lg = createLogger({ level: 'info', output: 'stderr' });
    for (let i = 0; i < 300; i++) lg.info('line', { i, pad: 'x'.repeat(3000) });
    process.kill(process.pid, 'SIGKILL');
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  assert.equal(r.signal, 'SIGKILL');
  const got = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(got.length, 300);
  got.forEach((l, i) => {
    const obj = JSON.parse(l) as { i: number; msg: string };
    assert.equal(obj.i, i);
    assert.equal(obj.msg, 'line');
  });
});

// `etcdctl watch` (Debian's etcdctl 3.4) against the server under test: exact output for a key, a
// prefix, a start revision in the past, --prev-kv, -w json, a compacted start, and the interactive
// mode (-i) with its `progress` command. Watches start at an explicit revision (the revision before
// the test's first write + 1), so a write made before etcdctl's stream is up is still seen; each
// test ends with a sentinel write and waits for it, so "exactly this output" needs no timing.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, target, type ServerHandle } from './harness.js';
import { Ctl, b64, currentRevision } from './ctl-helpers.js';
import { CtlWatch } from './watch-helpers.js';

/** etcdctl's -w json watch line with the run-specific header fields replaced. */
function normalizeWatchJson(line: string): string {
  return line.replace(
    /"Header":\{"cluster_id":\d+,"member_id":\d+,("revision":\d+,)?"raft_term":\d+\}/,
    (_, rev: string | undefined) => `"Header":{C,M,${rev ?? ''}T}`,
  );
}

function kv(key: string, create: bigint, mod: bigint, version: bigint, value: string): string {
  const parts = [`"key":"${b64(key)}"`];
  if (create !== 0n) parts.push(`"create_revision":${create}`);
  parts.push(`"mod_revision":${mod}`);
  if (version !== 0n) parts.push(`"version":${version}`);
  if (value !== '') parts.push(`"value":"${b64(value)}"`);
  return `{${parts.join(',')}}`;
}

void describe(`etcdctl 3.4 watch against ${target()}`, () => {
  let server: ServerHandle;
  let ctl: Ctl;
  const watches: CtlWatch[] = [];
  const watch = (...args: string[]): CtlWatch => {
    const w = new CtlWatch(server.clientUrl, args);
    watches.push(w);
    return w;
  };
  const put = (k: string, v: string) => ctl.ok(['put', k, v]);
  const del = (k: string) => ctl.ok(['del', k]);
  const rev = () => currentRevision(server.clientUrl);

  before(async () => {
    server = await startServer(target());
    ctl = new Ctl(server.clientUrl);
  });
  after(async () => {
    for (const w of watches) await w.stop();
    await server?.stop();
  });

  void it('watch KEY prints each PUT and DELETE of that key only, with key and value lines', async () => {
    const r0 = await rev();
    const w = watch('--rev', String(r0 + 1n), 'k1');
    await put('k1', 'a');
    await put('k10', 'not watched');
    await put('k1', 'b');
    await del('k1');
    await put('k1', 'end');
    const out = await w.waitFor((s) => s.includes('end\n'), 'the sentinel');
    assert.equal(out, 'PUT\nk1\na\nPUT\nk1\nb\nDELETE\nk1\n\nPUT\nk1\nend\n');
    assert.equal(w.stderr, '');
  });

  void it('watch --prefix prints the events of every key under the prefix, in revision order', async () => {
    const r0 = await rev();
    const w = watch('--prefix', '--rev', String(r0 + 1n), 'p/');
    await put('p/a', '1');
    await put('p', 'outside');
    await put('q/a', 'outside');
    await put('p/b', '2');
    await ctl.ok(['del', 'p/', '--prefix']);
    await put('p/z', 'end');
    const out = await w.waitFor((s) => s.includes('end\n'), 'the sentinel');
    assert.equal(out, 'PUT\np/a\n1\nPUT\np/b\n2\nDELETE\np/a\n\nDELETE\np/b\n\nPUT\np/z\nend\n');
  });

  void it('watch --rev in the past replays the history first, then follows new writes', async () => {
    const r0 = await rev();
    await put('h', 'v1');
    await put('h', 'v2');
    await del('h');
    const w = watch('--rev', String(r0 + 1n), 'h');
    await w.lines(9);
    await put('h', 'end');
    const out = await w.waitFor((s) => s.includes('end\n'), 'the sentinel');
    assert.equal(out, 'PUT\nh\nv1\nPUT\nh\nv2\nDELETE\nh\n\nPUT\nh\nend\n');
  });

  void it('watch --prev-kv prints the previous key and value before each changed one', async () => {
    const r0 = await rev();
    await put('pv', 'old');
    const w = watch('--prev-kv', '--rev', String(r0 + 2n), 'pv');
    await put('pv', 'new');
    await del('pv');
    await put('pv', 'end');
    const out = await w.waitFor((s) => s.includes('end\n'), 'the sentinel');
    assert.equal(out, 'PUT\npv\nold\npv\nnew\nDELETE\npv\nnew\npv\n\nPUT\npv\nend\n');
  });

  void it('watch -w json prints one WatchResponse per write with exact revisions', async () => {
    const r0 = await rev();
    const w = watch('-w', 'json', '--prev-kv', '--rev', String(r0 + 1n), 'j');
    // One write at a time, each awaited in the output: every response then holds one revision.
    await put('j', 'v1');
    await w.lines(1);
    await put('j', 'v2');
    await w.lines(2);
    await del('j');
    const lines = (await w.lines(3)).map(normalizeWatchJson);
    const resp = (r: bigint, events: string) =>
      `{"Header":{C,M,"revision":${r},T},"Events":[${events}],"CompactRevision":0,"Canceled":false,"Created":false}`;
    assert.deepStrictEqual(lines, [
      resp(r0 + 1n, `{"kv":${kv('j', r0 + 1n, r0 + 1n, 1n, 'v1')}}`),
      resp(
        r0 + 2n,
        `{"kv":${kv('j', r0 + 1n, r0 + 2n, 2n, 'v2')},"prev_kv":${kv('j', r0 + 1n, r0 + 1n, 1n, 'v1')}}`,
      ),
      resp(
        r0 + 3n,
        `{"type":1,"kv":${kv('j', 0n, r0 + 3n, 0n, '')},"prev_kv":${kv('j', r0 + 1n, r0 + 2n, 2n, 'v2')}}`,
      ),
    ]);
  });

  void it('a start revision below the compaction: canceled with the compact revision, exit 5', async () => {
    const r0 = await rev();
    await put('c', 'v1');
    await put('c', 'v2');
    await ctl.ok(['compact', String(r0 + 2n)]);
    const w = watch('-w', 'json', '--rev', String(r0 + 1n), 'c');
    assert.equal(await w.exit, 5);
    assert.equal(
      normalizeWatchJson(w.stdout),
      `{"Header":{C,M,T},"Events":[],"CompactRevision":${r0 + 2n},"Canceled":true,"Created":false}\n`,
    );
    assert.equal(
      w.stderr,
      'watch was canceled (etcdserver: mvcc: required revision has been compacted)\n' +
        'Error: watch is canceled by the server\n',
    );
    // The compaction revision itself is still served.
    const at = watch('--rev', String(r0 + 2n), 'c');
    assert.equal(await at.waitFor((s) => s.includes('v2\n'), 'the event at the compaction'), 'PUT\nc\nv2\n');
  });

  void it('watch -i: watch commands, then progress reports the revision every watcher has reached', async () => {
    const r0 = await rev();
    const w = watch('-i');
    w.send(`watch --rev ${r0 + 1n} i/a`);
    w.send(`watch --prefix --rev ${r0 + 1n} i/b`);
    await put('i/a', '1');
    await w.lines(3);
    await put('i/b/x', '2');
    await w.lines(6);
    await put('i/c', 'unwatched');
    w.send('progress');
    const lines = await w.lines(8);
    assert.deepStrictEqual(lines, [
      'PUT',
      'i/a',
      '1',
      'PUT',
      'i/b/x',
      '2',
      `progress notify: ${r0 + 3n}`,
      `progress notify: ${r0 + 3n}`,
    ]);
    w.send('bogus');
    w.send('watch');
    await w.waitFor(() => w.stderr.split('\n').length > 2, 'two complaints');
    assert.equal(
      w.stderr,
      'Invalid command bogus (only support watch)\nInvalid command watch (command type or key is not provided)\n',
    );
  });
});

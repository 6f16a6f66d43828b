// Drives the server under test (KETCH_E2E_TARGET, default ketch) with Debian's etcdctl 3.4 and
// asserts etcdctl's exact output: put/get/del and their flags, txn -i, compaction, endpoint
// health/status and the errors a user sees. Revisions are asserted relative to the revision read at
// the start of each test, so every test is exact without depending on the others' writes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, target, type ServerHandle } from './harness.js';
import { Ctl, hdr, kvJson, currentRevision } from './ctl-helpers.js';

void describe(`etcdctl 3.4 against ${target()}`, () => {
  let server: ServerHandle;
  let ctl: Ctl;
  const rev = () => currentRevision(server.clientUrl);

  before(async () => {
    server = await startServer(target());
    ctl = new Ctl(server.clientUrl);
  });
  after(async () => {
    await server?.stop();
  });

  void it('a fresh server is at revision 1 and its first write makes revision 2', async () => {
    assert.equal(await rev(), 1n);
    assert.equal(await ctl.json(['put', 'first', 'x']), `{${hdr(2n)}}\n`);
  });

  void it('put prints OK; get prints key and value lines', async () => {
    assert.equal(await ctl.ok(['put', 'p/k', 'hello world']), 'OK\n');
    assert.equal(await ctl.ok(['get', 'p/k']), 'p/k\nhello world\n');
    assert.equal(await ctl.ok(['get', 'p/missing']), '');
  });

  void it('put --prev-kv prints the previous key and value after OK', async () => {
    assert.equal(await ctl.ok(['put', 'pv/k', 'one', '--prev-kv']), 'OK\n');
    assert.equal(await ctl.ok(['put', 'pv/k', 'two', '--prev-kv']), 'OK\npv/k\none\n');
  });

  void it('put -w json and get -w json carry exact revisions and versions', async () => {
    const r0 = await rev();
    assert.equal(await ctl.json(['put', 'j/a', 'v1']), `{${hdr(r0 + 1n)}}\n`);
    assert.equal(await ctl.json(['put', 'j/a', 'v2']), `{${hdr(r0 + 2n)}}\n`);
    assert.equal(await ctl.json(['put', 'j/b', '']), `{${hdr(r0 + 3n)}}\n`);
    const kvs = [kvJson('j/a', r0 + 1n, r0 + 2n, 2n, 'v2'), kvJson('j/b', r0 + 3n, r0 + 3n, 1n, '')];
    assert.equal(
      await ctl.json(['get', 'j/', '--prefix']),
      `{${hdr(r0 + 3n)},"kvs":[${kvs.join(',')}],"count":2}\n`,
    );
    assert.equal(await ctl.json(['get', 'j/none']), `{${hdr(r0 + 3n)}}\n`);
  });

  void it('get --prefix returns only keys under the prefix, in key order', async () => {
    for (const k of ['pre/b', 'pre/a', 'pre/c', 'pre0', 'prf', 'pra']) await ctl.ok(['put', k, `v-${k}`]);
    assert.equal(
      await ctl.ok(['get', 'pre/', '--prefix']),
      'pre/a\nv-pre/a\npre/b\nv-pre/b\npre/c\nv-pre/c\n',
    );
    assert.equal(await ctl.ok(['get', 'pre/a', 'pre/c']), 'pre/a\nv-pre/a\npre/b\nv-pre/b\n');
  });

  void it('get --limit truncates and -w json reports more and the full count', async () => {
    const r0 = await rev();
    for (const k of ['lim/1', 'lim/2', 'lim/3']) await ctl.ok(['put', k, k]);
    assert.equal(await ctl.ok(['get', 'lim/', '--prefix', '--limit', '2']), 'lim/1\nlim/1\nlim/2\nlim/2\n');
    assert.equal(
      await ctl.json(['get', 'lim/', '--prefix', '--limit=1']),
      `{${hdr(r0 + 3n)},"kvs":[${kvJson('lim/1', r0 + 1n, r0 + 1n, 1n, 'lim/1')}],"more":true,"count":3}\n`,
    );
    assert.equal(
      await ctl.json(['get', 'lim/', '--prefix', '--limit=3']),
      `{${hdr(r0 + 3n)},"kvs":[${['1', '2', '3'].map((i, n) => kvJson(`lim/${i}`, r0 + BigInt(n + 1), r0 + BigInt(n + 1), 1n, `lim/${i}`)).join(',')}],"count":3}\n`,
    );
  });

  void it('get --sort-by orders by KEY, CREATE, VERSION, MODIFY and VALUE, ASCEND and DESCEND', async () => {
    // create order b,c,a; versions a=2 b=3 c=1; last writes c,b,a; values b<a<c.
    for (const [k, v] of [
      ['b', 'x'],
      ['c', '3'],
      ['a', 'x'],
      ['b', 'x'],
      ['b', '1'],
      ['a', '2'],
    ] as const) {
      await ctl.ok(['put', `s/${k}`, v]);
    }
    const expected: Record<string, string> = {
      KEY: 'abc',
      CREATE: 'bca',
      VERSION: 'cab',
      MODIFY: 'cba',
      VALUE: 'bac',
    };
    const keys = (s: string) =>
      s
        .split('\n')
        .filter((l) => l.startsWith('s/'))
        .map((l) => l.slice(2))
        .join('');
    for (const [by, order] of Object.entries(expected)) {
      assert.equal(
        keys(await ctl.ok(['get', 's/', '--prefix', `--sort-by=${by}`])),
        order,
        `${by} default order`,
      );
      assert.equal(
        keys(await ctl.ok(['get', 's/', '--prefix', `--sort-by=${by}`, '--order=ASCEND'])),
        order,
        by,
      );
      const desc = [...order].reverse().join('');
      assert.equal(
        keys(await ctl.ok(['get', 's/', '--prefix', `--sort-by=${by}`, '--order=DESCEND'])),
        desc,
        by,
      );
    }
    assert.equal(keys(await ctl.ok(['get', 's/', '--prefix', '--order=DESCEND'])), 'cba');
    assert.equal(await ctl.ok(['get', 's/', '--prefix', '--sort-by=VALUE', '--limit=1']), 's/b\n1\n');
  });

  void it('get --keys-only and --print-value-only', async () => {
    const r0 = await rev();
    await ctl.ok(['put', 'ko/a', 'va']);
    await ctl.ok(['put', 'ko/b', 'vb']);
    assert.equal(await ctl.ok(['get', 'ko/', '--prefix', '--keys-only']), 'ko/a\n\nko/b\n\n');
    assert.equal(
      await ctl.json(['get', 'ko/', '--prefix', '--keys-only']),
      `{${hdr(r0 + 2n)},"kvs":[${kvJson('ko/a', r0 + 1n, r0 + 1n, 1n)},${kvJson('ko/b', r0 + 2n, r0 + 2n, 1n)}],"count":2}\n`,
    );
    assert.equal(await ctl.ok(['get', 'ko/', '--prefix', '--print-value-only']), 'va\nvb\n');
  });

  void it('get --rev reads history: old values, deleted keys, new generations', async () => {
    const r0 = await rev();
    await ctl.ok(['put', 'r/k', 'v1']);
    await ctl.ok(['put', 'r/k', 'v2']);
    assert.equal(await ctl.ok(['del', 'r/k']), '1\n');
    await ctl.ok(['put', 'r/k', 'v3']);
    assert.equal(await ctl.ok(['get', 'r/k', `--rev=${r0 + 1n}`]), 'r/k\nv1\n');
    assert.equal(await ctl.ok(['get', 'r/k', '--rev', `${r0 + 2n}`]), 'r/k\nv2\n');
    assert.equal(await ctl.ok(['get', 'r/k', `--rev=${r0 + 3n}`]), '');
    assert.equal(await ctl.ok(['get', 'r/k', `--rev=${r0}`]), '');
    assert.equal(
      await ctl.json(['get', 'r/k', `--rev=${r0 + 2n}`]),
      `{${hdr(r0 + 4n)},"kvs":[${kvJson('r/k', r0 + 1n, r0 + 2n, 2n, 'v2')}],"count":1}\n`,
    );
    assert.equal(
      await ctl.json(['get', 'r/k']),
      `{${hdr(r0 + 4n)},"kvs":[${kvJson('r/k', r0 + 4n, r0 + 4n, 1n, 'v3')}],"count":1}\n`,
    );
    const future = 'etcdserver: mvcc: required revision is a future revision';
    await ctl.fails(['get', 'r/k', `--rev=${r0 + 5n}`], 'OutOfRange', future);
  });

  void it('del prints the deleted count; --prev-kv prints the deleted pairs; --prefix deletes a range', async () => {
    const r0 = await rev();
    for (const k of ['d/a', 'd/b', 'd/c', 'd0']) await ctl.ok(['put', k, `v${k}`]);
    assert.equal(await ctl.ok(['del', 'd/a', '--prev-kv']), '1\nd/a\nvd/a\n');
    assert.equal(await ctl.ok(['del', 'd/a']), '0\n');
    assert.equal(
      await ctl.json(['del', 'd/', '--prefix', '--prev-kv']),
      `{${hdr(r0 + 6n)},"deleted":2,"prev_kvs":[${kvJson('d/b', r0 + 2n, r0 + 2n, 1n, 'vd/b')},${kvJson('d/c', r0 + 3n, r0 + 3n, 1n, 'vd/c')}]}\n`,
    );
    assert.equal(await ctl.json(['del', 'd/', '--prefix']), `{${hdr(r0 + 6n)}}\n`);
    assert.equal(await ctl.ok(['get', 'd0']), 'd0\nvd0\n');
  });

  void it('get --from-key and del --from-key cover every key from the given one to the end', async () => {
    // "~" sorts after every other key these tests write.
    for (const k of ['~from/a', '~from/b', '~from/c']) await ctl.ok(['put', k, k.slice(-1)]);
    assert.equal(await ctl.ok(['get', '~from/b', '--from-key']), '~from/b\nb\n~from/c\nc\n');
    assert.equal(await ctl.ok(['get', '~from/b', '--from-key', '--limit=1', '--keys-only']), '~from/b\n\n');
    assert.equal(await ctl.ok(['del', '~from/b', '--from-key', '--prev-kv']), '2\n~from/b\nb\n~from/c\nc\n');
    assert.equal(await ctl.ok(['get', '~from/', '--from-key']), '~from/a\na\n');
  });

  void it('txn -i takes the success branch when every compare holds', async () => {
    const r0 = await rev();
    await ctl.ok(['put', 'x/t1', 'a']);
    await ctl.ok(['put', 'x/t2', 'b']);
    const input = [
      'value("x/t1") = "a"',
      'version("x/t2") > "0"',
      `create("x/t1") = "${r0 + 1n}"`,
      `mod("x/t2") < "${r0 + 3n}"`,
      'mod("x/t1") != "0"',
      '',
      'put x/t1 "a2"',
      'get x/t2',
      'del x/t3',
      '',
      'put x/t1 "fail"',
      '',
      '',
    ].join('\n');
    const prompts = 'compares:\nsuccess requests (get, put, del):\nfailure requests (get, put, del):\n';
    assert.equal(await ctl.ok(['txn', '-i'], input), `${prompts}SUCCESS\n\nOK\n\nx/t2\nb\n\n0\n`);
    assert.equal(await ctl.ok(['get', 'x/t1']), 'x/t1\na2\n');
  });

  void it('txn -i takes the failure branch; -w json shows per-op headers and revisions', async () => {
    const r0 = await rev();
    await ctl.ok(['put', 'y/t1', 'a']);
    const input = ['value("y/t1") = "zz"', '', 'put y/t1 "ok"', '', 'get y/t1', 'put y/t4 "f"', '', ''].join(
      '\n',
    );
    const prompts = 'compares:\nsuccess requests (get, put, del):\nfailure requests (get, put, del):\n';
    const range = `{"Response":{"ResponseRange":{"header":{"revision":${r0 + 1n}},"kvs":[${kvJson('y/t1', r0 + 1n, r0 + 1n, 1n, 'a')}],"count":1}}}`;
    const put = `{"Response":{"ResponsePut":{"header":{"revision":${r0 + 2n}}}}}`;
    assert.equal(
      await ctl.json(['txn', '-i'], input),
      `${prompts}{${hdr(r0 + 2n)},"responses":[${range},${put}]}\n`,
    );
    const versionInput = ['version("y/t1") = "2"', '', 'put y/t1 "ok"', '', 'del y/t4', '', ''].join('\n');
    assert.equal(await ctl.ok(['txn', '-i'], versionInput), `${prompts}FAILURE\n\n1\n`);
    assert.equal(await ctl.ok(['get', 'y/t1']), 'y/t1\na\n');
  });

  void it('txn -i: a key written twice in one branch is rejected', async () => {
    const input = ['', 'put dup "1"', 'put dup "2"', '', '', ''].join('\n');
    await ctl.fails(
      ['txn', '-i'],
      'InvalidArgument',
      'etcdserver: duplicate key given in txn request',
      input,
    );
  });

  void it('compaction: old revisions become unreadable with etcd exact errors; --physical', async () => {
    const r0 = await rev();
    await ctl.ok(['put', 'c/k', 'v1']);
    await ctl.ok(['put', 'c/k', 'v2']);
    await ctl.ok(['put', 'c/k', 'v3']);
    const compacted = 'etcdserver: mvcc: required revision has been compacted';
    const future = 'etcdserver: mvcc: required revision is a future revision';
    assert.equal(await ctl.ok(['compaction', `${r0 + 2n}`]), `compacted revision ${r0 + 2n}\n`);
    await ctl.fails(['get', 'c/k', `--rev=${r0 + 1n}`], 'OutOfRange', compacted);
    assert.equal(await ctl.ok(['get', 'c/k', `--rev=${r0 + 2n}`]), 'c/k\nv2\n');
    await ctl.fails(['compaction', `${r0 + 2n}`], 'OutOfRange', compacted);
    await ctl.fails(['compaction', `${r0 + 1n}`], 'OutOfRange', compacted);
    await ctl.fails(['compaction', `${r0 + 4n}`], 'OutOfRange', future);
    assert.equal(await ctl.ok(['compaction', `${r0 + 3n}`, '--physical']), `compacted revision ${r0 + 3n}\n`);
    await ctl.fails(['get', 'c/k', `--rev=${r0 + 2n}`], 'OutOfRange', compacted);
    assert.equal(await ctl.ok(['get', 'c/k', `--rev=${r0 + 3n}`]), 'c/k\nv3\n');
    assert.equal(
      await ctl.json(['get', 'c/k']),
      `{${hdr(r0 + 3n)},"kvs":[${kvJson('c/k', r0 + 1n, r0 + 3n, 3n, 'v3')}],"count":1}\n`,
    );
  });

  void it('endpoint health reports healthy', async () => {
    const r = await ctl.run(['endpoint', 'health']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, '');
    const re = new RegExp(
      `^${server.clientUrl} is healthy: successfully committed proposal: took = [0-9.]+[µm]?s\\n$`,
    );
    assert.match(r.stderr, re);
    const j = await ctl.run(['endpoint', 'health', '-w', 'json']);
    assert.equal(j.code, 0);
    assert.match(
      j.stdout,
      new RegExp(`^\\[\\{"endpoint":"${server.clientUrl}","health":true,"took":"[0-9.]+[µm]?s"\\}\\]\\n$`),
    );
  });

  void it('endpoint status -w json reports a sane status of a single leader', async () => {
    const r0 = await rev();
    const out = await ctl.ok(['endpoint', 'status', '-w', 'json']);
    // Header IDs are uint64 and may exceed 2^53: compare them as text.
    const ids = /"cluster_id":(\d+),"member_id":(\d+),"revision":(\d+),"raft_term":(\d+)/.exec(out);
    assert.ok(ids !== null, out);
    const [, clusterId, memberId, revision, term] = ids;
    assert.notEqual(clusterId, '0');
    assert.notEqual(memberId, '0');
    assert.equal(BigInt(revision!), r0);
    const leader = /"leader":(\d+)/.exec(out)?.[1];
    assert.equal(leader, memberId, 'the single member is the leader');
    const status = JSON.parse(out.replace(/":(\d{16,})/g, '":"$1"')) as Array<{
      Endpoint: string;
      Status: Record<string, unknown>;
    }>;
    assert.equal(status.length, 1);
    assert.equal(status[0]!.Endpoint, server.clientUrl);
    const s = status[0]!.Status;
    assert.match(String(s['version']), /^3\.4\.\d+$/);
    const n = (k: string) => Number(s[k]);
    assert.ok(n('dbSize') > 0, 'dbSize > 0');
    assert.ok(n('dbSizeInUse') > 0 && n('dbSizeInUse') <= n('dbSize'), '0 < dbSizeInUse <= dbSize');
    assert.equal(String(n('raftTerm')), term, 'raftTerm equals the header raft_term');
    assert.ok(n('raftIndex') >= Number(r0), 'raft index counts at least every write');
    assert.ok(n('raftAppliedIndex') > 0 && n('raftAppliedIndex') <= n('raftIndex'), 'applied <= index');
    assert.equal(s['errors'], undefined);
    assert.equal(s['isLearner'], undefined);
    const table = await ctl.ok(['endpoint', 'status']);
    const hexId = BigInt(memberId!).toString(16);
    assert.match(
      table,
      new RegExp(
        `^${server.clientUrl}, ${hexId}, 3\\.4\\.\\d+, [0-9.]+ [kMG]?B, true, false, ${term}, \\d+, \\d+, \\n$`,
      ),
    );
  });

  void it('errors: empty key, ignore-value on a missing key, unknown lease, bad input', async () => {
    await ctl.fails(['put', '', 'v'], 'InvalidArgument', 'etcdserver: key is not provided');
    await ctl.fails(['get', ''], 'InvalidArgument', 'etcdserver: key is not provided');
    await ctl.fails(['del', ''], 'InvalidArgument', 'etcdserver: key is not provided');
    await ctl.fails(['put', 'e/missing', '--ignore-value'], 'InvalidArgument', 'etcdserver: key not found');
    await ctl.fails(
      ['put', 'e/missing', 'v', '--ignore-lease'],
      'InvalidArgument',
      'etcdserver: key not found',
    );
    await ctl.fails(
      ['put', 'e/k', 'v', '--lease=1234abcd'],
      'NotFound',
      'etcdserver: requested lease not found',
    );
    assert.equal(await ctl.ok(['get', 'e/', '--prefix']), '');
    await ctl.ok(['put', 'e/k', 'v']);
    assert.equal(await ctl.ok(['put', 'e/k', '--ignore-value']), 'OK\n');
    assert.equal(await ctl.ok(['get', 'e/k', '--print-value-only']), 'v\n');
  });
});

// Differential tests of Txn: every compare target × result against present and missing keys and
// ranges, op order and visibility inside a txn, nested txns, per-op headers, and the request checks
// (max ops, duplicate keys, empty ops and keys, unknown leases, bad revisions). Real etcd 3.4 and the
// server under test get the same requests and must answer equally, header IDs and raft term aside.
import { describe, it, before, after } from 'node:test';
import { target } from './harness.js';
import { Code } from './grpc-wire.js';
import {
  Rpc,
  CompareResult,
  CompareTarget,
  type Compare,
  type RequestOp,
  type PutRequest,
  type RangeRequest,
  type TxnRequest,
} from './etcd-pb.js';
import { Differential, k } from './diff-helpers.js';

const { Range, Put, Txn, Compact, LeaseGrant } = Rpc;

const put = (key: string, value: string, o: Partial<PutRequest> = {}): RequestOp => ({
  requestPut: { key: k(key), value: k(value), ...o },
});
const get = (key: string, end = '', o: Partial<RangeRequest> = {}): RequestOp => ({
  requestRange: { key: k(key), rangeEnd: k(end), ...o },
});
const del = (key: string, end = '', prevKv = false): RequestOp => ({
  requestDeleteRange: { key: k(key), rangeEnd: k(end), prevKv },
});
const sub = (t: Partial<TxnRequest>): RequestOp => ({ requestTxn: t });

type TargetName = keyof typeof CompareTarget;
function cmp(key: string, t: TargetName, result: number, v: bigint | string, end = ''): Partial<Compare> {
  const c: Partial<Compare> = { key: k(key), target: CompareTarget[t], result, rangeEnd: k(end) };
  if (t === 'VALUE') c.value = k(v as string);
  else if (t === 'VERSION') c.version = v as bigint;
  else if (t === 'CREATE') c.createRevision = v as bigint;
  else if (t === 'MOD') c.modRevision = v as bigint;
  else c.lease = v as bigint;
  return c;
}

const results = Object.values(CompareResult);
const dup = 'etcdserver: duplicate key given in txn request';
const tooMany = 'etcdserver: too many operations in txn request';

void describe(`differential: etcd 3.4 vs ${target()} (Txn)`, () => {
  let d: Differential;
  before(async () => {
    d = await Differential.start();
    await d.same(Put, { key: k('t/a'), value: k('apple') }); // rev 2
    await d.same(Put, { key: k('t/b'), value: k('b1') }); // rev 3
    await d.same(Put, { key: k('t/b'), value: k('b2') }); // rev 4
    await d.same(Put, { key: k('t/c'), value: k('cherry') }); // rev 5
  });
  after(async () => {
    await d?.stop();
  });

  void it('compares: every target × result on present and missing keys', async () => {
    const values: Record<TargetName, (bigint | string)[]> = {
      VERSION: [0n, 1n, 2n, 3n, -1n],
      CREATE: [0n, 2n, 3n, 5n, 100n],
      MOD: [0n, 2n, 4n, 5n, 100n],
      VALUE: ['', 'apple', 'b2', 'cherry', 'zzz', 'b'],
      LEASE: [0n, 0x77n, 0x78n],
    };
    for (const key of ['t/a', 't/b', 't/c', 't/zz']) {
      for (const [t, vs] of Object.entries(values) as [TargetName, (bigint | string)[]][]) {
        for (const result of results) {
          for (const v of vs) {
            await d.same(Txn, {
              compare: [cmp(key, t, result, v)],
              success: [get('t/a')],
              failure: [get('t/b')],
            });
          }
        }
      }
    }
  });

  void it('compares over a range: every key must satisfy; empty ranges; several compares are ANDed', async () => {
    const ranges: [string, string][] = [
      ['t/', 't0'],
      ['t/a', 't/c'],
      ['t/x', 't/y'],
      ['t/b', '\0'],
    ];
    for (const [key, end] of ranges) {
      for (const result of results) {
        await d.same(Txn, { compare: [cmp(key, 'VERSION', result, 1n, end)] });
        await d.same(Txn, { compare: [cmp(key, 'MOD', result, 4n, end)] });
        await d.same(Txn, { compare: [cmp(key, 'VALUE', result, 'b2', end)] });
        await d.same(Txn, { compare: [cmp(key, 'LEASE', result, 0n, end)] });
      }
    }
    const aIs = cmp('t/a', 'VALUE', CompareResult.EQUAL, 'apple');
    const bIs = cmp('t/b', 'VERSION', CompareResult.EQUAL, 2n);
    const bNot = cmp('t/b', 'VERSION', CompareResult.EQUAL, 3n);
    await d.same(Txn, { compare: [aIs, bIs], success: [get('t/c')], failure: [get('t/a')] });
    await d.same(Txn, { compare: [aIs, bNot], success: [get('t/c')], failure: [get('t/a')] });
  });

  void it('an empty txn succeeds and a read-only txn does not move the revision', async () => {
    await d.same(Txn, {});
    await d.same(Txn, { success: [get('t/', 't0'), get('t/a', '', { revision: 3n })] });
    await d.same(Txn, { compare: [cmp('t/a', 'VERSION', CompareResult.LESS, 0n)], failure: [get('t/b')] });
    await d.same(Range, { key: k('t/a') });
  });

  void it('write txns: one revision, sub-revisions, reads see earlier ops, per-op headers', async () => {
    await d.same(Txn, { success: [put('w/x', '1'), put('w/y', '2'), del('t/a', '', true), get('w/', 'w0')] });
    await d.same(Txn, {
      success: [get('w/x'), put('w/x', '2', { prevKv: true }), get('w/x'), del('w/y'), get('w/', 'w0')],
    });
    await d.same(Txn, {
      success: [del('w/', 'w0', true), get('w/', 'w0', { countOnly: true }), put('w/z', 'z')],
    });
    await d.same(Txn, {
      compare: [cmp('w/z', 'VERSION', CompareResult.GREATER, 5n)],
      success: [put('w/never', 'x')],
      failure: [put('w/f', 'f'), get('w/', 'w0', { sortOrder: 2 }), get('w/z', '', { revision: 2n })],
    });
    await d.same(Txn, { success: [put('w/z', '', { ignoreValue: true, prevKv: true })] });
    await d.same(Range, { key: k('w/'), rangeEnd: k('w0') });
    await d.same(Range, { key: k('\0'), rangeEnd: k('\0') });
  });

  void it('nested txns: inner compares, both branches, three levels', async () => {
    const inner = (v: bigint, okKey: string, failKey: string): RequestOp =>
      sub({
        compare: [cmp('w/z', 'VERSION', CompareResult.EQUAL, v)],
        success: [put(okKey, 'ok')],
        failure: [put(failKey, 'no')],
      });
    await d.same(Txn, { success: [inner(2n, 'n/1', 'n/2'), get('n/', 'n0')] });
    await d.same(Txn, { success: [inner(9n, 'n/3', 'n/4'), get('n/', 'n0')] });
    await d.same(Txn, {
      compare: [cmp('n/1', 'VALUE', CompareResult.EQUAL, 'ok')],
      success: [
        sub({
          success: [
            sub({ success: [put('n/deep', 'd'), get('n/deep')] }),
            get('n/', 'n0', { keysOnly: true }),
          ],
        }),
      ],
    });
    await d.same(Txn, {
      success: [sub({ success: [del('n/', 'n0', true)] }), get('n/', 'n0', { countOnly: true })],
    });
  });

  void it('too many operations: compares, success, failure and nested budgets', async () => {
    const puts = (n: number, p: string) => Array.from({ length: n }, (_, i) => put(`${p}${i}`, 'v'));
    const cmps = (n: number) =>
      Array.from({ length: n }, () => cmp('t/b', 'VERSION', CompareResult.GREATER, 0n));
    await d.same(Txn, { success: puts(128, 'm/') });
    await d.expect(Txn, { success: puts(129, 'm/') }, Code.INVALID_ARGUMENT, tooMany);
    await d.expect(Txn, { failure: puts(129, 'm/') }, Code.INVALID_ARGUMENT, tooMany);
    await d.same(Txn, { compare: cmps(128) });
    await d.expect(Txn, { compare: cmps(129) }, Code.INVALID_ARGUMENT, tooMany);
    await d.same(Txn, { success: [...puts(100, 'o/'), sub({ success: puts(28, 'i/') })] });
    await d.expect(
      Txn,
      { success: [...puts(100, 'o/'), sub({ success: puts(29, 'i/') })] },
      Code.INVALID_ARGUMENT,
      tooMany,
    );
    const withEmptyKey = [...cmps(129), cmp('', 'VERSION', CompareResult.EQUAL, 0n)];
    await d.expect(Txn, { compare: withEmptyKey }, Code.INVALID_ARGUMENT, tooMany);
  });

  void it('duplicate keys: put twice, put and delete, overlapping ranges, nested branches', async () => {
    await d.expect(Txn, { success: [put('x', '1'), put('x', '2')] }, Code.INVALID_ARGUMENT, dup);
    await d.expect(Txn, { failure: [put('x', '1'), del('x')] }, Code.INVALID_ARGUMENT, dup);
    await d.expect(Txn, { success: [del('x'), put('x', '1')] }, Code.INVALID_ARGUMENT, dup);
    await d.expect(Txn, { success: [del('a', 'z'), put('x', '1')] }, Code.INVALID_ARGUMENT, dup);
    await d.same(Txn, { success: [del('a', 'x'), put('x', '1')] });
    await d.same(Txn, { success: [del('x'), del('x'), del('w', 'y')] });
    await d.same(Txn, { success: [put('x', '1')], failure: [put('x', '2')] });
    await d.same(Txn, { success: [sub({ success: [put('x', '3')], failure: [put('x', '4')] })] });
    await d.expect(
      Txn,
      { success: [sub({ success: [put('x', '3')] }), put('x', '5')] },
      Code.INVALID_ARGUMENT,
      dup,
    );
    await d.expect(
      Txn,
      { success: [sub({ success: [put('x', '3')] }), del('x')] },
      Code.INVALID_ARGUMENT,
      dup,
    );
    await d.expect(
      Txn,
      { success: [sub({ success: [del('w', 'y')] }), put('x', '6')] },
      Code.INVALID_ARGUMENT,
      dup,
    );
    await d.expect(
      Txn,
      { success: [sub({ success: [put('x', '3')] }), sub({ failure: [put('x', '4')] })] },
      Code.INVALID_ARGUMENT,
      dup,
    );
    await d.same(Txn, { success: [get('x'), get('x'), put('y', '1')] });
    await d.same(Range, { key: k('x'), rangeEnd: k('z') });
  });

  void it('invalid ops: empty op, empty keys, ignore_value/lease rules, unknown lease, bad revisions', async () => {
    const noKey = 'etcdserver: key is not provided';
    await d.expect(Txn, { success: [{}] }, Code.INVALID_ARGUMENT, 'etcdserver: key not found');
    await d.expect(
      Txn,
      { compare: [cmp('', 'VERSION', CompareResult.EQUAL, 0n)] },
      Code.INVALID_ARGUMENT,
      noKey,
    );
    await d.expect(Txn, { success: [put('', 'v')] }, Code.INVALID_ARGUMENT, noKey);
    await d.expect(Txn, { failure: [get('')] }, Code.INVALID_ARGUMENT, noKey);
    await d.expect(Txn, { success: [del('')] }, Code.INVALID_ARGUMENT, noKey);
    await d.expect(Txn, { success: [sub({ success: [get('')] })] }, Code.INVALID_ARGUMENT, noKey);
    const valueProvided = 'etcdserver: value is provided';
    await d.expect(
      Txn,
      { success: [put('t/b', 'v', { ignoreValue: true })] },
      Code.INVALID_ARGUMENT,
      valueProvided,
    );
    await d.expect(
      Txn,
      { success: [put('t/b', '', { ignoreLease: true, lease: 0x77n })] },
      Code.INVALID_ARGUMENT,
      'etcdserver: lease is provided',
    );
    // Checked against the branch that would run, before anything is written.
    await d.expect(
      Txn,
      { success: [put('nokey', '', { ignoreValue: true })] },
      Code.INVALID_ARGUMENT,
      'etcdserver: key not found',
    );
    await d.same(Txn, {
      compare: [cmp('t/b', 'VERSION', CompareResult.EQUAL, 0n)],
      success: [put('nokey', '', { ignoreValue: true })],
    });
    const notFound = 'etcdserver: requested lease not found';
    await d.expect(
      Txn,
      { success: [put('q', 'v'), put('r', 'v', { lease: 0x99n })] },
      Code.NOT_FOUND,
      notFound,
    );
    await d.same(Txn, {
      compare: [cmp('t/b', 'VERSION', CompareResult.EQUAL, 0n)],
      success: [put('r', 'v', { lease: 0x99n })],
    });
    const head = (await d.same(Range, { key: k('q') })).res!.header!.revision;
    const future = 'etcdserver: mvcc: required revision is a future revision';
    await d.expect(
      Txn,
      { success: [put('q', 'v'), get('q', '', { revision: head + 1n })] },
      Code.OUT_OF_RANGE,
      future,
    );
    await d.same(Compact, { revision: head - 2n });
    const compacted = 'etcdserver: mvcc: required revision has been compacted';
    await d.expect(Txn, { success: [get('t/b', '', { revision: head - 3n })] }, Code.OUT_OF_RANGE, compacted);
    await d.same(Txn, { success: [get('t/', 't0', { revision: head - 2n })] });
    await d.same(Range, { key: k('\0'), rangeEnd: k('\0') });
  });

  void it('leases in txns: LEASE compares on leased keys, puts with a lease', async () => {
    await d.same(LeaseGrant, { TTL: 600n, ID: 0x77n });
    await d.same(Txn, { success: [put('ls/a', 'leased', { lease: 0x77n }), put('ls/b', 'plain')] });
    for (const key of ['ls/a', 'ls/b', 'ls/zz']) {
      for (const result of results) {
        for (const v of [0n, 0x77n, 0x78n]) {
          await d.same(Txn, { compare: [cmp(key, 'LEASE', result, v)], success: [get(key)] });
        }
      }
    }
    await d.same(Txn, { compare: [cmp('ls/', 'LEASE', CompareResult.EQUAL, 0x77n, 'ls0')] });
    await d.same(Txn, {
      success: [put('ls/b', 'b2', { ignoreLease: true }), put('ls/a', 'a2', { ignoreLease: true })],
    });
    await d.same(Range, { key: k('ls/'), rangeEnd: k('ls0') });
  });

  void it('etcdctl txn -i output agrees', async () => {
    const input = [
      'mod("t/b") > "3"',
      'value("t/c") = "cherry"',
      '',
      'put t/d "dd"',
      'get t/',
      'del t/nope',
      '',
      'get t/a',
      '',
      '',
    ];
    await d.ctl(['txn', '-i', '-w', 'json'], input.join('\n'));
    await d.ctl(['txn', '-i'], input.join('\n'));
    await d.ctl(['txn', '-i'], ['', 'put t/x "1"', 'put t/x "2"', '', '', ''].join('\n'));
  });
});

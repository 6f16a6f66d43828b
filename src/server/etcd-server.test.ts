// The server's write path end to end below gRPC: proposals go through the WAL and apply, a restart
// replays what the backend had not applied, and the KV semantics are etcd's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger, utf8, fromUtf8, Err } from '../base/index.js';
import { MemFileSystem } from '../base/mem-fs.js';
import {
  PutRequest,
  RangeRequest,
  TxnRequest,
  DeleteRangeRequest,
  Compare,
} from '../generated/etcdserverpb.js';
import { EtcdServer } from './etcd-server.js';
import { openMemberStorage } from './storage.js';
import { Snapshotter } from '../wal/snapshotter.js';
import { emptyConfState } from '../raft/types.js';

// The WAL lives on an in-memory file system that outlives each server; the backend is on disk.
const walFs = new Map<string, MemFileSystem>();

async function startServer(dir: string): Promise<EtcdServer> {
  let fs = walFs.get(dir);
  if (fs === undefined) walFs.set(dir, (fs = new MemFileSystem()));
  const storage = await openMemberStorage(fs, dir, { memberId: 7n, clusterId: 9n }, silentLogger);
  return EtcdServer.create(
    {
      name: 't',
      memberId: storage.boot.memberId,
      clusterId: storage.boot.clusterId,
      peerUrls: [],
      clientUrls: [],
      maxRequestBytes: 1.5 * 1024 * 1024,
      maxTxnOps: 128,
      quotaBackendBytes: 0,
      snapshotCount: 10,
      nowMs: 1,
    },
    storage,
    silentLogger,
  );
}

function withDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ketch-server-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

const get = (s: EtcdServer, key: string, rev = 0n) =>
  s.range(RangeRequest.create({ key: utf8(key), revision: rev }));

test(
  'puts get one revision each, survive a restart, and keep their history',
  withDir(async (dir) => {
    let s = await startServer(dir);
    const revs = await Promise.all(
      ['a', 'b', 'a'].map(
        async (k, i) =>
          (await s.put(PutRequest.create({ key: utf8(k), value: utf8(`v${i}`) }))).header!.revision,
      ),
    );
    assert.deepEqual(revs, [2n, 3n, 4n]);
    await s.stop();
    s = await startServer(dir);
    const a = await get(s, 'a');
    assert.equal(fromUtf8(a.kvs[0]!.value), 'v2');
    assert.equal(a.kvs[0]!.version, 2n);
    assert.equal(a.kvs[0]!.createRevision, 2n);
    assert.equal(a.kvs[0]!.modRevision, 4n);
    assert.equal(fromUtf8((await get(s, 'a', 2n)).kvs[0]!.value), 'v0');
    assert.equal(s.revision, 4n);
    await s.stop();
  }),
);

test(
  'a txn writes all its ops under one revision and picks its branch by compare',
  withDir(async (dir) => {
    const s = await startServer(dir);
    await s.put(PutRequest.create({ key: utf8('k'), value: utf8('1') }));
    const txn = TxnRequest.create({
      compare: [Compare.create({ key: utf8('k'), target: 3, result: 0, value: utf8('1') })],
      success: [
        { requestPut: PutRequest.create({ key: utf8('x'), value: utf8('X') }) },
        { requestPut: PutRequest.create({ key: utf8('y'), value: utf8('Y') }) },
        { requestDeleteRange: DeleteRangeRequest.create({ key: utf8('k') }) },
      ],
      failure: [],
    });
    const resp = await s.txn(txn);
    assert.equal(resp.succeeded, true);
    assert.equal(resp.header!.revision, 3n);
    assert.equal((await get(s, 'x')).kvs[0]!.modRevision, 3n);
    assert.equal((await get(s, 'y')).kvs[0]!.modRevision, 3n);
    assert.equal((await get(s, 'k')).kvs.length, 0);
    const again = await s.txn(txn);
    assert.equal(again.succeeded, false);
    assert.equal(again.header!.revision, 3n);
    await s.stop();
  }),
);

test(
  'errors carry etcd messages and change nothing',
  withDir(async (dir) => {
    const s = await startServer(dir);
    await assert.rejects(s.put(PutRequest.create({ key: utf8('k'), ignoreValue: true })), {
      message: Err.keyNotFound,
    });
    await assert.rejects(s.put(PutRequest.create({ key: utf8('k'), lease: 5n })), {
      message: Err.leaseNotFound,
    });
    await assert.rejects(get(s, 'k', 99n), { message: Err.futureRev });
    await s.put(PutRequest.create({ key: utf8('k'), value: utf8('v') }));
    await s.put(PutRequest.create({ key: utf8('k'), value: utf8('w') }));
    await s.compact({ revision: 3n, physical: true });
    await assert.rejects(get(s, 'k', 2n), { message: Err.compacted });
    assert.equal(fromUtf8((await get(s, 'k', 3n)).kvs[0]!.value), 'w');
    await assert.rejects(s.compact({ revision: 3n, physical: false }), { message: Err.compacted });
    await assert.rejects(
      s.put(PutRequest.create({ key: utf8('big'), value: new Uint8Array(2 * 1024 * 1024) })),
      {
        message: Err.requestTooLarge,
      },
    );
    assert.equal(s.revision, 3n);
    await s.stop();
  }),
);

test(
  'snapshots every snapshot-count entries, and a restart reads the WAL from the newest snapshot',
  withDir(async (dir) => {
    let s = await startServer(dir);
    for (let i = 0; i < 45; i++)
      await s.put(PutRequest.create({ key: utf8(`k${i % 5}`), value: utf8(`v${i}`) }));
    await s.stop();
    const fs = walFs.get(dir)!;
    const snaps = (await fs.readdir(`${dir}/member/snap`)).filter((n) => n.endsWith('.snap'));
    assert.ok(snaps.length >= 1, `snapshot files: ${snaps.join(' ')}`);
    s = await startServer(dir);
    assert.equal(s.revision, 46n);
    for (let k = 0; k < 5; k++) assert.equal(fromUtf8((await get(s, `k${k}`)).kvs[0]!.value), `v${40 + k}`);
    assert.equal(fromUtf8((await get(s, 'k0', 2n)).kvs[0]!.value), 'v0');
    await s.stop();
  }),
);

test(
  'a snapshot file the WAL has no marker for (a crash between the two writes) is passed over on restart',
  withDir(async (dir) => {
    let s = await startServer(dir);
    for (let i = 0; i < 25; i++) await s.put(PutRequest.create({ key: utf8(`k${i}`), value: utf8(`v${i}`) }));
    await s.stop();
    const fs = walFs.get(dir)!;
    const snapshotter = await Snapshotter.open(fs, `${dir}/member/snap`);
    await snapshotter.save({
      metadata: { index: 1000n, term: 9n, confState: { ...emptyConfState(), voters: [7n] } },
      data: new Uint8Array(0),
    });
    s = await startServer(dir);
    assert.equal(s.revision, 26n);
    assert.equal(fromUtf8((await get(s, 'k24')).kvs[0]!.value), 'v24');
    await s.stop();
  }),
);

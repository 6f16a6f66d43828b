// One contract, two implementations (DESIGN §5.9): the same FileSystem behaviour is asserted on the
// real node file system and on the in-memory one the WAL tests and the simulator use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isExists, isNotFound, pathExists, type FileSystem } from '../base/fs.js';
import { MemFileSystem } from '../base/mem-fs.js';
import { NodeFileSystem } from './node-fs.js';

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const s = (u: Uint8Array): string => new TextDecoder().decode(u);

interface Subject {
  name: string;
  make(): Promise<{ fs: FileSystem; dir: string; done: () => Promise<void> }>;
}

const subjects: Subject[] = [
  {
    name: 'node',
    async make() {
      const dir = await mkdtemp(join(tmpdir(), 'ketch-fs-'));
      return { fs: new NodeFileSystem(), dir, done: () => rm(dir, { recursive: true, force: true }) };
    },
  },
  {
    name: 'memory',
    async make() {
      const fs = new MemFileSystem();
      await fs.mkdirp('/t');
      return { fs, dir: '/t', done: async () => {} };
    },
  },
];

async function rejectsWith(p: Promise<unknown>, pred: (e: unknown) => boolean): Promise<void> {
  await assert.rejects(p, (e) => pred(e));
}

for (const subject of subjects) {
  void test(`${subject.name} fs: positional writes, append, ranged and whole reads`, async () => {
    const { fs, dir, done } = await subject.make();
    const f = await fs.open(`${dir}/a`, 'wx');
    await f.write(b('hello'), 0);
    await f.append(b(' world'));
    await f.write(b('J'), 0);
    assert.equal(await f.size(), 11);
    assert.equal(s(await f.read(6, 100)), 'world');
    assert.equal(s(await f.read(0, 5)), 'Jello');
    assert.equal((await f.read(50, 5)).length, 0);
    await f.datasync();
    await f.close();
    assert.equal(s(await fs.readFile(`${dir}/a`)), 'Jello world');
    await done();
  });

  void test(`${subject.name} fs: truncate and preallocate expose zeros`, async () => {
    const { fs, dir, done } = await subject.make();
    const f = await fs.open(`${dir}/p`, 'w');
    await f.write(b('abcdef'), 0);
    await f.truncate(3);
    await f.preallocate(8);
    await f.preallocate(4);
    assert.equal(await f.size(), 8);
    assert.deepEqual([...(await f.read(0, 8))], [97, 98, 99, 0, 0, 0, 0, 0]);
    await f.write(b('Z'), 10);
    assert.deepEqual([...(await f.read(8, 3))], [0, 0, 90]);
    await f.sync();
    await f.close();
    assert.equal((await fs.stat(`${dir}/p`)).size, 11);
    await done();
  });

  void test(`${subject.name} fs: open flags`, async () => {
    const { fs, dir, done } = await subject.make();
    await rejectsWith(fs.open(`${dir}/missing`, 'r'), isNotFound);
    await rejectsWith(fs.open(`${dir}/missing`, 'r+'), isNotFound);
    const f = await fs.open(`${dir}/x`, 'w');
    await f.write(b('data'), 0);
    await f.close();
    await rejectsWith(fs.open(`${dir}/x`, 'wx'), isExists);
    const g = await fs.open(`${dir}/x`, 'w');
    assert.equal(await g.size(), 0);
    await g.close();
    await done();
  });

  void test(`${subject.name} fs: directories, rename, unlink, readdir, stat`, async () => {
    const { fs, dir, done } = await subject.make();
    await fs.mkdirp(`${dir}/d/e/f`);
    await fs.mkdirp(`${dir}/d/e`);
    assert.equal((await fs.stat(`${dir}/d/e`)).isDirectory, true);
    const f = await fs.open(`${dir}/d/one.tmp`, 'w');
    await f.write(b('1'), 0);
    await f.close();
    const g = await fs.open(`${dir}/d/two`, 'w');
    await g.close();
    await fs.rename(`${dir}/d/one.tmp`, `${dir}/d/two`);
    await fs.syncDir(`${dir}/d`);
    assert.deepEqual(await fs.readdir(`${dir}/d`), ['e', 'two']);
    assert.equal(s(await fs.readFile(`${dir}/d/two`)), '1');
    await fs.unlink(`${dir}/d/two`);
    await rejectsWith(fs.unlink(`${dir}/d/two`), isNotFound);
    await rejectsWith(fs.stat(`${dir}/d/two`), isNotFound);
    assert.equal(await pathExists(fs, `${dir}/d/two`), false);
    await fs.rmdir(`${dir}/d/e/f`);
    assert.deepEqual(await fs.readdir(`${dir}/d/e`), []);
    await fs.rename(`${dir}/d/e`, `${dir}/d/g`);
    assert.deepEqual(await fs.readdir(`${dir}/d`), ['g']);
    await rejectsWith(fs.readdir(`${dir}/nope`), isNotFound);
    await done();
  });
}

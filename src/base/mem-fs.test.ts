import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isNotFound } from './fs.js';
import { MemFileSystem } from './mem-fs.js';

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const s = (u: Uint8Array): string => new TextDecoder().decode(u);

async function durableFile(fs: MemFileSystem, path: string, text: string): Promise<void> {
  const f = await fs.open(path, 'w');
  await f.write(b(text), 0);
  await f.datasync();
  await f.close();
  await fs.syncDir(path.slice(0, path.lastIndexOf('/')) || '/');
}

void test('crash without a random source drops every unsynced write and keeps synced ones', async () => {
  const fs = new MemFileSystem();
  await fs.mkdirp('/d');
  await fs.syncDir('/');
  await durableFile(fs, '/d/f', 'synced');
  const f = await fs.open('/d/f', 'r+');
  await f.write(b('-more'), 6);
  await f.write(b('S'), 0);
  const after = fs.crash();
  assert.equal(s(await after.readFile('/d/f')), 'synced');
});

void test('crash reverts a truncation that was not synced', async () => {
  const fs = new MemFileSystem();
  await durableFile(fs, '/f', 'abcdef');
  const f = await fs.open('/f', 'r+');
  await f.truncate(2);
  await f.preallocate(10);
  assert.equal(s(await fs.crash().readFile('/f')), 'abcdef');
});

void test('a new file survives a crash only after its directory is synced', async () => {
  let fs = new MemFileSystem();
  const f = await fs.open('/new', 'w');
  await f.write(b('x'), 0);
  await f.datasync();
  fs = fs.crash();
  await assert.rejects(fs.readFile('/new'), (e) => isNotFound(e));
  await durableFile(fs, '/new', 'x');
  fs = fs.crash();
  assert.equal(s(await fs.readFile('/new')), 'x');
});

void test('an unsynced rename and unlink are undone by a crash', async () => {
  const fs = new MemFileSystem();
  await durableFile(fs, '/a', 'A');
  await durableFile(fs, '/b', 'B');
  await fs.rename('/a', '/b');
  await fs.unlink('/b');
  const after = fs.crash();
  assert.deepEqual(await after.readdir('/'), ['a', 'b']);
  assert.equal(s(await after.readFile('/b')), 'B');
});

void test('the crashed view and its handles are dead; the returned view is the restarted disk', async () => {
  const fs = new MemFileSystem();
  await durableFile(fs, '/a', 'A');
  const f = await fs.open('/a', 'r+');
  const after = fs.crash();
  await assert.rejects(f.write(b('x'), 0), /EIO/);
  await assert.rejects(fs.rename('/a', '/b'), /EIO/);
  await assert.rejects(fs.mkdirp('/x'), /EIO/);
  assert.deepEqual(await after.readdir('/'), ['a']);
});

void test('with a random source a crash keeps a prefix of unsynced writes, the last one torn', async () => {
  const seen = new Set<string>();
  for (let seed = 1; seed < 200; seed++) {
    const fs = new MemFileSystem();
    await durableFile(fs, '/f', 'base|');
    const f = await fs.open('/f', 'r+');
    await f.write(b('one|'), 5);
    await f.write(b('two|'), 9);
    let x = seed;
    const after = fs.crash(() => ((x = (x * 1103515245 + 12345) >>> 0) >>> 8) / 2 ** 24);
    const text = s(await after.readFile('/f'));
    assert.ok('base|one|two|'.startsWith(text) && text.startsWith('base|'), text);
    seen.add(text);
  }
  assert.ok(seen.size > 5, `only ${seen.size} outcomes`);
});

void test('stats count writes and syncs', async () => {
  const fs = new MemFileSystem();
  const f = await fs.open('/f', 'w');
  await f.write(b('1'), 0);
  await f.append(b('2'));
  await f.datasync();
  await fs.syncDir('/');
  assert.deepEqual(fs.stats, { writes: 2, datasyncs: 1, syncs: 0, dirSyncs: 1 });
});

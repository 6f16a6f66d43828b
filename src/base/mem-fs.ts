// An in-memory FileSystem that knows what is durable, for tests and the simulator. Every change
// since the last fdatasync/fsync of a file (writes, truncations) and since the last fsync of a
// directory (creations, renames, removals) is kept in an undo log. `crash()` then plays a power
// cut: by default it drops every unsynced change; given a random source it keeps a random prefix
// of each file's and each directory's unsynced changes, tearing the first dropped write at a random
// byte, which is the torn tail a WAL must detect and repair. The crashed view dies with its
// process (every later call on it or on its handles fails, even those of an operation that was
// half done) and crash() returns the view a restarted process sees.
//
// Model limits, on purpose: fsync of a file does not make its directory entry durable (only
// syncDir does), a rename across two directories is two independent changes, and writes are torn
// only as a prefix (no holes in the middle of one write).
import { FsError, type FileHandle, type FileStat, type FileSystem, type OpenFlags } from './fs.js';

type FileChange =
  | { kind: 'write'; pos: number; data: Uint8Array; oldSize: number; oldBytes: Uint8Array }
  | { kind: 'truncate'; oldSize: number; oldBytes: Uint8Array };

class MemFile {
  readonly kind = 'file';
  data = new Uint8Array(64);
  size = 0;
  undo: FileChange[] = [];

  /** Invariant: bytes at and beyond `size` are zero, so growing a file exposes zeros. */
  private reserve(n: number): void {
    if (n <= this.data.length) return;
    const next = new Uint8Array(Math.max(n, this.data.length * 2));
    next.set(this.data.subarray(0, this.size));
    this.data = next;
  }

  setSize(n: number): void {
    if (n < this.size) this.data.fill(0, n, this.size);
    else this.reserve(n);
    this.size = n;
  }

  rawWrite(pos: number, src: Uint8Array): void {
    if (pos + src.length > this.size) this.setSize(pos + src.length);
    this.data.set(src, pos);
  }

  write(pos: number, src: Uint8Array): void {
    const oldSize = this.size;
    const oldBytes = this.data.slice(Math.min(pos, oldSize), Math.min(pos + src.length, oldSize));
    this.undo.push({ kind: 'write', pos, data: src.slice(), oldSize, oldBytes });
    this.rawWrite(pos, src);
  }

  truncate(n: number): void {
    const oldBytes = n < this.size ? this.data.slice(n, this.size) : new Uint8Array(0);
    this.undo.push({ kind: 'truncate', oldSize: this.size, oldBytes });
    this.setSize(n);
  }

  private revert(c: FileChange): void {
    if (c.kind === 'write') {
      this.data.set(c.oldBytes, Math.min(c.pos, c.oldSize));
      this.setSize(c.oldSize);
    } else {
      const cut = this.size;
      this.setSize(c.oldSize);
      if (c.oldBytes.length > 0) this.data.set(c.oldBytes, cut);
    }
  }

  /** Keeps the first `keep` unsynced changes, the next one torn to `tornBytes`, drops the rest. */
  crash(keep: number, tornBytes: number): void {
    for (let i = this.undo.length - 1; i >= keep; i--) this.revert(this.undo[i]!);
    const torn = this.undo[keep];
    if (torn !== undefined && torn.kind === 'write' && tornBytes > 0) {
      this.rawWrite(torn.pos, torn.data.subarray(0, Math.min(tornBytes, torn.data.length)));
    }
    this.undo = [];
  }
}

type DirChange = { name: string; prev: MemNode | undefined }[];

class MemDir {
  readonly kind = 'dir';
  entries = new Map<string, MemNode>();
  undo: DirChange[] = [];

  change(changes: { name: string; node: MemNode | undefined }[]): void {
    const rec: DirChange = [];
    for (const { name, node } of changes) {
      rec.push({ name, prev: this.entries.get(name) });
      if (node === undefined) this.entries.delete(name);
      else this.entries.set(name, node);
    }
    this.undo.push(rec);
  }

  crash(keep: number): void {
    for (let i = this.undo.length - 1; i >= keep; i--) {
      const rec = this.undo[i]!;
      for (let j = rec.length - 1; j >= 0; j--) {
        const { name, prev } = rec[j]!;
        if (prev === undefined) this.entries.delete(name);
        else this.entries.set(name, prev);
      }
    }
    this.undo = [];
  }
}

type MemNode = MemFile | MemDir;

/** How many durable operations were issued, so tests can check that a batch costs one write and one sync. */
export interface MemFsStats {
  writes: number;
  datasyncs: number;
  syncs: number;
  dirSyncs: number;
}

function split(path: string): string[] {
  const out: string[] = [];
  for (const c of path.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') out.pop();
    else out.push(c);
  }
  return out;
}

class MemHandle implements FileHandle {
  private closed = false;
  constructor(
    private readonly fs: MemFileSystem,
    readonly path: string,
    private readonly file: MemFile,
    private readonly writable: boolean,
  ) {}

  private check(write: boolean): MemFile {
    this.fs.checkAlive();
    if (this.closed) throw new FsError('EBADF', this.path);
    if (write && !this.writable) throw new FsError('EBADF', `${this.path} is open read-only`);
    return this.file;
  }

  async write(data: Uint8Array, position: number): Promise<void> {
    this.check(true).write(position, data);
    this.fs.stats.writes++;
  }

  async append(data: Uint8Array): Promise<void> {
    const f = this.check(true);
    f.write(f.size, data);
    this.fs.stats.writes++;
  }

  async read(position: number, length: number): Promise<Uint8Array> {
    const f = this.check(false);
    const end = Math.min(f.size, position + length);
    return f.data.slice(Math.min(position, end), end);
  }

  async datasync(): Promise<void> {
    this.check(false).undo = [];
    this.fs.stats.datasyncs++;
  }

  async sync(): Promise<void> {
    this.check(false).undo = [];
    this.fs.stats.syncs++;
  }

  async truncate(size: number): Promise<void> {
    this.check(true).truncate(size);
  }

  async preallocate(size: number): Promise<void> {
    const f = this.check(true);
    if (f.size < size) f.truncate(size);
  }

  async size(): Promise<number> {
    return this.check(false).size;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

export class MemFileSystem implements FileSystem {
  private root = new MemDir();
  /** Set by crash(): this view belongs to a process that no longer runs. */
  private dead = false;
  readonly stats: MemFsStats = { writes: 0, datasyncs: 0, syncs: 0, dirSyncs: 0 };

  checkAlive(): void {
    if (this.dead) throw new FsError('EIO', 'this file system view died in a crash');
  }

  private lookup(path: string): MemNode | undefined {
    this.checkAlive();
    let node: MemNode = this.root;
    for (const c of split(path)) {
      if (node.kind !== 'dir') return undefined;
      const next = node.entries.get(c);
      if (next === undefined) return undefined;
      node = next;
    }
    return node;
  }

  /** The parent directory of `path` (which must exist) and the last name. */
  private parent(path: string): [MemDir, string] {
    const parts = split(path);
    const name = parts.pop();
    if (name === undefined) throw new FsError('EINVAL', `no name in ${path}`);
    const dir = this.lookup(parts.join('/'));
    if (dir === undefined) throw new FsError('ENOENT', path);
    if (dir.kind !== 'dir') throw new FsError('ENOTDIR', path);
    return [dir, name];
  }

  private dir(path: string): MemDir {
    const d = this.lookup(path);
    if (d === undefined) throw new FsError('ENOENT', path);
    if (d.kind !== 'dir') throw new FsError('ENOTDIR', path);
    return d;
  }

  async open(path: string, flags: OpenFlags): Promise<FileHandle> {
    const [dir, name] = this.parent(path);
    let node = dir.entries.get(name);
    if (node?.kind === 'dir') throw new FsError('EISDIR', path);
    if (node !== undefined && flags === 'wx') throw new FsError('EEXIST', path);
    if (node === undefined) {
      if (flags === 'r' || flags === 'r+') throw new FsError('ENOENT', path);
      node = new MemFile();
      dir.change([{ name, node }]);
    } else if (flags === 'w' && node.size > 0) {
      node.truncate(0);
    }
    return new MemHandle(this, path, node, flags !== 'r');
  }

  async readFile(path: string): Promise<Uint8Array> {
    const node = this.lookup(path);
    if (node === undefined) throw new FsError('ENOENT', path);
    if (node.kind !== 'file') throw new FsError('EISDIR', path);
    return node.data.slice(0, node.size);
  }

  async rename(from: string, to: string): Promise<void> {
    const [fromDir, fromName] = this.parent(from);
    const [toDir, toName] = this.parent(to);
    const node = fromDir.entries.get(fromName);
    if (node === undefined) throw new FsError('ENOENT', from);
    const target = toDir.entries.get(toName);
    if (target === node) return;
    if (target !== undefined) {
      if (target.kind !== node.kind) throw new FsError(target.kind === 'dir' ? 'EISDIR' : 'ENOTDIR', to);
      if (target.kind === 'dir' && target.entries.size > 0) throw new FsError('ENOTEMPTY', to);
    }
    if (fromDir === toDir) {
      fromDir.change([
        { name: fromName, node: undefined },
        { name: toName, node },
      ]);
    } else {
      fromDir.change([{ name: fromName, node: undefined }]);
      toDir.change([{ name: toName, node }]);
    }
  }

  async unlink(path: string): Promise<void> {
    const [dir, name] = this.parent(path);
    const node = dir.entries.get(name);
    if (node === undefined) throw new FsError('ENOENT', path);
    if (node.kind === 'dir') throw new FsError('EISDIR', path);
    dir.change([{ name, node: undefined }]);
  }

  async mkdirp(path: string): Promise<void> {
    this.checkAlive();
    let dir = this.root;
    for (const c of split(path)) {
      let next = dir.entries.get(c);
      if (next === undefined) {
        next = new MemDir();
        dir.change([{ name: c, node: next }]);
      }
      if (next.kind !== 'dir') throw new FsError('ENOTDIR', path);
      dir = next;
    }
  }

  async rmdir(path: string): Promise<void> {
    const [parent, name] = this.parent(path);
    const node = parent.entries.get(name);
    if (node === undefined) throw new FsError('ENOENT', path);
    if (node.kind !== 'dir') throw new FsError('ENOTDIR', path);
    if (node.entries.size > 0) throw new FsError('ENOTEMPTY', path);
    parent.change([{ name, node: undefined }]);
  }

  async readdir(path: string): Promise<string[]> {
    return [...this.dir(path).entries.keys()].sort();
  }

  async syncDir(path: string): Promise<void> {
    this.dir(path).undo = [];
    this.stats.dirSyncs++;
  }

  async stat(path: string): Promise<FileStat> {
    const node = this.lookup(path);
    if (node === undefined) throw new FsError('ENOENT', path);
    return node.kind === 'dir' ? { size: 0, isDirectory: true } : { size: node.size, isDirectory: false };
  }

  /**
   * A power cut. Without `rand`, every change not yet synced is lost. With `rand` (uniform in
   * [0, 1), e.g. a seeded PRNG), each file and directory keeps a random prefix of its unsynced
   * changes and the first dropped write of a file survives as a random-length prefix. This view and
   * its handles die; the returned view is the disk as the next process finds it.
   */
  crash(rand?: () => number): MemFileSystem {
    this.checkAlive();
    const pick = (n: number): number => (rand === undefined ? 0 : Math.floor(rand() * (n + 1)));
    const seen = new Set<MemNode>();
    const visit = (node: MemNode): void => {
      if (seen.has(node)) return;
      seen.add(node);
      if (node.kind === 'file') {
        const keep = pick(node.undo.length);
        const torn = node.undo[keep];
        node.crash(keep, torn?.kind === 'write' ? pick(torn.data.length) : 0);
        return;
      }
      node.crash(pick(node.undo.length));
      for (const child of node.entries.values()) visit(child);
    };
    // Directories revert first (top-down), so a file is reverted in the tree that survives.
    visit(this.root);
    this.dead = true;
    const next = new MemFileSystem();
    next.root = this.root;
    return next;
  }
}

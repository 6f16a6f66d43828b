// The file-system interface the WAL and the snapshotter write through. It is deliberately small —
// exactly the calls durable storage needs (positional writes, fdatasync, directory fsync, rename) —
// so that a fault-injecting implementation (src/base/mem-fs.ts, the simulator's disk) can stand in
// for the real one (src/platform/node-fs.ts) and every durability argument can be tested.
//
// Paths are POSIX strings joined with '/'. Offsets and sizes are numbers (files stay far below
// 2^53 bytes). Failures are thrown as errors carrying a POSIX `code` ('ENOENT', 'EEXIST', ...), as
// node:fs does, so callers test `isNotFound(err)` instead of matching messages.

/**
 * How to open a file: 'r' read only; 'r+' read and write an existing file; 'w' create or truncate,
 * then read and write; 'wx' create a new file (EEXIST if it exists), then read and write.
 */
export type OpenFlags = 'r' | 'r+' | 'w' | 'wx';

export interface DatasyncOptions {
  inline?: boolean;
}

export interface FileHandle {
  /** The path the file was opened with (it does not follow later renames). */
  readonly path: string;
  /** Writes all of `data` at byte `position`, growing the file if needed (pwrite). */
  write(data: Uint8Array, position: number): Promise<void>;
  /** Writes all of `data` at the current end of the file. */
  append(data: Uint8Array): Promise<void>;
  /** Reads up to `length` bytes at `position`; shorter only at the end of the file. */
  read(position: number, length: number): Promise<Uint8Array>;
  /**
   * Makes the file's data (and the size) durable: fdatasync. With `inline`, an implementation may
   * block the calling thread for the sync instead of handing it to a worker: cheaper by one thread
   * round trip when the caller has nothing else to do meanwhile.
   */
  datasync(opts?: DatasyncOptions): Promise<void>;
  /** Makes the file's data and all its metadata durable: fsync. */
  sync(): Promise<void>;
  /** Sets the size; bytes past the old end read as zero. */
  truncate(size: number): Promise<void>;
  /** Grows the file to at least `size` bytes of zeros, so later writes need not extend it. */
  preallocate(size: number): Promise<void>;
  size(): Promise<number>;
  close(): Promise<void>;
}

export interface FileStat {
  size: number;
  isDirectory: boolean;
}

export interface FileSystem {
  open(path: string, flags: OpenFlags): Promise<FileHandle>;
  /** The whole content of a file. */
  readFile(path: string): Promise<Uint8Array>;
  /** Atomically replaces `to` (a file, or an empty directory when renaming a directory) by `from`. */
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** Creates the directory and any missing parents; no error if it exists. */
  mkdirp(path: string): Promise<void>;
  /** Removes an empty directory. */
  rmdir(path: string): Promise<void>;
  /** Entry names in the directory, sorted. */
  readdir(path: string): Promise<string[]>;
  /** Makes the directory's entries (creations, renames, removals) durable: fsync on the directory. */
  syncDir(path: string): Promise<void>;
  /** Throws ENOENT when nothing is at `path`. */
  stat(path: string): Promise<FileStat>;
}

/** An error with a POSIX code, as node:fs throws. */
export class FsError extends Error {
  override name = 'FsError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

function codeOf(err: unknown): unknown {
  return typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined;
}

export function isNotFound(err: unknown): boolean {
  return codeOf(err) === 'ENOENT';
}

export function isExists(err: unknown): boolean {
  return codeOf(err) === 'EEXIST';
}

export function joinPath(dir: string, name: string): string {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

/** The parent directory of a path ('.' for a bare name, '/' for a child of the root). */
export function dirName(path: string): string {
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  const i = trimmed.lastIndexOf('/');
  if (i < 0) return '.';
  if (i === 0) return '/';
  return trimmed.slice(0, i);
}

/** True when `path` exists. */
export async function pathExists(fs: FileSystem, path: string): Promise<boolean> {
  try {
    await fs.stat(path);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

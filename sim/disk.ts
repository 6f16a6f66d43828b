// A node's simulated disk: the durable-aware MemFileSystem (src/base/mem-fs.ts: a crash drops what
// was not fsynced, keeping a random prefix and tearing the first dropped write) behind a wrapper
// that injects the faults a real disk shows: a write that fails after writing only a prefix of its
// bytes (a torn write), failed reads, failed fsyncs. Every fault is an EIO thrown to the caller;
// the node treats any disk error as fatal (fail-stop, as etcd does) and is restarted later from
// what the disk holds after a crash.
import type { Prng } from '../src/base/prng.js';
import {
  FsError,
  type DatasyncOptions,
  type FileHandle,
  type FileStat,
  type FileSystem,
  type OpenFlags,
} from '../src/base/fs.js';
import { MemFileSystem } from '../src/base/mem-fs.js';

export interface DiskFaultOptions {
  /** Probability that a write fails (after writing a random prefix of its bytes). */
  writeErrorRate: number;
  /** Probability that a read (read, readFile, readdir, stat) fails. */
  readErrorRate: number;
  /** Probability that an fsync/fdatasync/directory sync fails. */
  syncErrorRate: number;
}

export const noDiskFaults: DiskFaultOptions = { writeErrorRate: 0, readErrorRate: 0, syncErrorRate: 0 };

class FaultyHandle implements FileHandle {
  constructor(
    private readonly disk: SimDisk,
    private readonly h: FileHandle,
  ) {}

  get path(): string {
    return this.h.path;
  }

  async write(data: Uint8Array, position: number): Promise<void> {
    const cut = this.disk.tornWrite(data.length);
    if (cut !== undefined) {
      if (cut > 0) await this.h.write(data.subarray(0, cut), position);
      throw new FsError('EIO', `simulated write error on ${this.h.path}`);
    }
    await this.h.write(data, position);
  }

  async append(data: Uint8Array): Promise<void> {
    const cut = this.disk.tornWrite(data.length);
    if (cut !== undefined) {
      if (cut > 0) await this.h.append(data.subarray(0, cut));
      throw new FsError('EIO', `simulated append error on ${this.h.path}`);
    }
    await this.h.append(data);
  }

  async read(position: number, length: number): Promise<Uint8Array> {
    this.disk.maybeFail('read', this.h.path);
    return this.h.read(position, length);
  }

  async datasync(opts?: DatasyncOptions): Promise<void> {
    this.disk.maybeFail('sync', this.h.path);
    return this.h.datasync(opts);
  }

  async sync(): Promise<void> {
    this.disk.maybeFail('sync', this.h.path);
    return this.h.sync();
  }

  async truncate(size: number): Promise<void> {
    this.disk.maybeFail('write', this.h.path);
    return this.h.truncate(size);
  }

  async preallocate(size: number): Promise<void> {
    this.disk.maybeFail('write', this.h.path);
    return this.h.preallocate(size);
  }

  async size(): Promise<number> {
    return this.h.size();
  }

  async close(): Promise<void> {
    return this.h.close();
  }
}

/**
 * One node's disk across its crashes. `fs` is the view the running process uses; `crash()` plays a
 * power cut on it and hands out the view the restarted process sees.
 */
export class SimDisk implements FileSystem {
  private mem = new MemFileSystem();
  readonly stats = { faults: 0, crashes: 0 };

  constructor(
    private readonly prng: Prng,
    public faults: DiskFaultOptions,
  ) {}

  /** A power cut: unsynced changes are lost or kept as a random prefix, the last kept write torn. */
  crash(): void {
    this.stats.crashes++;
    this.mem = this.mem.crash(() => this.prng.float());
  }

  /** undefined: the write goes through; otherwise the number of bytes written before it fails. */
  tornWrite(len: number): number | undefined {
    if (!this.prng.chance(this.faults.writeErrorRate)) return undefined;
    this.stats.faults++;
    return this.prng.intBetween(0, Math.max(0, len - 1));
  }

  maybeFail(kind: 'read' | 'write' | 'sync', path: string): void {
    const rate =
      kind === 'read'
        ? this.faults.readErrorRate
        : kind === 'sync'
          ? this.faults.syncErrorRate
          : this.faults.writeErrorRate;
    if (this.prng.chance(rate)) {
      this.stats.faults++;
      throw new FsError('EIO', `simulated ${kind} error on ${path}`);
    }
  }

  async open(path: string, flags: OpenFlags): Promise<FileHandle> {
    if (flags !== 'r') this.maybeFail('write', path);
    else this.maybeFail('read', path);
    return new FaultyHandle(this, await this.mem.open(path, flags));
  }

  async readFile(path: string): Promise<Uint8Array> {
    this.maybeFail('read', path);
    return this.mem.readFile(path);
  }

  async rename(from: string, to: string): Promise<void> {
    this.maybeFail('write', from);
    return this.mem.rename(from, to);
  }

  async unlink(path: string): Promise<void> {
    this.maybeFail('write', path);
    return this.mem.unlink(path);
  }

  async mkdirp(path: string): Promise<void> {
    this.maybeFail('write', path);
    return this.mem.mkdirp(path);
  }

  async rmdir(path: string): Promise<void> {
    this.maybeFail('write', path);
    return this.mem.rmdir(path);
  }

  async readdir(path: string): Promise<string[]> {
    this.maybeFail('read', path);
    return this.mem.readdir(path);
  }

  async syncDir(path: string): Promise<void> {
    this.maybeFail('sync', path);
    return this.mem.syncDir(path);
  }

  async stat(path: string): Promise<FileStat> {
    this.maybeFail('read', path);
    return this.mem.stat(path);
  }
}

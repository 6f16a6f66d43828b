// Physical compaction (etcd's kvstore_compaction.go): after the index has been compacted at rev,
// delete from the `key` bucket every revision < rev that the index no longer keeps (and nothing at
// rev itself, so that a watch from rev sees all of it), in batches,
// each batch its own backend write transaction, yielding between batches so the store keeps
// serving. The last batch writes finishedCompactRev; until then scheduledCompactRev (written with
// the compaction request) > finishedCompactRev tells KVStore.open to resume. Rerunning a batch is
// harmless: it deletes only what is still there and not kept.
import type { Logger } from '../base/log.js';
import type { Backend } from '../backend/backend.js';
import { bytesToRev, mainRevBytes, revId, revToBytes, REV_BYTES_LEN, type RevisionSet } from './revision.js';

export const SCHEDULED_COMPACT_KEY = new TextEncoder().encode('scheduledCompactRev');
export const FINISHED_COMPACT_KEY = new TextEncoder().encode('finishedCompactRev');

export interface CompactionJob {
  /** The compaction revision. */
  readonly rev: bigint;
  /** Resolves when the job has finished or was stopped by KVStore.close(); see completed. */
  readonly done: Promise<void>;
  /** True once every obsolete revision is deleted and finishedCompactRev is written. */
  readonly completed: boolean;
  /** Revisions deleted from the backend so far. */
  readonly deleted: number;
}

export interface CompactionEnv {
  readonly backend: Backend;
  readonly logger: Logger;
  readonly batchLimit: number;
  yieldBetweenBatches(): Promise<void>;
  stopped(): boolean;
}

export class CompactionRun implements CompactionJob {
  completed = false;
  deleted = 0;
  done: Promise<void>;
  private resolveDone!: () => void;
  private rejectDone!: (err: unknown) => void;

  constructor(
    readonly rev: bigint,
    private readonly keep: RevisionSet,
    private readonly env: CompactionEnv,
  ) {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
  }

  /** Runs the batches; settles done. Returns a promise that never rejects (for chaining). */
  async run(): Promise<void> {
    try {
      await this.batches();
      this.resolveDone();
    } catch (err) {
      this.rejectDone(err);
    }
  }

  private async batches(): Promise<void> {
    const { backend, batchLimit } = this.env;
    const end = mainRevBytes(this.rev + 1n);
    let last: Uint8Array = new Uint8Array(REV_BYTES_LEN);
    for (;;) {
      if (this.env.stopped()) return;
      const next = backend.write((tx) => {
        const entries = tx.range('key', last, end, batchLimit);
        for (const e of entries) {
          const r = bytesToRev(e.key);
          // Records at exactly the compaction revision stay (only tombstones are not kept by the
          // index): a watch may start at the compaction revision, as etcd allows and clients do
          // when resuming from compact_revision, and must then get that revision's deletes too.
          // The next compaction, above this one, removes them.
          if (r.main === this.rev || this.keep.has(revId(r))) continue;
          tx.delete('key', e.key);
          this.deleted++;
        }
        if (entries.length < batchLimit) {
          tx.put('meta', FINISHED_COMPACT_KEY, revToBytes({ main: this.rev, sub: 0n }));
          return undefined;
        }
        const r = bytesToRev(entries[entries.length - 1]!.key);
        return revToBytes({ main: r.main, sub: r.sub + 1n });
      });
      if (next === undefined) {
        this.completed = true;
        this.env.logger.info('finished scheduled compaction', {
          'compact-revision': this.rev.toString(),
          deleted: this.deleted,
        });
        return;
      }
      last = next;
      await this.env.yieldBetweenBatches();
    }
  }
}

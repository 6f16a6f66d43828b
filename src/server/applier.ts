// Applies committed raft entries to the backend: every entry of a batch in ONE backend
// transaction that also records the applied (consistent) index, so a crash leaves either the whole
// batch applied with its index or none of it, and restart replays exactly what is missing.
// Apply is a pure function of (state, entry): no clock, no randomness, no await. Once a batch has
// committed, its events and compactions are handed to the member's watchable store.
import { assert, AssertionError, EtcdError, Err, type Logger } from '../base/index.js';
import type { Backend, WriteTx } from '../backend/index.js';
import type {
  AlarmResponse,
  DeleteRangeResponse,
  LeaseGrantResponse,
  LeaseRevokeResponse,
  PutResponse,
  TxnRequest,
  TxnResponse,
} from '../generated/etcdserverpb.js';
import { AlarmType, InternalRaftRequest } from '../generated/etcdserverpb.js';
import { decodeConfChange } from '../raft/confchange/codec.js';
import {
  ConfChangeType,
  emptyConfState,
  EntryType,
  type ConfChange,
  type ConfState,
  type Entry,
} from '../raft/types.js';
import { AlarmStore } from './alarms.js';
import { decodeConfState, encodeConfState } from './conf-state-codec.js';
import { MemberStore, parseMemberJson, type Member } from './members.js';
import { applyDeleteRange, applyPut, applyTxn, checkPutLease } from './apply-kv.js';
import { applyLeaseRequest, monotonicClock } from './apply-lease.js';
import type { Clock } from '../base/index.js';
import { Lessor, minLeaseTtlSeconds } from '../lease/index.js';
import type { Event } from '../mvcc/index.js';
import type { ReadView } from './kv-view.js';
import { MvccAdapter } from './mvcc-adapter.js';
import { costTxn } from './quota.js';

export interface ApplyResult {
  put?: PutResponse;
  deleteRange?: DeleteRangeResponse;
  txn?: TxnResponse;
  alarm?: AlarmResponse;
  leaseGrant?: LeaseGrantResponse;
  leaseRevoke?: LeaseRevokeResponse;
  /** For a compaction: resolves when the obsolete revisions are physically gone. */
  compactionDone?: Promise<void>;
  /** For a conf change: the members after it. */
  members?: Member[];
  err?: EtcdError;
}

/** What apply tells the watchable store (mvcc/watchable-store.ts), always after the batch committed. */
export interface WatchNotify {
  notify(events: readonly Event[]): void;
  compacted(compactRev: bigint): void;
}

/** How the applier hands a committed conf change to raft (RawNode.applyConfChange). */
export type RaftConfChanger = (cc: ConfChange) => ConfState;

const META_CONSISTENT_INDEX = new TextEncoder().encode('consistent_index');
const META_TERM = new TextEncoder().encode('term');
const META_CONF_STATE = new TextEncoder().encode('confState');
const MEMBER_ATTRIBUTES_PATH = /^\/0\/members\/([0-9a-f]+)\/attributes$/;

function u64(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v);
  return b;
}

function readU64(b: Uint8Array | undefined): bigint {
  if (b === undefined) return 0n;
  assert(b.length === 8, 'meta: corrupt 8-byte value');
  return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0);
}

/** The applied index, its term and the raft configuration a backend records. */
export function readAppliedMeta(be: Backend): { index: bigint; term: bigint; confState: ConfState } {
  return be.read((tx) => {
    const cs = tx.get('meta', META_CONF_STATE);
    return {
      index: readU64(tx.get('meta', META_CONSISTENT_INDEX)),
      term: readU64(tx.get('meta', META_TERM)),
      confState: cs === undefined ? emptyConfState() : decodeConfState(cs),
    };
  });
}

/** Applied batches between two reads of the backend's bytes in use. */
const USED_BYTES_REFRESH_BATCHES = 64;

/** What the Applier needs of the member's options. */
export interface ApplierOptions {
  memberId: bigint;
  /** For the minimum lease TTL (1.5 election timeouts); defaults 1000 and 100 ms. */
  electionMs?: number;
  heartbeatMs?: number;
  /** The leader-side lease clock (default: monotonic time). */
  leaseClock?: Clock;
}

export class Applier {
  readonly kv: MvccAdapter;
  readonly alarms: AlarmStore;
  readonly members: MemberStore;
  /** Leases and their keys, rebuilt from this backend (lessor first, so the store can attach keys). */
  readonly lessor: Lessor;
  private applied: bigint;
  private confStateValue: ConfState;
  /** Set once a conf change removed this member. */
  removedSelf = false;
  /**
   * The backend's bytes in use for the quota check. Reading it asks LMDB for statistics (~90 µs),
   * so it is read every USED_BYTES_REFRESH_BATCHES applied batches and grown in between by the
   * bytes applied, which over-estimates and so never lets a write past the quota unnoticed.
   */
  usedBytesEstimate: number;
  private batchesSinceUsedBytes = 0;
  private appliedTermValue: bigint;
  private readonly jobs = new Set<Promise<void>>();
  /** The member's watchable store; it outlives the Applier when a snapshot replaces the backend. */
  watch: WatchNotify | undefined;
  /** The highest compaction revision the batch being applied scheduled (-1n: none). */
  private batchCompactRev = -1n;

  constructor(
    private readonly storage: { backend: Backend },
    private readonly opts: ApplierOptions,
    private readonly logger: Logger,
  ) {
    const be = storage.backend;
    this.applied = be.read((tx) => readU64(tx.get('meta', META_CONSISTENT_INDEX)));
    this.appliedTermValue = be.read((tx) => readU64(tx.get('meta', META_TERM)));
    this.alarms = be.read((tx) => new AlarmStore(tx));
    this.members = be.read((tx) => MemberStore.load(tx));
    this.confStateValue = be.read((tx) => {
      const b = tx.get('meta', META_CONF_STATE);
      return b === undefined ? emptyConfState() : decodeConfState(b);
    });
    this.lessor = Lessor.open(be, {
      minTtlSeconds: minLeaseTtlSeconds(opts.electionMs ?? 1000, opts.heartbeatMs ?? 100),
      clock: opts.leaseClock ?? monotonicClock,
      logger,
    });
    this.kv = MvccAdapter.open(be, logger, (p) => this.track(p), this.lessor);
    this.usedBytesEstimate = be.sizeInUseBytes();
    logger.info('opened backend', {
      'consistent-index': this.applied,
      'current-revision': this.kv.currentRev,
    });
  }

  get appliedIndex(): bigint {
    return this.applied;
  }

  /** The term of the entry at appliedIndex. */
  get appliedTerm(): bigint {
    return this.appliedTermValue;
  }

  /** The raft configuration as of appliedIndex. */
  get confState(): ConfState {
    return this.confStateValue;
  }

  readView(): ReadView {
    return this.kv.readView();
  }

  readonlyTxn(r: TxnRequest): TxnResponse {
    const noWrite = (): never => {
      throw new AssertionError('a read-only txn asked to write');
    };
    return applyTxn(this.kv.readView(), noWrite, r, this.lessor).resp;
  }

  /**
   * Applies a batch of committed entries; returns each proposal's result by request ID. Conf
   * changes are validated against the members, handed to raft (`raftConf`), and recorded with the
   * resulting ConfState in the same transaction.
   */
  applyEntries(entries: Entry[], raftConf: RaftConfChanger): Map<bigint, ApplyResult> {
    const results = new Map<bigint, ApplyResult>();
    const todo = entries.filter((e) => e.index > this.applied);
    if (todo.length === 0) return results;
    const last = todo[todo.length - 1]!;
    const watch = this.watch;
    this.kv.beginBatch();
    this.batchCompactRev = -1n;
    this.storage.backend.write((tx) => {
      for (const e of todo) {
        if (e.type === EntryType.ConfChange) {
          const cc = decodeConfChange(e.data);
          results.set(cc.id, this.applyConfChange(tx, cc, raftConf));
          continue;
        }
        if (e.data.length === 0) continue; // a new leader's empty entry
        const req = InternalRaftRequest.decode(e.data);
        const id = req.header?.ID ?? req.ID;
        results.set(id, this.applyOne(tx, req));
      }
      tx.put('meta', META_CONSISTENT_INDEX, u64(last.index));
      tx.put('meta', META_TERM, u64(last.term));
    });
    this.applied = last.index;
    this.appliedTermValue = last.term;
    // Committed: only now may watchers see the batch (a failed commit throws above and kills the member).
    const events = this.kv.takeBatchEvents();
    if (watch !== undefined) {
      if (events !== undefined) watch.notify(events);
      if (this.batchCompactRev >= 0n) watch.compacted(this.batchCompactRev);
    }
    return results;
  }

  /** etcd's applyConfChange: a change the members refuse reaches raft with node ID 0 (a no-op). */
  private applyConfChange(tx: WriteTx, cc: ConfChange, raftConf: RaftConfChanger): ApplyResult {
    const err = this.members.validate(cc);
    const cs = raftConf(err === undefined ? cc : { ...cc, nodeId: 0n });
    this.confStateValue = cs;
    tx.put('meta', META_CONF_STATE, encodeConfState(cs));
    if (err !== undefined) return { err };
    this.members.apply(tx, cc);
    if (cc.type === ConfChangeType.RemoveNode && cc.nodeId === this.opts.memberId) this.removedSelf = true;
    return { members: this.members.list() };
  }

  private applyOne(tx: WriteTx, req: InternalRaftRequest): ApplyResult {
    try {
      // While NOSPACE is raised every member refuses writes that would grow the store.
      const grows = req.put !== undefined || req.leaseGrant !== undefined;
      if (this.noSpace && (grows || (req.txn !== undefined && costTxn(req.txn) > 0))) {
        return { err: new EtcdError(Err.noSpace) };
      }
      if (req.put !== undefined) {
        checkPutLease(req.put, this.lessor);
        return this.kv.inWrite(tx, (w) => ({ put: applyPut(w, req.put!) }));
      }
      if (req.deleteRange !== undefined) {
        return this.kv.inWrite(tx, (w) => ({ deleteRange: applyDeleteRange(w, req.deleteRange!) }));
      }
      if (req.txn !== undefined) {
        const txn = req.txn;
        // The txn's compares and checks read the state before it; its ops then run in one write.
        const res = applyTxn(this.kv.readView(), () => this.kv.beginWrite(tx), txn, this.lessor);
        this.kv.endWrite();
        return { txn: res.resp };
      }
      const leased = applyLeaseRequest(tx, req, this.lessor, this.kv);
      if (leased !== undefined) return leased;
      if (req.compaction !== undefined) {
        const done = this.kv.compact(tx, req.compaction.revision);
        if (req.compaction.revision > this.batchCompactRev) this.batchCompactRev = req.compaction.revision;
        return { compactionDone: done };
      }
      if (req.v2 !== undefined) {
        const m = MEMBER_ATTRIBUTES_PATH.exec(req.v2.Path);
        if (req.v2.Method === 'PUT' && m !== null) {
          const attrs = parseMemberJson(req.v2.Val);
          this.members.updateAttributes(tx, BigInt(`0x${m[1]}`), attrs.name, attrs.clientURLs);
          return {};
        }
      }
      if (req.alarm !== undefined) {
        const alarms = this.alarms.apply(tx, req.alarm);
        return { alarm: { header: undefined, alarms } };
      }
      this.logger.warn('ignoring an entry of a kind this member does not apply');
      return {};
    } catch (err) {
      this.kv.abortWrite();
      if (err instanceof EtcdError) return { err };
      throw err;
    }
  }

  /** Reads the backend's bytes in use afresh. */
  refreshUsedBytes(): number {
    this.batchesSinceUsedBytes = 0;
    this.usedBytesEstimate = this.storage.backend.sizeInUseBytes();
    return this.usedBytesEstimate;
  }

  /** Keeps the used-bytes estimate current after a batch. */
  noteApplied(entries: Entry[]): void {
    if (++this.batchesSinceUsedBytes >= USED_BYTES_REFRESH_BATCHES) this.refreshUsedBytes();
    else for (const e of entries) this.usedBytesEstimate += e.data.length;
  }

  get noSpace(): boolean {
    return this.alarms.has(AlarmType.NOSPACE);
  }

  private track(p: Promise<void>): void {
    this.jobs.add(p);
    p.then(
      () => this.jobs.delete(p),
      (err: unknown) => {
        this.jobs.delete(p);
        this.logger.error('compaction failed', { error: String(err) });
      },
    );
  }

  /** Waits for background compaction jobs to reach a batch boundary. */
  async stop(): Promise<void> {
    await Promise.allSettled([...this.jobs]);
  }
}

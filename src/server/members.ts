// The cluster's membership as the server keeps it (etcd 3.4's membership.RaftCluster): every
// member's ID, name, peer and client URLs and learner flag, plus the IDs removed for good. It lives
// in the backend's `members` and `members_removed` buckets with etcd's key and JSON shapes (key: the
// ID in lower-case hex; value: etcd's Member JSON), changes only by applying committed conf-change
// entries (whose context is the member JSON, as etcd writes it) and attribute updates, and is read
// back from the backend on start and after a snapshot swapped the backend.
import { EtcdError, Err } from '../base/index.js';
import type { ReadTx, WriteTx } from '../backend/index.js';
import { ConfChangeType, type ConfChange } from '../raft/types.js';

export interface Member {
  id: bigint;
  /** Empty until the member has started and published itself. */
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

/** At most this many learners at once (etcd's maxLearners). */
export const MAX_LEARNERS = 1;

const enc = new TextEncoder();
const dec = new TextDecoder();

/** etcd's types.ID.String(): lower-case hex without padding. */
export function idString(id: bigint): string {
  return id.toString(16);
}

/** Go's encoding/json for a string (it escapes <, > and & as well). */
function goString(s: string): string {
  return JSON.stringify(s).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function goStrings(a: readonly string[] | undefined): string {
  return a === undefined ? 'null' : `[${a.map(goString).join(',')}]`;
}

/** etcd's json.Marshal(Member): id, peerURLs, isLearner (omitempty), name (omitempty), clientURLs (omitempty). */
export function memberJson(m: Member, extra = ''): string {
  let s = `{"id":${m.id},"peerURLs":${goStrings(m.peerURLs)}`;
  if (m.isLearner) s += ',"isLearner":true';
  if (m.name !== '') s += `,"name":${goString(m.name)}`;
  if (m.clientURLs.length > 0) s += `,"clientURLs":${goStrings(m.clientURLs)}`;
  return `${s}${extra}}`;
}

/** etcd's ConfigChangeContext JSON: the member's fields and isPromote. */
export function configChangeContext(m: Member, isPromote: boolean): Uint8Array {
  return enc.encode(memberJson(m, `,"isPromote":${isPromote}`));
}

export function encodeMember(m: Member): Uint8Array {
  return enc.encode(memberJson(m));
}

/** Parses etcd's Member (or ConfigChangeContext) JSON; the uint64 id never passes through a number. */
export function parseMemberJson(text: string): Member & { isPromote: boolean } {
  const quoted = text.replace(/"id"\s*:\s*(\d+)/, '"id":"$1"');
  const o = JSON.parse(quoted) as Record<string, unknown>;
  const strs = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
  return {
    id: BigInt(typeof o['id'] === 'string' ? o['id'] : 0),
    name: typeof o['name'] === 'string' ? o['name'] : '',
    peerURLs: strs(o['peerURLs']),
    clientURLs: strs(o['clientURLs']),
    isLearner: o['isLearner'] === true,
    isPromote: o['isPromote'] === true,
  };
}

export function decodeMember(b: Uint8Array): Member {
  const { isPromote: _ignored, ...m } = parseMemberJson(dec.decode(b));
  return m;
}

const REMOVED = enc.encode('removed');

export class MemberStore {
  private constructor(
    private readonly members: Map<bigint, Member>,
    private readonly removed: Set<bigint>,
  ) {}

  static load(tx: ReadTx): MemberStore {
    const members = new Map<bigint, Member>();
    const removed = new Set<bigint>();
    tx.forEach('members', new Uint8Array(0), undefined, (_k, v) => {
      const m = decodeMember(v);
      members.set(m.id, m);
    });
    tx.forEach('members_removed', new Uint8Array(0), undefined, (k) => {
      removed.add(BigInt(`0x${dec.decode(k)}`));
    });
    return new MemberStore(members, removed);
  }

  /** Members in ascending ID order. */
  list(): Member[] {
    return [...this.members.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  get(id: bigint): Member | undefined {
    return this.members.get(id);
  }

  has(id: bigint): boolean {
    return this.members.has(id);
  }

  isRemoved(id: bigint): boolean {
    return this.removed.has(id);
  }

  votingMembers(): Member[] {
    return this.list().filter((m) => !m.isLearner);
  }

  /**
   * etcd's ValidateConfigurationChange, answering with the client-facing errors. `context` is the
   * change's member JSON (a ConfigChangeContext for adds and promotions).
   */
  validate(cc: ConfChange): EtcdError | undefined {
    if (this.removed.has(cc.nodeId)) return new EtcdError(Err.memberNotFound);
    const ctx = cc.context.length > 0 ? parseMemberJson(dec.decode(cc.context)) : undefined;
    const urlsOfOthers = (except?: bigint): Set<string> => {
      const s = new Set<string>();
      for (const m of this.members.values()) if (m.id !== except) for (const u of m.peerURLs) s.add(u);
      return s;
    };
    switch (cc.type) {
      case ConfChangeType.AddNode:
      case ConfChangeType.AddLearnerNode: {
        if (ctx?.isPromote === true) {
          const m = this.members.get(cc.nodeId);
          if (m === undefined) return new EtcdError(Err.memberNotFound);
          if (!m.isLearner) return new EtcdError(Err.memberNotLearner);
          return undefined;
        }
        if (this.members.has(cc.nodeId)) return new EtcdError(Err.memberExist);
        const urls = urlsOfOthers();
        if ((ctx?.peerURLs ?? []).some((u) => urls.has(u))) return new EtcdError(Err.peerURLExist);
        if (ctx?.isLearner === true) {
          const learners = [...this.members.values()].filter((m) => m.isLearner).length;
          if (learners + 1 > MAX_LEARNERS) return new EtcdError(Err.tooManyLearners);
        }
        return undefined;
      }
      case ConfChangeType.RemoveNode:
        return this.members.has(cc.nodeId) ? undefined : new EtcdError(Err.memberNotFound);
      case ConfChangeType.UpdateNode: {
        if (!this.members.has(cc.nodeId)) return new EtcdError(Err.memberNotFound);
        const urls = urlsOfOthers(cc.nodeId);
        if ((ctx?.peerURLs ?? []).some((u) => urls.has(u))) return new EtcdError(Err.peerURLExist);
        return undefined;
      }
      default:
        throw new Error(`unknown ConfChange type ${cc.type}`);
    }
  }

  /** Applies a validated conf change to the store and the backend (inside the apply transaction). */
  apply(tx: WriteTx, cc: ConfChange): void {
    const ctx = cc.context.length > 0 ? parseMemberJson(dec.decode(cc.context)) : undefined;
    const key = enc.encode(idString(cc.nodeId));
    switch (cc.type) {
      case ConfChangeType.AddNode:
      case ConfChangeType.AddLearnerNode: {
        if (ctx?.isPromote === true) {
          const m = this.members.get(cc.nodeId)!;
          this.put(tx, { ...m, isLearner: false });
          return;
        }
        const { isPromote: _p, ...m } = ctx!;
        this.put(tx, { ...m, id: cc.nodeId, isLearner: cc.type === ConfChangeType.AddLearnerNode });
        return;
      }
      case ConfChangeType.RemoveNode:
        this.members.delete(cc.nodeId);
        this.removed.add(cc.nodeId);
        tx.delete('members', key);
        tx.put('members_removed', key, REMOVED);
        return;
      case ConfChangeType.UpdateNode: {
        const m = this.members.get(cc.nodeId)!;
        this.put(tx, { ...m, peerURLs: ctx?.peerURLs ?? [] });
        return;
      }
    }
  }

  /** A member published its name and client URLs (etcd's UpdateAttributes). */
  updateAttributes(tx: WriteTx, id: bigint, name: string, clientURLs: string[]): void {
    const m = this.members.get(id);
    if (m === undefined) return; // removed meanwhile: etcd ignores it too
    this.put(tx, { ...m, name, clientURLs });
  }

  private put(tx: WriteTx, m: Member): void {
    this.members.set(m.id, m);
    tx.put('members', enc.encode(idString(m.id)), encodeMember(m));
  }

  /**
   * Strict reconfiguration checks (etcd's IsReadyTo*): a member counts as started once it has
   * published its name.
   */
  isReadyToAddVotingMember(): boolean {
    const voting = this.votingMembers();
    const nmembers = voting.length + 1;
    const nstarted = voting.filter((m) => m.name !== '').length;
    if (nstarted === 1 && nmembers === 2) return true;
    return nstarted >= Math.floor(nmembers / 2) + 1;
  }

  isReadyToRemoveVotingMember(id: bigint): boolean {
    const others = this.votingMembers().filter((m) => m.id !== id);
    const nstarted = others.filter((m) => m.name !== '').length;
    return nstarted >= Math.floor(others.length / 2) + 1;
  }

  isReadyToPromoteMember(): boolean {
    const voting = this.votingMembers();
    const nmembers = voting.length + 1;
    const nstarted = voting.filter((m) => m.name !== '').length + 1;
    return nstarted >= Math.floor(nmembers / 2) + 1;
  }
}

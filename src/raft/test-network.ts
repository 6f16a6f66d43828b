// Test support (used by raft.test.ts and raft-paper.test.ts, never by production code): an
// in-process network of RawNodes over MemoryStorage, like etcd-io/raft's test `network`. Every
// node handles its Ready the way an application must (persist snapshot, entries and HardState,
// then send, then apply — calling applyConfChange for conf changes — then advance). Messages are
// delivered breadth-first until none are left; drop/cut/isolate/ignore filter them. Deterministic:
// message loss is drawn from a seeded Prng.
import { Prng } from '../base/prng.js';
import { asV2, decodeConfChange, decodeConfChangeV2 } from './confchange/index.js';
import { StateType, type Config } from './config.js';
import type { RaftLogger } from './logger.js';
import { MemoryStorage } from './memory-storage.js';
import type { Raft } from './raft.js';
import { RawNode, type Ready } from './raw-node.js';
import type { ReadState } from './read-only.js';
import {
  EntryType,
  MessageType,
  type ConfChangeV2,
  type ConfState,
  type Entry,
  type Message,
} from './types.js';

export interface TestNode {
  id: bigint;
  rn: RawNode;
  storage: MemoryStorage;
  /** Every entry applied, in order (conf changes included). */
  applied: Entry[];
  readStates: ReadState[];
  /** ConfStates returned by applyConfChange, in order. */
  confStates: ConfState[];
}

export interface NetworkOptions {
  /** Voters of the initial configuration (default: all ids). */
  voters?: bigint[];
  learners?: bigint[];
  electionTick?: number;
  heartbeatTick?: number;
  /** Applied to every node's Config before it is created. */
  configure?: (c: Config) => void;
  seed?: number;
  /**
   * Bootstrap from a snapshot at index 1, term 1 holding the configuration (as a cluster starts);
   * otherwise the log starts empty at index 0 with the configuration set on the storage.
   */
  snapshotBootstrap?: boolean;
  logger?: RaftLogger;
  /**
   * After applying a conf change, record a snapshot at its index with the new ConfState (as an
   * application snapshotting often would), so that a new member can be caught up from it.
   */
  snapshotOnConfChange?: boolean;
}

export function confState(voters: bigint[], learners: bigint[] = []): ConfState {
  return { voters, learners, votersOutgoing: [], learnersNext: [], autoLeave: false };
}

export function newTestConfig(
  id: bigint,
  storage: MemoryStorage,
  electionTick = 10,
  heartbeatTick = 1,
): Config {
  return {
    id,
    electionTick,
    heartbeatTick,
    storage,
    maxInflightMsgs: 256,
    prng: new Prng(Number(id) * 7919),
  };
}

/** A storage holding `cs` at index 0 with an empty log (etcd's newTestMemoryStorage(withPeers(...))). */
export function newTestStorage(cs: ConfState): MemoryStorage {
  const s = new MemoryStorage();
  s.bootstrapConfState(cs);
  return s;
}

const key = (from: bigint, to: bigint): string => `${from}->${to}`;

export class Network {
  readonly nodes = new Map<bigint, TestNode>();
  /** Probability (0..1) of losing a message on a link. */
  private readonly dropm = new Map<string, number>();
  private readonly ignorem = new Set<MessageType>();
  private readonly prng: Prng;
  /** Every message delivered, in order (for assertions on traffic). */
  readonly delivered: Message[] = [];
  /** Messages to a node not in the network (e.g. removed), kept for inspection. */
  readonly undeliverable: Message[] = [];
  /** Intercept hook: return false to drop a message before it is delivered. */
  filter: ((m: Message) => boolean) | undefined;

  private readonly initialConf: ConfState;

  constructor(
    ids: bigint[],
    private readonly opts: NetworkOptions = {},
  ) {
    this.prng = new Prng(opts.seed ?? 1);
    const learners = opts.learners ?? [];
    this.initialConf = confState(opts.voters ?? ids.filter((id) => !learners.includes(id)), learners);
    for (const id of ids) this.addNode(id);
  }

  /**
   * Create a node with the initial configuration, or an empty one (no configuration, empty log)
   * that learns everything from the leader's snapshot, as a newly added member does.
   */
  addNode(id: bigint, empty = false): TestNode {
    const storage = new MemoryStorage();
    if (!empty) {
      if (this.opts.snapshotBootstrap === true) {
        const metadata = { index: 1n, term: 1n, confState: this.initialConf };
        storage.applySnapshot({ data: new Uint8Array(0), metadata });
      } else {
        storage.bootstrapConfState(this.initialConf);
      }
    }
    const c = newTestConfig(id, storage, this.opts.electionTick ?? 10, this.opts.heartbeatTick ?? 1);
    if (this.opts.logger !== undefined) c.logger = this.opts.logger;
    this.opts.configure?.(c);
    const n: TestNode = { id, rn: new RawNode(c), storage, applied: [], readStates: [], confStates: [] };
    this.nodes.set(id, n);
    return n;
  }

  node(id: bigint): TestNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  raft(id: bigint): Raft {
    return this.node(id).rn.raft;
  }

  /** Handle a node's Ready until it has none; returns the messages it produced. */
  handleReady(id: bigint): Message[] {
    const n = this.node(id);
    const out: Message[] = [];
    while (n.rn.hasReady()) {
      const rd = n.rn.ready();
      this.persist(n, rd);
      out.push(...rd.messages);
      this.apply(n, rd);
      n.rn.advance(rd);
    }
    return out;
  }

  private persist(n: TestNode, rd: Ready): void {
    if (rd.snapshot !== undefined) n.storage.applySnapshot(rd.snapshot);
    n.storage.append(rd.entries);
    if (rd.hardState !== undefined) n.storage.setHardState(rd.hardState);
  }

  private apply(n: TestNode, rd: Ready): void {
    n.readStates.push(...rd.readStates);
    for (const e of rd.committedEntries) {
      n.applied.push(e);
      if (e.type === EntryType.Normal) continue;
      const cc: ConfChangeV2 =
        e.type === EntryType.ConfChange ? asV2(decodeConfChange(e.data)) : decodeConfChangeV2(e.data);
      const cs = n.rn.applyConfChange(cc);
      n.confStates.push(cs);
      if (this.opts.snapshotOnConfChange === true) n.storage.createSnapshot(e.index, cs, new Uint8Array(0));
    }
  }

  /** Step messages into their targets and deliver everything that follows, breadth-first. */
  send(...msgs: Message[]): void {
    const queue = [...msgs];
    while (queue.length > 0) {
      const m = queue.shift() as Message;
      const n = this.nodes.get(m.to);
      if (n === undefined) {
        this.undeliverable.push(m);
        continue;
      }
      this.delivered.push(m);
      try {
        n.rn.step(m);
      } catch (err) {
        // A peer removed from the config answering late, or a forwarded proposal being dropped.
        if (!(err instanceof Error) || err.name !== 'RaftError') throw err;
      }
      queue.push(...this.filterMsgs(this.handleReady(m.to)));
    }
  }

  /** Flush every node's pending Ready and deliver the results. */
  flush(): void {
    const out: Message[] = [];
    for (const id of [...this.nodes.keys()].sort((a, b) => (a < b ? -1 : 1)))
      out.push(...this.handleReady(id));
    this.send(...this.filterMsgs(out));
  }

  /** Run a local action on a node, then deliver what it produced. */
  act(id: bigint, f: (rn: RawNode) => void): void {
    f(this.node(id).rn);
    this.send(...this.filterMsgs(this.handleReady(id)));
  }

  campaign(id: bigint): void {
    this.act(id, (rn) => rn.campaign());
  }

  propose(id: bigint, data: string | Uint8Array): void {
    this.act(id, (rn) => rn.propose(typeof data === 'string' ? new TextEncoder().encode(data) : data));
  }

  /** Tick a node `n` times, delivering after each tick. */
  tick(id: bigint, n = 1): void {
    for (let i = 0; i < n; i++) this.act(id, (rn) => rn.tick());
  }

  /** Tick every node once per round (ascending id), delivering after each round. */
  tickAll(rounds = 1): void {
    for (let r = 0; r < rounds; r++) {
      const out: Message[] = [];
      for (const id of [...this.nodes.keys()].sort((a, b) => (a < b ? -1 : 1))) {
        this.node(id).rn.tick();
        out.push(...this.handleReady(id));
      }
      this.send(...this.filterMsgs(out));
    }
  }

  private filterMsgs(msgs: Message[]): Message[] {
    return msgs.filter((m) => {
      if (this.ignorem.has(m.type)) return false;
      if (m.type === MessageType.MsgHup) throw new Error('unexpected MsgHup on the network');
      const p = this.dropm.get(key(m.from, m.to)) ?? 0;
      if (p >= 1 || (p > 0 && this.prng.chance(p))) return false;
      return this.filter === undefined || this.filter(m);
    });
  }

  drop(from: bigint, to: bigint, perc: number): void {
    this.dropm.set(key(from, to), perc);
  }

  /** Sever both directions between a and b. */
  cut(a: bigint, b: bigint): void {
    this.drop(a, b, 1);
    this.drop(b, a, 1);
  }

  isolate(id: bigint): void {
    for (const other of this.nodes.keys()) if (other !== id) this.cut(id, other);
  }

  ignore(t: MessageType): void {
    this.ignorem.add(t);
  }

  recover(): void {
    this.dropm.clear();
    this.ignorem.clear();
  }

  /** The nodes that believe they are leader. */
  leaders(): bigint[] {
    return [...this.nodes.values()].filter((n) => n.rn.raft.state === StateType.StateLeader).map((n) => n.id);
  }

  /** Payloads of the normal, non-empty entries a node applied. */
  appliedData(id: bigint): string[] {
    return this.node(id)
      .applied.filter((e) => e.type === EntryType.Normal && e.data.length > 0)
      .map((e) => new TextDecoder().decode(e.data));
  }
}

/** A Raft over `storage` (by default: voters `peers`, empty log), as etcd's newTestRaft. */
export function newTestRaft(
  id: bigint,
  peers: bigint[],
  electionTick = 10,
  heartbeatTick = 1,
  storage: MemoryStorage = newTestStorage(confState(peers)),
  configure?: (c: Config) => void,
): Raft {
  const c = newTestConfig(id, storage, electionTick, heartbeatTick);
  configure?.(c);
  return new RawNode(c).raft;
}

/** Take the messages a Raft produced (clearing them), as etcd's readMessages. */
export function readMessages(r: Raft): Message[] {
  const msgs = r.msgs;
  r.msgs = [];
  return msgs;
}

/** An entry with the given index and term (and optional payload). */
export function ent(index: bigint, term: bigint, data = ''): Entry {
  return { index, term, type: EntryType.Normal, data: new TextEncoder().encode(data) };
}

// Interaction-env commands that act on one node: creating nodes over MemoryStorage, driving the
// RawNode API (campaign, propose, conf changes, ticks, leader transfer, ReadIndex), handling a Ready
// the way an application must (persist, then queue messages, then apply, then advance), and printing
// the log and the status. See interaction-env.ts for the environment these run in.
import { Prng } from '../../base/prng.js';
import { decodeConfChange, decodeConfChangeV2 } from '../confchange/conf-change.js';
import { MemoryStorage } from '../memory-storage.js';
import { RawNode, type Config } from '../raw-node.js';
import {
  ConfChangeTransition,
  ConfChangeType,
  emptyConfState,
  EntryType,
  type ConfChange,
  type ConfChangeSingle,
  type ConfChangeV2,
  type ConfState,
  type Entry,
  type Snapshot,
} from '../types.js';
import { ReadOnlyOption } from '../read-only.js';
import { describeEntries, describeReady, noLimit, quoteBytes } from '../util.js';
import { stateTypeName } from '../config.js';
import type { TestCase } from './datadriven.js';
import type { EnvNode, InteractionEnv } from './interaction-env.js';

/**
 * A Prng that always draws the highest value, so a node's randomized election timeout is always
 * 2*electionTick-1 ticks (5 with the env's electionTick of 3). Scripts then control elections
 * exactly: one `tick-election` (electionTick ticks) ends a follower's lease, and runs a leader's
 * check-quorum, without starting an election; a second one starts it. Randomness would only hide
 * which node campaigns when.
 */
export class MaxJitterPrng extends Prng {
  constructor() {
    super(0);
  }
  override nextUint32(): number {
    return 0xffffffff;
  }
  override float(): number {
    return 0xffffffff / 4294967296;
  }
  override intBelow(n: number): number {
    return n - 1;
  }
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** The first positional argument as a node id. */
export function firstId(c: TestCase): bigint {
  const a = c.args[0];
  if (a === undefined || a.values.length > 0 || !/^\d+$/.test(a.key))
    throw new Error(`${c.cmd}: expected a node id`);
  return BigInt(a.key);
}

/** All positional (bare) arguments as node ids. */
export function positionalIds(c: TestCase): bigint[] {
  return c.args.filter((a) => a.values.length === 0).map((a) => BigInt(a.key));
}

function boolArg(c: TestCase, key: string, dflt: boolean): boolean {
  const v = c.args.find((a) => a.key === key)?.values[0];
  if (v === undefined) return dflt;
  if (v !== 'true' && v !== 'false') throw new Error(`${key} must be true or false`);
  return v === 'true';
}

function singleValue(c: TestCase, key: string): string | undefined {
  return c.args.find((a) => a.key === key)?.values[0];
}

/**
 * add-nodes N [voters=(1,2,3)] [learners=(4)] [index=I] [content=S] [prevote=B] [checkquorum=B]
 * [read-only=lease]: nodes get consecutive ids; with voters or learners each starts from a snapshot
 * at index I (default 1), term 1, holding that ConfState, as a freshly bootstrapped member does.
 * Without them the node starts empty and learns its configuration from the leader's snapshot.
 */
export function handleAddNodes(env: InteractionEnv, c: TestCase): void {
  const n = Number(c.args[0]?.key);
  if (!Number.isInteger(n) || n <= 0) throw new Error('add-nodes: expected a count');
  const cs = emptyConfState();
  cs.voters = (c.args.find((a) => a.key === 'voters')?.values ?? []).map((v) => BigInt(v));
  cs.learners = (c.args.find((a) => a.key === 'learners')?.values ?? []).map((v) => BigInt(v));
  const bootstrap = cs.voters.length + cs.learners.length > 0;
  const index = bootstrap ? BigInt(singleValue(c, 'index') ?? '1') : 0n;
  const snap: Snapshot = {
    data: utf8(singleValue(c, 'content') ?? ''),
    metadata: { index, term: bootstrap ? 1n : 0n, confState: cs },
  };
  for (let i = 0; i < n; i++) {
    const id = BigInt(env.nodes.length + 1);
    const storage = new MemoryStorage();
    if (bootstrap) storage.applySnapshot(snap);
    const config: Config = {
      id,
      electionTick: 3,
      heartbeatTick: 1,
      storage,
      applied: index,
      maxSizePerMsg: noLimit,
      maxInflightMsgs: 1 << 30,
      checkQuorum: boolArg(c, 'checkquorum', true),
      preVote: boolArg(c, 'prevote', true),
      logger: env.output,
      prng: new MaxJitterPrng(),
    };
    const ro = singleValue(c, 'read-only');
    if (ro !== undefined)
      config.readOnlyOption =
        ro === 'lease' ? ReadOnlyOption.ReadOnlyLeaseBased : ReadOnlyOption.ReadOnlySafe;
    const rawNode = new RawNode(config);
    env.nodes.push({ id, rawNode, storage, config, history: [snap] });
  }
}

/**
 * restart ID: the node crashes and restarts from its storage. Whatever it had not persisted through
 * process-ready (unstable entries, a new term or vote, queued messages not yet handed out) is lost;
 * messages already sent stay in flight. It restarts with applied = the last index it applied.
 */
export function handleRestart(env: InteractionEnv, c: TestCase): void {
  const n = env.node(firstId(c));
  const state = n.history[n.history.length - 1] as Snapshot;
  n.config = { ...n.config, applied: state.metadata.index };
  n.rawNode = new RawNode(n.config);
}

export function handleCampaign(env: InteractionEnv, c: TestCase): void {
  env.node(firstId(c)).rawNode.campaign();
}

/** propose ID data */
export function handlePropose(env: InteractionEnv, c: TestCase): void {
  const data = c.args[1];
  if (data === undefined || c.args.length !== 2) throw new Error('propose: expected ID and one word of data');
  env.node(firstId(c)).rawNode.propose(utf8(data.key));
}

/** tick-heartbeat ID / tick-election ID: that many ticks of the node's config. */
export function handleTick(env: InteractionEnv, c: TestCase, what: 'heartbeat' | 'election'): void {
  const n = env.node(firstId(c));
  const ticks = what === 'heartbeat' ? n.config.heartbeatTick : n.config.electionTick;
  for (let i = 0; i < ticks; i++) n.rawNode.tick();
}

/** transfer-leader from=ID to=ID: asks node `from` (the leader, or a follower that forwards) to hand over. */
export function handleTransferLeader(env: InteractionEnv, c: TestCase): void {
  const from = singleValue(c, 'from');
  const to = singleValue(c, 'to');
  if (from === undefined || to === undefined) throw new Error('transfer-leader: expected from=ID to=ID');
  env.node(BigInt(from)).rawNode.transferLeader(BigInt(to));
}

/** read-index ID ctx */
export function handleReadIndex(env: InteractionEnv, c: TestCase): void {
  const ctx = c.args[1];
  if (ctx === undefined) throw new Error('read-index: expected ID and a request context');
  env.node(firstId(c)).rawNode.readIndex(utf8(ctx.key));
}

/** report-unreachable ID PEER: node ID's transport tells it that PEER could not be reached. */
export function handleReportUnreachable(env: InteractionEnv, c: TestCase): void {
  const peer = c.args[1];
  if (peer === undefined) throw new Error('report-unreachable: expected ID and PEER');
  env.node(firstId(c)).rawNode.reportUnreachable(BigInt(peer.key));
}

/** Parses `v1 v2 r3 l4 u5` (add voter, add voter, remove, add learner, update). */
export function parseConfChanges(input: string): ConfChangeSingle[] {
  const types: Record<string, ConfChangeType> = {
    v: ConfChangeType.AddNode,
    l: ConfChangeType.AddLearnerNode,
    r: ConfChangeType.RemoveNode,
    u: ConfChangeType.UpdateNode,
  };
  return input
    .split(/\s+/)
    .filter((w) => w !== '')
    .map((w) => {
      const type = types[w[0] ?? ''];
      if (type === undefined || !/^\d+$/.test(w.slice(1))) throw new Error(`unknown conf change ${w}`);
      return { type, nodeId: BigInt(w.slice(1)) };
    });
}

/** propose-conf-change ID [v1=true] [transition=auto|implicit|explicit], changes on the input line. */
export function handleProposeConfChange(env: InteractionEnv, c: TestCase): void {
  const v1 = boolArg(c, 'v1', false);
  const tname = singleValue(c, 'transition') ?? 'auto';
  const transitions: Record<string, ConfChangeTransition> = {
    auto: ConfChangeTransition.Auto,
    implicit: ConfChangeTransition.JointImplicit,
    explicit: ConfChangeTransition.JointExplicit,
  };
  const transition = transitions[tname];
  if (transition === undefined) throw new Error(`unknown transition ${tname}`);
  const changes = parseConfChanges(c.input);
  let cc: ConfChange | ConfChangeV2;
  if (v1) {
    const only = changes[0];
    if (changes.length !== 1 || only === undefined || transition !== ConfChangeTransition.Auto) {
      throw new Error('v1 conf change can only have one operation and no transition');
    }
    cc = { type: only.type, nodeId: only.nodeId, context: new Uint8Array(0), id: 0n };
  } else {
    cc = { transition, changes, context: new Uint8Array(0) };
  }
  env.node(firstId(c)).rawNode.proposeConfChange(cc);
}

/** process-ready ID...: handle each node's Ready, printing it (indented when several nodes). */
export function handleProcessReady(env: InteractionEnv, c: TestCase): void {
  const ids = positionalIds(c);
  for (const id of ids) {
    if (ids.length === 1) {
      processReady(env, env.node(id));
      continue;
    }
    env.output.write(`> ${id} handling Ready`);
    env.withIndent(() => processReady(env, env.node(id)));
  }
}

/**
 * One Ready, handled in the order an application must: persist the snapshot, entries and HardState;
 * queue the messages (sending comes after persisting); apply the committed entries, conf changes
 * through applyConfChange; then advance. After applying, the node snapshots its state
 * (createSnapshot) as an application with a snapshot interval of one would, so a leader that must
 * send a snapshot sends its current state and configuration, not the bootstrap one.
 */
export function processReady(env: InteractionEnv, n: EnvNode): void {
  const rd = n.rawNode.ready();
  env.output.write(describeReady(rd, quoteBytes));
  if (rd.snapshot !== undefined) {
    n.storage.applySnapshot(rd.snapshot);
    n.history.push(rd.snapshot);
  }
  n.storage.append(rd.entries);
  if (rd.hardState !== undefined) n.storage.setHardState(rd.hardState);
  env.messages.push(...rd.messages);
  for (const e of rd.committedEntries) apply(n, e);
  const state = n.history[n.history.length - 1] as Snapshot;
  if (state.metadata.index > n.storage.snapshot().metadata.index) {
    n.storage.createSnapshot(state.metadata.index, state.metadata.confState, state.data);
  }
  n.rawNode.advance(rd);
}

function apply(n: EnvNode, e: Entry): void {
  const last = n.history[n.history.length - 1] as Snapshot;
  let update = e.data;
  let cs: ConfState = last.metadata.confState;
  if (e.type === EntryType.ConfChange) {
    const cc = decodeConfChange(e.data);
    update = cc.context;
    cs = n.rawNode.applyConfChange(cc);
  } else if (e.type === EntryType.ConfChangeV2) {
    const cc = decodeConfChangeV2(e.data);
    update = cc.context;
    cs = n.rawNode.applyConfChange(cc);
  }
  const data = new Uint8Array(last.data.length + update.length);
  data.set(last.data);
  data.set(update, last.data.length);
  n.history.push({ data, metadata: { index: e.index, term: e.term, confState: cs } });
}

/** raft-log ID: the entries in the node's storage. */
export function handleRaftLog(env: InteractionEnv, c: TestCase): void {
  raftLog(env, env.node(firstId(c)));
}

function raftLog(env: InteractionEnv, n: EnvNode): void {
  const fi = n.storage.firstIndex();
  const li = n.storage.lastIndex();
  if (li < fi) {
    env.output.write(`log is empty: first index=${fi}, last index=${li}`);
    return;
  }
  env.output.write(describeEntries(n.storage.entries(fi, li + 1n, noLimit), quoteBytes));
}

/**
 * compact ID INDEX: drops the log up to applied index INDEX (MemoryStorage.compact), so the first
 * index becomes INDEX+1; prints the remaining log. processReady has already snapshotted the applied
 * state, so a follower that needs the dropped entries gets that snapshot instead.
 */
export function handleCompact(env: InteractionEnv, c: TestCase): void {
  const n = env.node(firstId(c));
  const arg = c.args[1];
  if (arg === undefined) throw new Error('compact: expected ID and INDEX');
  const index = BigInt(arg.key);
  if (index > n.storage.snapshot().metadata.index) {
    throw new Error(`compact: index ${index} is not applied on ${n.id}`);
  }
  n.storage.compact(index);
  raftLog(env, n);
}

/** status ID: the node's basic status, its configuration, and on a leader every peer's progress. */
export function handleStatus(env: InteractionEnv, c: TestCase): void {
  const st = env.node(firstId(c)).rawNode.status();
  let head = `${st.id} ${stateTypeName(st.raftState)} term=${st.term} vote=${st.vote} lead=${st.lead}`;
  head += ` commit=${st.commit} applied=${st.applied}`;
  if (st.leadTransferee !== 0n) head += ` leadTransferee=${st.leadTransferee}`;
  const lines = [head, `config: ${st.config.toString()}`];
  for (const [id, pr] of st.progress) lines.push(`${id}: ${pr.toString()}`);
  env.output.write(lines.join('\n'));
}

// The interaction environment for data-driven raft tests (the role of etcd-io/raft's
// rafttest.InteractionEnv): a group of RawNodes over MemoryStorage, a queue of in-flight messages, a
// set of cut links, and a logger that turns the core's log lines and the described Readys into the
// text a script compares. Every step is explicit — nothing ticks, delivers or persists unless a
// script says so — which is what makes a script a readable, replayable account of one interaction.
//
// Commands (src/raft/testdata/*.txt; node N is the N-th node added):
//   add-nodes N [voters=(..)] [learners=(..)] [index=I] [content=S] [prevote=B] [checkquorum=B]
//             [read-only=lease]                  restart ID
//   campaign ID   propose ID DATA   propose-conf-change ID [v1=true] [transition=auto|implicit|explicit]
//   (changes on the next line: v2 l3 r4 u5)       transfer-leader from=ID to=ID   read-index ID CTX
//   tick-heartbeat ID   tick-election ID   report-unreachable ID PEER
//   process-ready ID...   deliver-msgs ID... [drop=(ID,..)]   stabilize [ID...]
//   cut A B   isolate ID   heal [ID]   status ID   raft-log ID   compact ID INDEX   log-level LEVEL
//
// Handlers live in interaction-env-nodes.ts (nodes, storage, Ready) and interaction-env-msgs.ts
// (delivery, stabilize, partitions); this file holds the shared state and the command table.
import type { RaftLogger } from '../logger.js';
import type { Config, RawNode } from '../raw-node.js';
import type { MemoryStorage } from '../memory-storage.js';
import { None, type Message, type Snapshot } from '../types.js';
import type { TestCase } from './datadriven.js';
import {
  handleAddNodes,
  handleCampaign,
  handleCompact,
  handleProcessReady,
  handlePropose,
  handleProposeConfChange,
  handleRaftLog,
  handleReadIndex,
  handleReportUnreachable,
  handleRestart,
  handleStatus,
  handleTick,
  handleTransferLeader,
} from './interaction-env-nodes.js';
import {
  handleCut,
  handleDeliverMsgs,
  handleHeal,
  handleIsolate,
  handleStabilize,
} from './interaction-env-msgs.js';

export const levelNames = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL', 'NONE'] as const;

/** Collects output lines; the core's log lines are kept when at or above `level`. */
export class RedirectLogger implements RaftLogger {
  out: string[] = [];
  level = 0;
  /** Set when harness output was withheld at level NONE, so the command reports "ok (quiet)". */
  quieted = false;

  private log(lvl: number, msg: string): void {
    if (lvl >= this.level) this.out.push(`${levelNames[lvl]} ${msg}`);
  }
  debug(msg: string): void {
    this.log(0, msg);
  }
  info(msg: string): void {
    this.log(1, msg);
  }
  warn(msg: string): void {
    this.log(2, msg);
  }
  error(msg: string): void {
    this.log(3, msg);
  }
  panic(msg: string): never {
    this.log(4, msg);
    throw new Error(msg);
  }
  /** Output of the harness itself (Readys, messages, status); suppressed only at level NONE. */
  write(text: string): void {
    if (this.level >= levelNames.length - 1) {
      if (text !== '') this.quieted = true;
      return;
    }
    for (const l of text.replace(/\n+$/, '').split('\n')) this.out.push(l);
  }
  take(): string {
    const s = this.out.join('\n');
    this.out = [];
    this.quieted = false;
    return s;
  }
}

export interface EnvNode {
  id: bigint;
  rawNode: RawNode;
  storage: MemoryStorage;
  config: Config;
  /** The applied state after each applied index (an "appender" state machine), newest last. */
  history: Snapshot[];
}

/** A cut link: messages between `a` and `b` (both ways) are dropped; b = None cuts `a` from everyone. */
export interface Link {
  a: bigint;
  b: bigint;
}

export class InteractionEnv {
  nodes: EnvNode[] = [];
  /** Messages sent and not yet delivered or dropped, in send order. */
  messages: Message[] = [];
  cuts: Link[] = [];
  output = new RedirectLogger();

  node(id: bigint): EnvNode {
    const n = this.nodes[Number(id) - 1];
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  isCut(from: bigint, to: bigint): boolean {
    const touches = (l: Link, x: bigint, y: bigint): boolean => l.a === x && (l.b === y || l.b === None);
    return this.cuts.some((l) => touches(l, from, to) || touches(l, to, from));
  }

  /** Runs f, indenting every output line it produces by two spaces (stabilize's nesting). */
  withIndent(f: () => void): void {
    const from = this.output.out.length;
    f();
    for (let i = from; i < this.output.out.length; i++) this.output.out[i] = `  ${this.output.out[i]}`;
  }

  /** Runs one script command and returns its output: log lines, descriptions, or "ok". */
  handle(c: TestCase): string {
    const h = handlers[c.cmd];
    try {
      if (h === undefined) throw new Error(`unknown command ${c.cmd}`);
      h(this, c);
    } catch (e) {
      this.output.out.push(e instanceof Error ? e.message : String(e));
    }
    const quieted = this.output.quieted;
    const text = this.output.take();
    if (text !== '') return text;
    return quieted ? 'ok (quiet)' : 'ok';
  }
}

function handleLogLevel(env: InteractionEnv, c: TestCase): void {
  const name = (c.args[0]?.key ?? '').toUpperCase();
  const i = levelNames.indexOf(name as (typeof levelNames)[number]);
  if (i < 0) throw new Error(`log levels must be one of ${levelNames.join(', ')}`);
  env.output.level = i;
}

type Handler = (env: InteractionEnv, c: TestCase) => void;

const handlers: Record<string, Handler> = {
  'add-nodes': handleAddNodes,
  campaign: handleCampaign,
  compact: handleCompact,
  'deliver-msgs': handleDeliverMsgs,
  'process-ready': handleProcessReady,
  'log-level': handleLogLevel,
  'raft-log': handleRaftLog,
  stabilize: handleStabilize,
  status: handleStatus,
  'tick-heartbeat': (env, c) => handleTick(env, c, 'heartbeat'),
  'tick-election': (env, c) => handleTick(env, c, 'election'),
  propose: handlePropose,
  'propose-conf-change': handleProposeConfChange,
  'transfer-leader': handleTransferLeader,
  'read-index': handleReadIndex,
  'report-unreachable': handleReportUnreachable,
  restart: handleRestart,
  cut: handleCut,
  isolate: handleIsolate,
  heal: handleHeal,
};

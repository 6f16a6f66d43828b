// Interaction-env commands that move messages: deliver-msgs (to chosen recipients, or dropping
// them), stabilize (Ready handling and delivery until nothing changes), and network partitions
// (cut, isolate, heal). A message crossing a cut link is dropped when it would be delivered, and the
// output says so, so a script shows exactly which messages a partition swallowed.
import { None, type Message } from '../types.js';
import { describeMessage, quoteBytes } from '../util.js';
import type { TestCase } from './datadriven.js';
import type { InteractionEnv } from './interaction-env.js';
import { firstId, positionalIds, processReady } from './interaction-env-nodes.js';

interface Recipient {
  id: bigint;
  drop: boolean;
}

/** deliver-msgs ID... [drop=(ID,...)]: delivers (or drops) the queued messages to those nodes. */
export function handleDeliverMsgs(env: InteractionEnv, c: TestCase): void {
  const rs: Recipient[] = positionalIds(c).map((id) => ({ id, drop: false }));
  for (const v of c.args.find((a) => a.key === 'drop')?.values ?? []) {
    const id = BigInt(v);
    if (rs.some((r) => r.id === id)) throw new Error(`can't both deliver and drop msgs to ${id}`);
    rs.push({ id, drop: true });
  }
  if (deliverMsgs(env, rs) === 0) env.output.write('no messages');
}

function takeMsgsTo(env: InteractionEnv, to: bigint): Message[] {
  const mine = env.messages.filter((m) => m.to === to);
  env.messages = env.messages.filter((m) => m.to !== to);
  return mine;
}

/** Delivers or drops every queued message to each recipient, in send order; returns how many. */
export function deliverMsgs(env: InteractionEnv, rs: Recipient[]): number {
  let n = 0;
  for (const r of rs) {
    const msgs = takeMsgsTo(env, r.id);
    n += msgs.length;
    for (const m of msgs) {
      const desc = describeMessage(m, quoteBytes);
      if (r.drop) {
        env.output.write(`dropped: ${desc}`);
        continue;
      }
      if (env.isCut(m.from, m.to)) {
        env.output.write(`dropped (cut): ${desc}`);
        continue;
      }
      env.output.write(desc);
      try {
        env.node(m.to).rawNode.step(m);
      } catch (e) {
        env.output.write(e instanceof Error ? e.message : String(e));
      }
    }
  }
  return n;
}

/**
 * stabilize [ID...]: repeatedly handles the Readys of, and delivers the messages to, those nodes
 * (all nodes by default) until none has a Ready or a message waiting. Messages to other nodes stay
 * queued.
 */
export function handleStabilize(env: InteractionEnv, c: TestCase): void {
  const ids = positionalIds(c);
  const nodes = ids.length === 0 ? env.nodes : ids.map((id) => env.node(id));
  for (;;) {
    let done = true;
    for (const n of nodes) {
      if (!n.rawNode.hasReady()) continue;
      done = false;
      env.output.write(`> ${n.id} handling Ready`);
      env.withIndent(() => processReady(env, n));
    }
    for (const n of nodes) {
      if (!env.messages.some((m) => m.to === n.id)) continue;
      done = false;
      env.output.write(`> ${n.id} receiving messages`);
      env.withIndent(() => deliverMsgs(env, [{ id: n.id, drop: false }]));
    }
    if (done) return;
  }
}

/** cut A B: drop every message between A and B, both ways, until healed. */
export function handleCut(env: InteractionEnv, c: TestCase): void {
  const ids = positionalIds(c);
  const [a, b] = ids;
  if (ids.length !== 2 || a === undefined || b === undefined || a === b)
    throw new Error('cut: expected two node ids');
  env.cuts.push({ a, b });
}

/** isolate ID: cut ID from every other node, present or added later. */
export function handleIsolate(env: InteractionEnv, c: TestCase): void {
  env.cuts.push({ a: firstId(c), b: None });
}

/** heal [ID]: remove every cut (or only those touching ID). */
export function handleHeal(env: InteractionEnv, c: TestCase): void {
  const ids = positionalIds(c);
  if (ids.length === 0) {
    env.cuts = [];
    return;
  }
  env.cuts = env.cuts.filter((l) => !ids.includes(l.a) && !ids.includes(l.b));
}

// Helpers over the two ConfChange forms (raftpb/confchange.go): treating a V1 change as a V2,
// deciding whether a V2 enters or leaves a joint config, the compact `v1 l2 r3 u4` notation used
// by test scripts and log descriptions, and choosing the entry type and bytes for a proposal.

import {
  ConfChangeTransition,
  ConfChangeType,
  EntryType,
  type ConfChange,
  type ConfChangeSingle,
  type ConfChangeV2,
} from '../types.js';
import { encodeConfChange, encodeConfChangeV2 } from './codec.js';

export { encodeConfChange, decodeConfChange, encodeConfChangeV2, decodeConfChangeV2 } from './codec.js';

export function isConfChangeV2(cc: ConfChange | ConfChangeV2): cc is ConfChangeV2 {
  return 'changes' in cc;
}

/** A V1 change as the equivalent single-change V2 (transition Auto); a V2 unchanged. */
export function asV2(cc: ConfChange | ConfChangeV2): ConfChangeV2 {
  if (isConfChangeV2(cc)) return cc;
  return {
    transition: ConfChangeTransition.Auto,
    changes: [{ type: cc.type, nodeId: cc.nodeId }],
    context: cc.context,
  };
}

/** The V1 form of a change, or undefined for a V2 (which has no V1 form, as in etcd). */
export function asV1(cc: ConfChange | ConfChangeV2): ConfChange | undefined {
  return isConfChangeV2(cc) ? undefined : cc;
}

/**
 * Whether the change must go through a joint configuration — any explicit joint transition, or
 * more than one change — and whether that joint config is left automatically. A single change
 * with transition Auto is applied directly (ok = false).
 */
export function enterJoint(cc: ConfChangeV2): { autoLeave: boolean; ok: boolean } {
  if (cc.transition === ConfChangeTransition.Auto && cc.changes.length <= 1)
    return { autoLeave: false, ok: false };
  switch (cc.transition) {
    case ConfChangeTransition.Auto:
    case ConfChangeTransition.JointImplicit:
      return { autoLeave: true, ok: true };
    case ConfChangeTransition.JointExplicit:
      return { autoLeave: false, ok: true };
    default:
      throw new Error(`unknown transition: ${String(cc.transition)}`);
  }
}

/** An empty V2 (transition Auto, no changes; context ignored) is the request to leave a joint config. */
export function leaveJoint(cc: ConfChangeV2): boolean {
  return cc.transition === ConfChangeTransition.Auto && cc.changes.length === 0;
}

/** The entry type and data for proposing `cc`: V1 changes keep the V1 encoding, as etcd does. */
export function marshalConfChange(cc: ConfChange | ConfChangeV2): { type: EntryType; data: Uint8Array } {
  if (isConfChangeV2(cc)) return { type: EntryType.ConfChangeV2, data: encodeConfChangeV2(cc) };
  return { type: EntryType.ConfChange, data: encodeConfChange(cc) };
}

const letterToType: Record<string, ConfChangeType> = {
  v: ConfChangeType.AddNode,
  l: ConfChangeType.AddLearnerNode,
  r: ConfChangeType.RemoveNode,
  u: ConfChangeType.UpdateNode,
};

/** Parses `v1 l2 r3 u4` (voter, learner, remove, update) into changes; throws on a bad token. */
export function confChangesFromString(s: string): ConfChangeSingle[] {
  const toks = s.trim() === '' ? [] : s.trim().split(/\s+/);
  return toks.map((tok) => {
    if (tok.length < 2) throw new Error(`unknown token ${tok}`);
    const type = letterToType[tok[0]!];
    if (type === undefined) throw new Error(`unknown input: ${tok}`);
    const digits = tok.slice(1);
    if (!/^[0-9]+$/.test(digits) || BigInt(digits) > 0xffffffffffffffffn) {
      throw new Error(`invalid node id in ${tok}`);
    }
    return { type, nodeId: BigInt(digits) };
  });
}

const typeToLetter: Record<number, string> = { 0: 'v', 1: 'r', 2: 'u', 3: 'l' };

/** The inverse of confChangesFromString. */
export function confChangesToString(ccs: readonly ConfChangeSingle[]): string {
  return ccs.map((cc) => `${typeToLetter[cc.type] ?? 'unknown'}${cc.nodeId}`).join(' ');
}

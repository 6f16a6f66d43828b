// The raft configuration (ConfState) as the backend's meta bucket keeps it beside the consistent
// index, so that a restart or a snapshot's backend says which configuration its applied index has.
import { assert } from '../base/index.js';
import type { ConfState } from '../raft/types.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

const ids = (a: readonly bigint[]): string[] => a.map((id) => id.toString(16));

export function encodeConfState(cs: ConfState): Uint8Array {
  return enc.encode(
    JSON.stringify({
      voters: ids(cs.voters),
      learners: ids(cs.learners),
      votersOutgoing: ids(cs.votersOutgoing),
      learnersNext: ids(cs.learnersNext),
      autoLeave: cs.autoLeave,
    }),
  );
}

export function decodeConfState(b: Uint8Array): ConfState {
  const o = JSON.parse(dec.decode(b)) as Record<string, unknown>;
  const list = (k: string): bigint[] => {
    const v = o[k];
    assert(Array.isArray(v), `meta: confState.${k} is not a list`);
    return (v as unknown[]).map((x) => BigInt(`0x${String(x)}`));
  };
  return {
    voters: list('voters'),
    learners: list('learners'),
    votersOutgoing: list('votersOutgoing'),
    learnersNext: list('learnersNext'),
    autoLeave: o['autoLeave'] === true,
  };
}

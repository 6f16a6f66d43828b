// How a leader is currently talking to one follower (etcd's tracker.StateType). Separate from
// Progress so that status reporting can name states without the whole progress machinery.

export const StateType = {
  /** Last index unknown: send one append per heartbeat interval and learn from the reply. */
  StateProbe: 0,
  /** Steady state: stream appends optimistically, bounded by Inflights. */
  StateReplicate: 1,
  /** The follower needs entries the leader compacted away: a snapshot is on its way. */
  StateSnapshot: 2,
} as const;
export type StateType = (typeof StateType)[keyof typeof StateType];

const names = ['StateProbe', 'StateReplicate', 'StateSnapshot'];

export function stateTypeName(s: StateType): string {
  return names[s] ?? `StateType(${s})`;
}

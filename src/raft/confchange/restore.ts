// Rebuilding a tracker configuration from a ConfState (a snapshot's membership), by replaying
// changes through the Changer so that the result passes the same checks as a live change would.

import type { TrackerConfig } from '../tracker/tracker.js';
import type { ProgressMap } from '../tracker/progress.js';
import { ConfChangeType, type ConfChangeSingle, type ConfState } from '../types.js';
import { Changer, type ChangeResult } from './confchange.js';

/**
 * Splits a ConfState into the changes that build the outgoing config (one voter at a time) and
 * the changes that, applied on entering the joint state, produce the incoming one. Example:
 * voters=(1 2 3) learners=(5) outgoing=(1 2 4 6) learnersNext=(4) becomes
 *   outgoing: add 1, 2, 4, 6
 *   incoming: remove 1, 2, 4, 6; add 1, 2, 3; add-learner 5; add-learner 4
 * where add-learner 4 lands in learnersNext because 4 is still an outgoing voter.
 */
export function toConfChangeSingle(cs: ConfState): {
  outgoing: ConfChangeSingle[];
  incoming: ConfChangeSingle[];
} {
  const outgoing = cs.votersOutgoing.map((nodeId) => ({ type: ConfChangeType.AddNode, nodeId }));
  const incoming: ConfChangeSingle[] = [
    ...cs.votersOutgoing.map((nodeId) => ({ type: ConfChangeType.RemoveNode, nodeId })),
    ...cs.voters.map((nodeId) => ({ type: ConfChangeType.AddNode, nodeId })),
    ...cs.learners.map((nodeId) => ({ type: ConfChangeType.AddLearnerNode, nodeId })),
    ...cs.learnersNext.map((nodeId) => ({ type: ConfChangeType.AddLearnerNode, nodeId })),
  ];
  return { outgoing, incoming };
}

/**
 * Builds the configuration described by `cs` on top of the changer's (normally empty) config.
 * The changer's tracker is not modified; install the returned config and progress yourself.
 * Throws ConfChangeError when the ConfState is not a valid configuration.
 */
export function restore(changer: Changer, cs: ConfState): ChangeResult {
  const { outgoing, incoming } = toConfChangeSingle(cs);
  // A private tracker view, so that intermediate steps never touch the caller's tracker.
  const view = {
    config: changer.tracker.config,
    progress: changer.tracker.progress,
    maxInflight: changer.tracker.maxInflight,
    maxInflightBytes: changer.tracker.maxInflightBytes,
  };
  const step = (op: (c: Changer) => ChangeResult): void => {
    const [config, progress]: [TrackerConfig, ProgressMap] = op(
      new Changer({ tracker: view, lastIndex: changer.lastIndex }),
    );
    view.config = config;
    view.progress = progress;
  };
  if (outgoing.length === 0) {
    for (const cc of incoming) step((c) => c.simple(cc));
  } else {
    // Build the outgoing config as if it were the only one, then enter the joint state from it.
    for (const cc of outgoing) step((c) => c.simple(cc));
    step((c) => c.enterJoint(cs.autoLeave, ...incoming));
  }
  return [view.config, view.progress];
}

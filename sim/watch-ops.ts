// What the workload's operations mean to the MVCC store in watch mode (`--watch`), and the watches
// clients open. An operation (client, seq, value) stays the toy state machine's unit; its 32-bit
// value also names one MVCC command, so every node derives the same command from the same entry:
// - bit 31 set: compact to (current revision - d), d = bits 4-9; a target at or below the last
//   compaction fails with etcd's "compacted" error and changes nothing, as it would in etcd;
// - else bits 0-3 choose: a put of one key (0-8), a txn putting two or three keys (9-10, 15),
//   a delete of one key (11-13), a delete of every `k/` key (14); bits 4-12 name the keys.
// Keys are a handful, so events pile up on the same keys, and `k/` is a prefix of several.
import type { Prng } from '../src/base/prng.js';
import { prefixEnd, utf8 } from '../src/base/bytes.js';
import type { TxnWrite } from '../src/mvcc/kv-txn.js';
import type { WatchSpec } from '../src/mvcc/watch-types.js';
import type { Op } from './state-machine.js';

export const WATCH_KEYS = ['a', 'b', 'k/0', 'k/1', 'k/2', 'k/3', 'k', 'z'].map(utf8);
const PREFIX = utf8('k/');

export type MvccCommand =
  | { kind: 'put'; keys: Uint8Array[] }
  | { kind: 'delete'; key: Uint8Array }
  | { kind: 'deletePrefix' }
  | { kind: 'compact'; behind: bigint };

const COMPACT_BIT = 0x80000000;

/** A command value: puts most of the time, deletes, and compactions at `compactShare`. */
export function drawCommandValue(prng: Prng, compactShare: number): number {
  const keys = prng.intBelow(1 << 9) << 4;
  if (prng.chance(compactShare)) return (COMPACT_BIT | (prng.intBelow(64) << 4)) >>> 0;
  return (keys | prng.intBelow(16)) >>> 0;
}

function keyAt(value: number, slot: number): Uint8Array {
  return WATCH_KEYS[(value >>> (4 + 3 * slot)) & 7]!;
}

export function decodeCommand(value: number): MvccCommand {
  if ((value & COMPACT_BIT) !== 0) return { kind: 'compact', behind: BigInt((value >>> 4) & 63) };
  const sel = value & 15;
  if (sel <= 8) return { kind: 'put', keys: [keyAt(value, 0)] };
  if (sel === 14) return { kind: 'deletePrefix' };
  if (sel >= 11) return { kind: 'delete', key: keyAt(value, 0) };
  // A txn may not put one key twice (etcd refuses it): duplicates are dropped.
  const keys = [0, 1, 2].slice(0, sel === 15 ? 3 : 2).map((s) => keyAt(value, s));
  return { kind: 'put', keys: keys.filter((k, i) => keys.indexOf(k) === i) };
}

/** Applies a non-compaction command in the open TxnWrite; the value names the operation. */
export function applyCommand(txn: TxnWrite, cmd: MvccCommand, op: Op): void {
  const value = utf8(`${op.client}.${op.seq}`);
  if (cmd.kind === 'put') for (const k of cmd.keys) txn.put(k, value);
  else if (cmd.kind === 'delete') txn.deleteRange(cmd.key);
  else if (cmd.kind === 'deletePrefix') txn.deleteRange(PREFIX, prefixEnd(PREFIX));
  else throw new Error('a compaction is not a TxnWrite');
}

/**
 * A random watch against a store at `currentRev`: one key, the `k/` prefix, a range, or every
 * key; from now, from history (at times below a compaction), or from a future revision; with
 * prev_kv and filters now and then.
 */
export function drawWatchSpec(prng: Prng, currentRev: bigint): WatchSpec {
  let key: Uint8Array;
  let end: Uint8Array = new Uint8Array(0);
  const shape = prng.intBelow(8);
  if (shape <= 3) key = prng.pick(WATCH_KEYS);
  else if (shape <= 5) {
    key = PREFIX;
    end = prefixEnd(PREFIX);
  } else if (shape === 6) {
    key = utf8('b');
    end = utf8('k/2');
  } else {
    key = new Uint8Array([0]);
    end = new Uint8Array([0]);
  }
  const when = prng.intBelow(10);
  let startRev = 0n;
  if (when >= 4 && when <= 8) startRev = BigInt(prng.intBetween(1, Number(currentRev)));
  else if (when === 9) startRev = currentRev + BigInt(prng.intBetween(1, 5));
  return {
    key,
    end,
    startRev,
    prevKv: prng.chance(0.5),
    noPut: prng.chance(0.1),
    noDelete: prng.chance(0.1),
  };
}

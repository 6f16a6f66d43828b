// Election/Observe as etcd's Election.observe loop runs it (clientv3/concurrency/election.go):
// read the leader (the oldest key under the prefix); with none, wait for the first put under the
// prefix and take that key; report it, then report every put to that key until it is deleted, and
// start over. Each report carries the header of the read or watch response it came from (a key
// found by waiting reports its own mod revision). Like etcd, the loop ends quietly when a read fails
// or the watched revisions are compacted; only the caller giving up ends it with an error.
import type { ResponseHeader } from '../../generated/etcdserverpb.js';
import { Event_EventType, type KeyValue } from '../../generated/mvccpb.js';
import { prefixEnd } from '../../base/bytes.js';
import { abortError, type KvClient } from './kv-client.js';
import { byCreateRequest, KeyWatch } from './key-watch.js';
import { prefixOf } from './session.js';

export interface LeaderReport {
  header: ResponseHeader;
  kv: KeyValue;
}

/** Sends one report; resolves when the caller may send the next (its buffer has room). */
export type ReportSink = (r: LeaderReport) => Promise<void>;

/**
 * Reports election `name`'s leader until the signal fires (rejects with its error) or the loop
 * ends as etcd's does (resolves).
 */
export async function observe(
  client: KvClient,
  name: Uint8Array,
  signal: AbortSignal,
  send: ReportSink,
): Promise<void> {
  const pfx = prefixOf(name);
  for (;;) {
    let found: LeaderReport | undefined;
    try {
      const resp = await client.range(byCreateRequest(pfx, 'first'), signal);
      const kv = resp.kvs[0];
      found =
        kv !== undefined
          ? { header: resp.header!, kv }
          : await firstPut(client, pfx, resp.header!.revision, signal);
    } catch {
      if (signal.aborted) throw abortError(signal);
      // clientv3 closes the observe channel on a failed read; etcd's handler then ends the stream.
      return;
    }
    if (found === undefined) return;
    if (signal.aborted) throw abortError(signal);
    await send(found);
    if (!(await followKey(client, found, signal, send))) return;
  }
}

/** The first key put under `pfx` from `rev` on; undefined if the watch was compacted away. */
async function firstPut(
  client: KvClient,
  pfx: Uint8Array,
  rev: bigint,
  signal: AbortSignal,
): Promise<LeaderReport | undefined> {
  const w = new KeyWatch(client.watchable, pfx, prefixEnd(pfx), rev);
  try {
    for (;;) {
      const got = await w.next(signal);
      if (!('events' in got)) return undefined;
      // Deletes are skipped: only a put names a leader.
      const put = got.events.find((e) => e.type === Event_EventType.PUT);
      if (put !== undefined) return { header: client.header(put.kv!.modRevision), kv: put.kv! };
    }
  } finally {
    w.cancel();
  }
}

/**
 * Reports every put to the leader's key after the one reported; true once the key is deleted,
 * false if the watch was compacted away.
 */
async function followKey(
  client: KvClient,
  from: LeaderReport,
  signal: AbortSignal,
  send: ReportSink,
): Promise<boolean> {
  const w = new KeyWatch(client.watchable, from.kv.key, new Uint8Array(0), from.header.revision + 1n);
  try {
    for (;;) {
      const got = await w.next(signal);
      if (!('events' in got)) return false;
      for (const ev of got.events) {
        if (ev.type === Event_EventType.DELETE) return true;
        await send({ header: client.header(got.rev), kv: ev.kv! });
      }
    }
  } finally {
    w.cancel();
  }
}

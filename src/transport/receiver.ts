// The receiving side of peer streams (HTTP/2 only): POST /raft/stream, a long-lived request whose
// body is a sequence of message frames, and POST /raft/snapshot, one MsgSnap followed by the
// snapshot's body. Requests are checked first, as etcd's rafthttp does: the cluster ID must be ours
// (else 412 and "request cluster ID mismatch" is logged), the To header must be us (412), the sender
// must be a member we know (404) and not one we removed (410).
//
// A malformed frame drops the whole connection (logged): there is no way to find the next frame
// boundary, and the sender reconnects with a fresh stream. Messages whose `to` is not this member,
// and MsgSnap on the message stream, are dropped and logged.

import http2 from 'node:http2';
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { Logger } from '../base/log.js';
import { decodeMessage } from '../raft/raft-codec.js';
import { MessageType, messageTypeName, type Message } from '../raft/types.js';
import type { PeerHandler } from '../server/peer-transport.js';
import { FrameReader, MessageFrameDecoder } from './frame.js';
import {
  ERR_CLUSTER_ID_MISMATCH,
  ERR_MEMBER_REMOVED,
  ERR_TO_MISMATCH,
  ERR_UNKNOWN_PEER,
  HEADER_CLUSTER_ID,
  HEADER_FROM,
  HEADER_TO,
  idHex,
  parseIdHex,
} from './headers.js';
import type { TransportLimits } from './limits.js';

export type PeerState = 'known' | 'removed' | 'unknown';

export interface ReceiverContext {
  localId: bigint;
  clusterId: bigint;
  logger: Logger;
  limits: TransportLimits;
  handler(): PeerHandler | undefined;
  peerState(id: bigint): PeerState;
  /** The message stream currently open from each peer: a newer one replaces it, removal closes it. */
  incoming: Map<bigint, ServerHttp2Stream>;
}

function refuse(stream: ServerHttp2Stream, ctx: ReceiverContext, status: number, body: string): void {
  if (stream.destroyed || stream.closed || stream.headersSent) return;
  try {
    stream.respond({
      ':status': status,
      'content-type': 'text/plain; charset=utf-8',
      [HEADER_CLUSTER_ID]: idHex(ctx.clusterId),
    });
    stream.end(body + '\n');
  } catch {
    // The connection went away meanwhile: nobody is left to answer.
  }
}

/** Checks a peer request's headers; answers and returns undefined if it is refused, else the sender's ID. */
export function checkPeerRequest(
  ctx: ReceiverContext,
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
): bigint | undefined {
  const lg = ctx.logger;
  const local = idHex(ctx.localId);
  const rawFrom = headers[HEADER_FROM];
  const from = parseIdHex(rawFrom);
  const cid = headers[HEADER_CLUSTER_ID];
  if (parseIdHex(cid) !== ctx.clusterId) {
    lg.warn('request cluster ID mismatch', {
      'local-member-id': local,
      'local-member-cluster-id': idHex(ctx.clusterId),
      'remote-peer-id': String(rawFrom ?? ''),
      'remote-peer-cluster-id': String(cid ?? ''),
    });
    refuse(stream, ctx, 412, ERR_CLUSTER_ID_MISMATCH);
    return undefined;
  }
  const to = parseIdHex(headers[HEADER_TO]);
  if (to !== ctx.localId) {
    lg.warn('ignored streaming request; ID mismatch', {
      'local-member-id': local,
      'remote-peer-id-stream-handler': String(headers[HEADER_TO] ?? ''),
      'remote-peer-id-from': String(rawFrom ?? ''),
    });
    refuse(stream, ctx, 412, ERR_TO_MISMATCH);
    return undefined;
  }
  const state = from === undefined ? 'unknown' : ctx.peerState(from);
  if (state === 'removed') {
    lg.warn('rejected stream from remote peer because it was removed', {
      'local-member-id': local,
      'remote-peer-id-from': String(rawFrom),
    });
    refuse(stream, ctx, 410, ERR_MEMBER_REMOVED);
    return undefined;
  }
  if (state === 'unknown' || from === undefined) {
    lg.warn('failed to find remote peer in cluster', {
      'local-member-id': local,
      'remote-peer-id-from': String(rawFrom ?? ''),
      'cluster-id': idHex(ctx.clusterId),
    });
    refuse(stream, ctx, 404, ERR_UNKNOWN_PEER);
    return undefined;
  }
  return from;
}

/** Serves one incoming message stream until it ends or turns out malformed. */
export function serveMessageStream(ctx: ReceiverContext, stream: ServerHttp2Stream, from: bigint): void {
  const lg = ctx.logger;
  const fields = {
    'stream-reader-type': 'stream Message',
    'local-member-id': idHex(ctx.localId),
    'remote-peer-id': idHex(from),
  };
  const old = ctx.incoming.get(from);
  if (old !== undefined) {
    // The sender gave up on the old connection (it only ever keeps one): stop reading it.
    lg.info('closed TCP streaming connection with remote peer', {
      ...fields,
      reason: 'replaced by a new stream',
    });
    old.close(http2.constants.NGHTTP2_CANCEL);
  }
  ctx.incoming.set(from, stream);
  stream.once('close', () => {
    if (ctx.incoming.get(from) === stream) ctx.incoming.delete(from);
  });
  stream.respond({ ':status': 200, [HEADER_CLUSTER_ID]: idHex(ctx.clusterId) });
  lg.info('established TCP streaming connection with remote peer', fields);
  const decoder = new MessageFrameDecoder(ctx.limits.maxFrameBytes);
  let broken = false;
  stream.on('data', (chunk: Buffer) => {
    if (broken || ctx.incoming.get(from) !== stream) return;
    try {
      decoder.push(chunk, (m) => deliver(ctx, m, fields));
    } catch (err) {
      broken = true;
      lg.warn('failed to decode Raft message', { ...fields, error: String(err) });
      // No way to resynchronise on a byte stream: drop the connection, the sender reconnects.
      stream.session?.destroy();
    }
  });
  stream.on('error', (err) => {
    if (!broken) lg.warn('lost TCP streaming connection with remote peer', { ...fields, error: String(err) });
  });
  stream.on('end', () => {
    lg.info('closed TCP streaming connection with remote peer', fields);
    if (!stream.destroyed) stream.end();
  });
}

function deliver(ctx: ReceiverContext, m: Message, fields: Record<string, string>): void {
  const lg = ctx.logger;
  if (m.to !== ctx.localId) {
    lg.warn('ignored Raft message; to field mismatch', {
      ...fields,
      to: idHex(m.to),
      'message-type': messageTypeName(m.type),
    });
    return;
  }
  if (m.type === MessageType.MsgSnap) {
    lg.warn('unexpected Raft message type', { ...fields, 'message-type': messageTypeName(m.type) });
    return;
  }
  const h = ctx.handler();
  if (h === undefined) return;
  try {
    h.process(m);
  } catch (err) {
    lg.warn('failed to process Raft message', {
      ...fields,
      'message-type': messageTypeName(m.type),
      error: String(err),
    });
  }
}

/** The snapshot's body after its MsgSnap: data frames up to the empty frame that ends it. */
async function* snapshotBody(reader: FrameReader, counter: { bytes: number }): AsyncGenerator<Uint8Array> {
  for (;;) {
    const chunk = await reader.next();
    if (chunk === undefined)
      throw new Error('snapshot body ended before its last frame (truncated transfer)');
    if (chunk.length === 0) return;
    counter.bytes += chunk.length;
    yield chunk;
  }
}

/** Receives one snapshot; answers 204 once the handler has persisted and stepped it. */
export async function serveSnapshot(
  ctx: ReceiverContext,
  stream: ServerHttp2Stream,
  from: bigint,
): Promise<void> {
  const lg = ctx.logger;
  const fields: Record<string, unknown> = {
    'local-member-id': idHex(ctx.localId),
    'remote-snapshot-sender-id': idHex(from),
  };
  const reader = new FrameReader(stream, ctx.limits.maxFrameBytes);
  let m: Message;
  try {
    const first = await reader.next();
    if (first === undefined || first.length === 0) throw new Error('no MsgSnap before the snapshot body');
    m = decodeMessage(first);
  } catch (err) {
    lg.warn('failed to decode Raft message', { ...fields, error: String(err) });
    refuse(stream, ctx, 400, 'error decoding raft message');
    return;
  }
  if (m.type !== MessageType.MsgSnap || m.to !== ctx.localId) {
    lg.warn('unexpected Raft message type', {
      ...fields,
      'message-type': messageTypeName(m.type),
      to: idHex(m.to),
    });
    refuse(stream, ctx, 400, 'unexpected message type');
    return;
  }
  const index = m.snapshot?.metadata.index ?? 0n;
  Object.assign(fields, { 'snapshot-index': String(index) });
  lg.info('receiving database snapshot', fields);
  const h = ctx.handler();
  const counter = { bytes: 0 };
  try {
    if (h === undefined) throw new Error('transport not started');
    await h.receiveSnapshot(m, snapshotBody(reader, counter));
  } catch (err) {
    lg.warn('failed to save incoming database snapshot', {
      ...fields,
      'incoming-snapshot-size': counter.bytes,
      error: String(err),
    });
    refuse(stream, ctx, 500, `error saving snapshot: ${String(err)}`);
    return;
  }
  lg.info('received and saved database snapshot', { ...fields, 'incoming-snapshot-size': counter.bytes });
  if (stream.destroyed || stream.closed) return;
  try {
    stream.respond({ ':status': 204, [HEADER_CLUSTER_ID]: idHex(ctx.clusterId) }, { endStream: true });
  } catch {
    return; // the sender is gone; it reports the snapshot failed on its side
  }
  // Whatever the handler left unread is read and discarded, so that the sender's writes finish.
  try {
    while ((await reader.next())?.length) {
      /* discard */
    }
  } catch {
    // The sender gave up after our answer: nothing left to do.
  }
}

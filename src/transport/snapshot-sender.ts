// Sending one snapshot: its own HTTP/2 connection (so heartbeats and appends on the message stream
// never wait behind megabytes of snapshot, not even at the TCP level), one POST /raft/snapshot with
// the MsgSnap as the first frame, then the body pulled from the caller's AsyncIterable, cut into
// chunks and written with backpressure (the next chunk is pulled only when HTTP/2 flow control has
// room), then the empty frame that ends it. The receiver answers 204 once the snapshot is durable
// and stepped; anything else (a refusal, a dropped connection, an unanswered ping, a failing body)
// is a failure. Like etcd's snapshotSender, the outcome is reported by the caller.

import http2 from 'node:http2';
import type { ClientHttp2Session, ClientHttp2Stream } from 'node:http2';
import { encodeMessage } from '../raft/raft-codec.js';
import type { Message } from '../raft/types.js';
import { frame, frameHeader } from './frame.js';
import { PATH_SNAPSHOT } from './headers.js';
import { keepAlive } from './keepalive.js';
import { SESSION_MEMORY_MB } from './limits.js';
import { peerHeaders, type SenderContext } from './peer-sender.js';

/** Writes `buf`, waiting for 'drain' when the stream's buffer is full. */
function write(req: ClientHttp2Stream, buf: Uint8Array): Promise<void> {
  if (req.destroyed || req.closed) return Promise.reject(new Error('stream closed while sending'));
  if (req.write(buf)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      cleanup();
      resolve();
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('stream closed while sending'));
    };
    const cleanup = (): void => {
      req.off('drain', onDrain);
      req.off('close', onClose);
    };
    req.on('drain', onDrain);
    req.on('close', onClose);
  });
}

interface Answer {
  status: number;
  body: string;
}

function awaitAnswer(req: ClientHttp2Stream): Promise<Answer> {
  return new Promise((resolve, reject) => {
    req.on('response', (headers) => {
      const status = Number(headers[':status']);
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => {
        if (body.length < 1024) body += d;
      });
      req.on('end', () => resolve({ status, body: body.trim() }));
    });
    req.on('close', () => reject(new Error('connection closed before the receiver answered')));
    req.on('error', (err: Error) => reject(err));
  });
}

export interface SnapshotSendResult {
  bytes: number;
}

/**
 * Streams `msg` and `body` to `url`; resolves once the receiver answered 204, rejects otherwise.
 * `track` is given the connection so that the transport can cut it when it stops.
 */
export async function postSnapshot(
  ctx: SenderContext,
  url: string,
  msg: Message,
  body: AsyncIterable<Uint8Array>,
  track: (s: ClientHttp2Session) => () => void,
): Promise<SnapshotSendResult> {
  const l = ctx.limits;
  const session = http2.connect(url, {
    settings: { initialWindowSize: l.streamWindowBytes },
    maxSessionMemory: SESSION_MEMORY_MB,
  });
  const untrack = track(session);
  let sessionError: Error | undefined;
  session.on('error', (err: Error) => {
    sessionError = err;
  });
  const dialTimer = setTimeout(
    () => session.destroy(new Error(`no connection within ${l.dialTimeoutMs} ms`)),
    l.dialTimeoutMs,
  );
  session.once('connect', () => clearTimeout(dialTimer));
  const stopKeepAlive = keepAlive(session, l.pingIntervalMs, l.pingTimeoutMs, () =>
    session.destroy(new Error(`ping unanswered for ${l.pingTimeoutMs} ms`)),
  );
  const req = session.request(peerHeaders(ctx, msg.to, PATH_SNAPSHOT), { endStream: false });
  const answer = awaitAnswer(req);
  let answered = false;
  answer.then(
    () => (answered = true),
    () => (answered = true),
  );
  let bytes = 0;
  let bodyError: unknown;
  const writing = (async (): Promise<void> => {
    await write(req, frame(encodeMessage(msg)));
    try {
      for await (const chunk of body) {
        if (answered) return; // refused early: stop pulling the body
        for (let off = 0; off < chunk.length; off += l.snapshotChunkBytes) {
          const piece = chunk.subarray(off, Math.min(chunk.length, off + l.snapshotChunkBytes));
          await write(req, frameHeader(piece.length));
          await write(req, piece);
          bytes += piece.length;
        }
      }
    } catch (err) {
      if (!req.destroyed && !answered) {
        bodyError = err;
        // A reset, not an end: the receiver must see a failed transfer, not a short snapshot.
        req.close(http2.constants.NGHTTP2_CANCEL);
      }
      throw err;
    }
    await write(req, frameHeader(0));
    req.end();
  })();
  writing.catch(() => undefined); // the outcome is the answer; write errors show up there too
  try {
    let a: Answer;
    try {
      a = await answer;
    } catch (err) {
      const cause = bodyError ?? sessionError ?? err;
      throw new Error(`snapshot transfer failed: ${String(cause instanceof Error ? cause.message : cause)}`);
    }
    if (a.status !== 204) throw new Error(`receiver answered HTTP ${a.status}: ${a.body}`);
    return { bytes };
  } finally {
    clearTimeout(dialTimer);
    stopKeepAlive();
    untrack();
    if (!session.destroyed) session.destroy();
  }
}

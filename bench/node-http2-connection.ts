// The same gRPC unary client as h2-connection.ts, built on node:http2 instead of raw frames.
// It is slower per request (one Http2Stream object, several listeners and header objects per
// call) and kept as `--client http2`: a second, independent implementation to cross-check the
// raw client's results against, and to show how much the client costs.
import http2 from 'node:http2';
import { GrpcCall, TRANSPORT_ERROR } from './grpc-call.js';
import type { HeaderList } from '../src/platform/hpack.js';
import { writeDecimal, type PreparedRequest } from './request.js';
import type { GrpcConnection } from './h2-connection.js';

export class NodeHttp2Connection implements GrpcConnection {
  private closed: string | null = null;
  private readonly open = new Set<GrpcCall>();

  private constructor(private readonly session: http2.ClientHttp2Session) {}

  static connect(host: string, port: number): Promise<NodeHttp2Connection> {
    return new Promise((resolve, reject) => {
      const session = http2.connect(`http://${host}:${port}`, { settings: { enablePush: false } });
      const onError = (err: Error): void => reject(err);
      session.once('error', onError);
      session.once('connect', () => {
        session.off('error', onError);
        session.on('error', () => {
          // Stream-level callbacks report the failure to each call.
        });
        resolve(new NodeHttp2Connection(session));
      });
    });
  }

  request(call: GrpcCall, req: PreparedRequest, key = 0): void {
    call.begin();
    const closed = this.closed;
    if (closed !== null) {
      queueMicrotask(() => call.finish(TRANSPORT_ERROR, closed));
      return;
    }
    let body = req.body;
    if (req.keyOffsetInBody >= 0) {
      body = Buffer.from(req.body);
      writeDecimal(body, req.keyOffsetInBody, req.keyLength, key);
    }
    this.open.add(call);
    const stream = this.session.request(req.nodeHeaders);
    let trailers: HeaderList | null = null;
    stream.on('response', (h) => {
      const list = flatten(h);
      call.onHeaders(list);
      if (h['grpc-status'] !== undefined) trailers = list;
    });
    stream.on('data', (chunk: Buffer) => call.onBody(chunk, 0, chunk.length));
    stream.on('trailers', (h: http2.IncomingHttpHeaders) => {
      trailers = flatten(h);
    });
    stream.on('error', () => {
      // Reported by 'close' below with the stream's reset code.
    });
    stream.on('close', () => {
      this.open.delete(call);
      if (trailers !== null) call.onTrailers(trailers);
      else call.finish(TRANSPORT_ERROR, `stream closed without trailers (RST code ${stream.rstCode})`);
    });
    stream.end(body);
  }

  close(reason = 'connection closed by the client'): void {
    this.closed = reason;
    for (const c of [...this.open]) c.finish(TRANSPORT_ERROR, reason);
    this.open.clear();
    this.session.destroy();
  }
}

function flatten(h: http2.IncomingHttpHeaders): HeaderList {
  const out: HeaderList = [];
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    out.push(k, Array.isArray(v) ? v.join(', ') : String(v));
  }
  return out;
}

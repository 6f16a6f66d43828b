// A small gRPC-over-HTTP/2 server on node:http2 (nghttp2) for the benchmark's own tests: it
// answers every unary call through a handler the test supplies, so the raw client can be checked
// against an independent HTTP/2 implementation (HPACK with Huffman and a dynamic table, flow
// control, SETTINGS, RST_STREAM, GOAWAY) without a real etcd.
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { grpcFrame } from './grpc-codec.js';

export interface ReceivedCall {
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
  /** The connection the call came on. */
  session: http2.Http2Session | undefined;
}

/** What the handler does with a call: a normal reply, a trailers-only error, or a raw action. */
export type Reply =
  | { kind: 'ok'; message: Uint8Array; extraHeaders?: Record<string, string>; badPrefix?: boolean }
  | { kind: 'error'; status: number; message: string }
  | { kind: 'no-status' }
  | { kind: 'no-trailers' }
  | { kind: 'rst' }
  | { kind: 'ignore' };

export class FakeGrpcServer {
  private constructor(
    private readonly server: http2.Http2Server,
    readonly port: number,
    readonly calls: ReceivedCall[],
    readonly sessions: Set<http2.ServerHttp2Session>,
  ) {}

  static async start(
    handler: (call: ReceivedCall) => Reply,
    settings: http2.Settings = {},
  ): Promise<FakeGrpcServer> {
    const server = http2.createServer({ settings });
    const calls: ReceivedCall[] = [];
    const sessions = new Set<http2.ServerHttp2Session>();
    server.on('session', (s) => {
      sessions.add(s);
      s.on('close', () => sessions.delete(s));
    });
    server.on('stream', (stream, headers) => {
      const parts: Buffer[] = [];
      stream.on('data', (c: Buffer) => parts.push(c));
      stream.on('end', () => {
        const call = { headers, body: Buffer.concat(parts), session: stream.session };
        calls.push(call);
        respond(stream, handler(call));
      });
      stream.on('error', () => {
        // A test closing connections under load; the client side is what is being checked.
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new FakeGrpcServer(server, (server.address() as AddressInfo).port, calls, sessions);
  }

  async close(): Promise<void> {
    for (const s of this.sessions) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function respond(stream: http2.ServerHttp2Stream, r: Reply): void {
  if (stream.destroyed) return;
  switch (r.kind) {
    case 'ok': {
      stream.respond(
        { ':status': 200, 'content-type': 'application/grpc', ...r.extraHeaders },
        { waitForTrailers: true },
      );
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': '' }));
      const framed = Buffer.from(grpcFrame(r.message));
      if (r.badPrefix === true) framed[4] = (framed[4] as number) + 1;
      stream.end(framed);
      return;
    }
    case 'error':
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': String(r.status),
          'grpc-message': encodeURIComponent(r.message),
        },
        { endStream: true },
      );
      return;
    case 'no-status':
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-message': 'no status here' }));
      stream.end(Buffer.from(grpcFrame(new Uint8Array(0))));
      return;
    case 'no-trailers':
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
      stream.end(Buffer.from(grpcFrame(new Uint8Array(0))));
      return;
    case 'rst':
      stream.close(http2.constants.NGHTTP2_CANCEL);
      return;
    case 'ignore':
      return;
  }
}

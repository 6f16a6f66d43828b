// A gRPC server on node:http2 that deals in bytes only: it frames and unframes messages, applies
// deadlines, cancellation, size limits and status trailers the way grpc-go does (etcd 3.4's server),
// and leaves protobuf to the caller (src/api/grpc/bind.ts). One TCP listener serves both HTTP/2
// (gRPC, plus other HTTP/2 requests) and HTTP/1.1, as etcd's cmux does: the first bytes of each
// connection decide (the HTTP/2 preface starts with "PRI"); with TLS, ALPN decides (h2 or
// http/1.1). Non-gRPC requests go to `httpHandler`. Every HTTP/2 connection starts behind an
// AuthorityShim (h2-authority-shim.ts), which lets through the `:authority: http://host:port` that
// Go's clientv3 sends and nghttp2 would reset; it steps aside after the first request otherwise.
//
// Hot-path choices: responses are handed in already framed (5 reserved bytes in front, filled here),
// so a unary reply is one respond + one DATA write + trailers with no copy; a request message that
// arrives inside one DATA chunk is passed on as a view of that chunk; the AbortController and the
// metadata object of a call are built only if the handler asks for them.
import http2 from 'node:http2';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../base/log.js';
import { silentLogger } from '../base/log.js';
import { GrpcCallImpl, type CallOwner } from './grpc-call.js';
import { AuthorityShim, adoptPeerAddress } from './h2-authority-shim.js';
import { Status, trailersOnly, type MethodHandler } from './grpc-protocol.js';

export {
  Status,
  GrpcError,
  isGrpcError,
  FRAME_HEADER_BYTES,
  frameMessage,
  grpcMessageEncode,
  type StatusCode,
  type GrpcCall,
  type ServerStreamingCall,
  type ClientStreamingCall,
  type BidiStreamingCall,
  type UnaryHandler,
  type ServerStreamingHandler,
  type ClientStreamingHandler,
  type BidiStreamingHandler,
  type MethodHandler,
} from './grpc-protocol.js';

export type HttpRequest = http.IncomingMessage | http2.Http2ServerRequest;
export type HttpResponse = http.ServerResponse | http2.Http2ServerResponse;
export type HttpHandler = (req: HttpRequest, res: HttpResponse) => void;

export interface GrpcServerOptions {
  /** Largest request message accepted (grpc-go's MaxRecvMsgSize); default 4 MiB, as grpc-go. */
  maxReceiveMessageBytes?: number;
  /** Serves every request that is not gRPC (HTTP/1.1, or HTTP/2 without application/grpc). */
  httpHandler?: HttpHandler;
  logger?: Logger;
  /** Per-session memory budget of node's HTTP/2 implementation, in MB; default 64. */
  maxSessionMemoryMb?: number;
  /**
   * Serve https: TLS with ALPN choosing h2 (gRPC and HTTP/2) or http/1.1, on the same port. Key,
   * certificate, CA and client-certificate options are node's tls.createServer options.
   */
  tls?: tls.TlsOptions;
}

const DEFAULT_MAX_RECV = 4 * 1024 * 1024;
const SNIFF_TIMEOUT_MS = 30_000;
const RECEIVE_WINDOW_BYTES = 8 * 1024 * 1024;

export class GrpcServer implements CallOwner {
  readonly maxReceiveMessageBytes: number;
  readonly logger: Logger;
  private readonly methods = new Map<string, MethodHandler>();
  private readonly services = new Set<string>();
  private readonly httpHandler: HttpHandler | undefined;
  private readonly h2: http2.Http2Server;
  private readonly h1: http.Server;
  private readonly tcp: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private readonly shims = new Set<AuthorityShim>();
  private readonly calls = new Set<GrpcCallImpl>();
  private closing = false;

  constructor(opts: GrpcServerOptions = {}) {
    this.maxReceiveMessageBytes = opts.maxReceiveMessageBytes ?? DEFAULT_MAX_RECV;
    this.logger = opts.logger ?? silentLogger;
    this.httpHandler = opts.httpHandler;
    this.h2 = http2.createServer({
      maxSessionMemory: opts.maxSessionMemoryMb ?? 64,
      settings: { initialWindowSize: 1024 * 1024, maxConcurrentStreams: 0xffffffff },
    });
    this.h2.on('session', (s) => this.onSession(s));
    this.h2.on(
      'stream',
      (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, _flags: number, raw: string[]) =>
        this.onStream(stream, headers, raw),
    );
    // No time limit on receiving a request: a JSON gateway watch streams its request body for as long
    // as it watches (etcd's Go server sets none either).
    this.h1 = http.createServer({ requestTimeout: 0 }, (req, res) => this.serveHttp(req, res));
    this.tcp =
      opts.tls === undefined
        ? net.createServer({ noDelay: true }, (socket) => this.onConnection(socket))
        : tls.createServer({ ...opts.tls, ALPNProtocols: ['h2', 'http/1.1'] }, (socket) =>
            this.onSecureConnection(socket),
          );
  }

  /** Registers a method under its full path, "/package.Service/Method". */
  addMethod(path: string, method: MethodHandler): void {
    const slash = path.lastIndexOf('/');
    if (path[0] !== '/' || slash <= 1 || slash === path.length - 1)
      throw new Error(`bad gRPC method path ${path}`);
    if (this.methods.has(path)) throw new Error(`gRPC method ${path} registered twice`);
    this.methods.set(path, method);
    this.services.add(path.slice(1, slash));
  }

  /** The method registered under a path, if any (the JSON gateway calls methods through it). */
  method(path: string): MethodHandler | undefined {
    return this.methods.get(path);
  }

  /** Starts listening; resolves with the bound port (useful with port 0). */
  listen(port: number, host?: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.tcp.once('error', reject);
      this.tcp.listen(port, host, () => {
        this.tcp.off('error', reject);
        resolve((this.tcp.address() as net.AddressInfo).port);
      });
    });
  }

  /** Serves connections accepted elsewhere (e.g. a listener shared with other protocols). */
  acceptConnection(socket: net.Socket): void {
    this.onConnection(socket);
  }

  /**
   * Graceful close: stop accepting connections, send GOAWAY so clients open no new streams, let
   * in-flight calls finish, then close. After `graceMs` whatever is left is closed hard.
   */
  async close(graceMs = 10_000): Promise<void> {
    this.closing = true;
    const listening = this.tcp.listening
      ? new Promise<void>((resolve) => this.tcp.close(() => resolve()))
      : Promise.resolve();
    for (const s of this.sessions) s.close();
    for (const s of this.shims) s.goAway();
    this.h1.closeIdleConnections();
    const deadline = Date.now() + graceMs;
    while (
      (this.sessions.size > 0 || this.calls.size > 0 || this.sockets.size > 0) &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 10));
      this.h1.closeIdleConnections();
    }
    this.forceClose();
    await listening;
  }

  /** Hard close: cancels every call and destroys every connection at once. */
  forceClose(): void {
    this.closing = true;
    if (this.tcp.listening) this.tcp.close();
    for (const c of [...this.calls]) c.cancel('server shutting down');
    for (const s of this.sessions) s.destroy();
    for (const s of this.sockets) s.destroy();
  }

  // ---- CallOwner ----

  callStarted(c: GrpcCallImpl): void {
    this.calls.add(c);
  }

  callEnded(c: GrpcCallImpl): void {
    this.calls.delete(c);
  }

  // ---- connections ----

  private onConnection(socket: net.Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(SNIFF_TIMEOUT_MS, () => socket.destroy());
    let head: Buffer | null = null;
    const onData = (chunk: Buffer): void => {
      head = head === null ? chunk : Buffer.concat([head, chunk]);
      // "PRI" opens the HTTP/2 connection preface; no HTTP/1 method starts that way.
      const n = Math.min(3, head.length);
      const isH2 = head.subarray(0, n).equals(PRI.subarray(0, n));
      if (isH2 && head.length < 3) return;
      socket.off('data', onData);
      socket.setTimeout(0);
      if (isH2) {
        this.startHttp2(socket, head);
      } else {
        socket.unshift(head);
        this.h1.emit('connection', socket);
      }
    };
    socket.on('data', onData);
  }

  /** TLS: ALPN has already said which protocol the client speaks. */
  private onSecureConnection(socket: tls.TLSSocket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setNoDelay(true);
    if (socket.alpnProtocol === 'h2') this.startHttp2(socket, Buffer.alloc(0));
    else this.h1.emit('connection', socket);
  }

  /** HTTP/2 goes to node's session through the shim, which hands it the socket (or a rewriter). */
  private startHttp2(socket: net.Socket, head: Buffer): void {
    const shim = new AuthorityShim(socket, (stream) => {
      this.shims.delete(shim);
      this.h2.emit('connection', stream);
    });
    this.shims.add(shim);
    socket.on('close', () => this.shims.delete(shim));
    shim.start(head);
    if (this.closing) shim.goAway();
  }

  private onSession(session: http2.ServerHttp2Session): void {
    this.sessions.add(session);
    adoptPeerAddress(session);
    session.on('close', () => this.sessions.delete(session));
    session.on('error', (err) => this.logger.debug('http2 session error', { error: String(err) }));
    session.on('connect', () => {
      try {
        session.setLocalWindowSize(RECEIVE_WINDOW_BYTES);
      } catch {
        // the session may already be gone
      }
    });
    if (this.closing) session.close();
  }

  private onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, raw: string[]): void {
    const ct = headers['content-type'];
    if (ct === undefined || !ct.startsWith('application/grpc')) {
      const req = new http2.Http2ServerRequest(stream, headers, {}, raw);
      const res = new http2.Http2ServerResponse(stream);
      this.serveHttp(req, res);
      return;
    }
    stream.on('error', () => {}); // resets by the client surface as 'close'; see GrpcCallImpl
    if (headers[':method'] !== 'POST') {
      stream.close(http2.constants.NGHTTP2_PROTOCOL_ERROR);
      return;
    }
    const path = headers[':path'] ?? '';
    const method = this.methods.get(path);
    if (method === undefined) {
      trailersOnly(stream, Status.UNIMPLEMENTED, this.unknownMethodMessage(path));
      return;
    }
    new GrpcCallImpl(this, stream, headers, path, method).start();
  }

  /** grpc-go's words for a path no service handles. */
  private unknownMethodMessage(path: string): string {
    const sm = path.startsWith('/') ? path.slice(1) : path;
    const pos = sm.lastIndexOf('/');
    if (pos === -1) return `malformed method name: ${JSON.stringify(path)}`;
    const service = sm.slice(0, pos);
    const method = sm.slice(pos + 1);
    return this.services.has(service)
      ? `unknown method ${method} for service ${service}`
      : `unknown service ${service}`;
  }

  private serveHttp(req: HttpRequest, res: HttpResponse): void {
    if (this.httpHandler === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('404 page not found\n');
      return;
    }
    try {
      this.httpHandler(req, res);
    } catch (err) {
      this.logger.error('http handler failed', { error: String(err), path: req.url });
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  }
}

const PRI = Buffer.from('PRI');

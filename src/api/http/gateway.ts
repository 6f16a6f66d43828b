// The JSON gateway under /v3/ as etcd 3.4 serves it on its client port (grpc-gateway 1.x): POST a
// JSON request to a route (gateway-routes.ts), get the JSON response, or a JSON error with the HTTP
// status the gRPC code maps to. Streaming methods (POST /v3/watch, /v3/lease/keepalive, snapshot,
// election observe) answer newline-delimited {"result": ...} objects; a bidi request body is a stream
// of request objects. The gateway calls the method the gRPC server has registered for the route, so a
// service plugged into the gRPC server (bindService) is served here too, with the same interceptors,
// errors and Unimplemented answers.
//
// One difference from etcd, on purpose: Go's HTTP/1.1 server only answers once it has read the request
// body (or 256 KiB of it), so etcd's watch over HTTP/1.1 starts sending once the client ends its body;
// ketch answers as requests arrive. What is sent is the same.
import type { Logger } from '../../base/log.js';
import { silentLogger } from '../../base/log.js';
import { GrpcError, isGrpcError, Status } from '../../base/grpc-status.js';
import { codecOf, messageToJson } from './gateway-codec.js';
import { GatewayCall, JsonBodyReader, tooLarge, type GatewayMethod } from './gateway-call.js';
import {
  OK_HEADERS,
  gatewayTimeoutMs,
  httpError,
  metadataFromHeaders,
  writeError,
  writeHead,
  type GatewayRequest,
  type GatewayResponse,
} from './gateway-http.js';
import { GoJsonError } from './gateway-json.js';
import { routeFor, type GatewayRoute } from './gateway-routes.js';

export interface JsonGatewayOptions {
  /** The method the gRPC server has registered under a gRPC path ("/etcdserverpb.KV/Range"). */
  lookup: (grpcPath: string) => GatewayMethod | undefined;
  /** The gRPC server's receive limit; a request message larger than this is refused as it refuses it. */
  maxRequestBytes: number;
  logger?: Logger;
}

const FRAME = 5;

/** What a handler's failure is to the client: a GrpcError as is, anything else Unknown (as gRPC does). */
function asGrpcError(e: unknown): GrpcError {
  if (isGrpcError(e)) return e;
  return new GrpcError(Status.UNKNOWN, e instanceof Error ? e.message : String(e));
}

export class JsonGateway {
  private readonly logger: Logger;
  /** Calls under way, ended by close(). */
  private readonly open = new Set<GatewayCall>();

  constructor(private readonly opts: JsonGatewayOptions) {
    this.logger = opts.logger ?? silentLogger;
  }

  /** Serves one request whose path (cleaned, /v3beta/ already mapped to /v3/) starts with /v3/. */
  serve(req: GatewayRequest, res: GatewayResponse, path: string): void {
    const route = routeFor(path);
    if (route === undefined) return httpError(res, 404, 'Not Found');
    if (req.method !== 'POST') return httpError(res, 405, 'Method Not Allowed');
    let call: GatewayCall;
    try {
      call = this.newCall(route, req, res);
    } catch (e) {
      return writeError(res, asGrpcError(e), false);
    }
    const m = route.method;
    const run = m.requestStream ? this.clientStreaming(route, call) : this.serverSide(route, call);
    run.catch((e: unknown) => {
      this.logger.error('gateway request failed', { path, error: String(e) });
      if (!res.headersSent) writeError(res, asGrpcError(e), false);
      else res.destroy();
    });
  }

  private newCall(route: GatewayRoute, req: GatewayRequest, res: GatewayResponse): GatewayCall {
    const timeoutMs = gatewayTimeoutMs(req);
    const metadata = metadataFromHeaders(req);
    const m = route.method;
    const body = new JsonBodyReader(req, this.opts.maxRequestBytes);
    const peer = `${req.socket?.remoteAddress ?? ''}:${req.socket?.remotePort ?? ''}`;
    return new GatewayCall(
      m.path,
      metadata,
      timeoutMs,
      peer,
      m.responseStream,
      m.response.typeName,
      res,
      body,
      codecOf(m.request.typeName),
    );
  }

  /** The method registered for a route, or the gRPC server's answer for a service it does not have. */
  private method(route: GatewayRoute): GatewayMethod {
    const found = this.opts.lookup(route.method.path);
    if (found !== undefined) return found;
    const service = route.method.path.slice(1, route.method.path.lastIndexOf('/'));
    const fail = (): never => {
      throw new GrpcError(Status.UNIMPLEMENTED, `unknown service ${service}`);
    };
    return route.method.requestStream ? { kind: 'bidi', handler: fail } : { kind: 'unary', handler: fail };
  }

  /** Unary and server-streaming methods: one request object, read like a unary one. */
  private async serverSide(route: GatewayRoute, call: GatewayCall): Promise<void> {
    const codec = codecOf(route.method.request.typeName);
    let bytes: Uint8Array;
    try {
      bytes = (await call.body.nextMessage(codec)) ?? codec.encode(codec.create());
    } catch (e) {
      if (!(e instanceof GoJsonError)) throw e;
      return writeError(call.res, new GrpcError(Status.INVALID_ARGUMENT, e.message), false);
    }
    if (bytes.length > this.opts.maxRequestBytes) {
      return writeError(call.res, tooLarge(bytes.length, this.opts.maxRequestBytes), true);
    }
    const m = this.method(route);
    if (m.kind === 'unary') return this.run(route, call, () => m.handler(bytes, call));
    if (m.kind === 'serverStream') return this.run(route, call, () => m.handler(bytes, call));
    throw new GrpcError(Status.INTERNAL, `gateway: ${route.method.path} is registered as ${m.kind}`);
  }

  /** Client- and bidi-streaming methods: the body is a stream of request objects. */
  private async clientStreaming(route: GatewayRoute, call: GatewayCall): Promise<void> {
    const codec = codecOf(route.method.request.typeName);
    try {
      call.setFirst(await call.body.nextMessage(codec));
    } catch (e) {
      // The gateway's first Send fails before the stream exists: a plain error, code Unknown.
      if (!(e instanceof GoJsonError)) throw e;
      return writeError(call.res, new GrpcError(Status.UNKNOWN, e.message), false);
    }
    const m = this.method(route);
    if (m.kind === 'bidi') return this.run(route, call, () => m.handler(call));
    if (m.kind === 'clientStream') return this.run(route, call, () => m.handler(call));
    throw new GrpcError(Status.INTERNAL, `gateway: ${route.method.path} is registered as ${m.kind}`);
  }

  /** Runs the method and answers with its outcome, watching for disconnects, deadlines and close(). */
  private async run(route: GatewayRoute, call: GatewayCall, start: () => unknown): Promise<void> {
    const stop = this.watchCall(call);
    try {
      const pending = invoke(start);
      if (route.method.responseStream) await streamOutcome(call, pending as Promise<void>);
      else await this.unary(route, call, pending as Promise<Uint8Array>);
    } finally {
      stop();
    }
  }

  private async unary(route: GatewayRoute, call: GatewayCall, pending: Promise<Uint8Array>): Promise<void> {
    const res = call.res;
    let framed: Uint8Array;
    try {
      framed = await pending;
    } catch (e) {
      if (!call.done) writeError(res, asGrpcError(e), true);
      call.finishUnary();
      return;
    }
    if (call.done) return;
    call.finishUnary();
    const codec = codecOf(route.method.response.typeName);
    const body = messageToJson(codec.typeName, codec.decode(framed.subarray(FRAME)));
    writeHead(res, 200, { ...OK_HEADERS, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }

  /** Ends the call when the client goes away or the Grpc-Timeout passes; returns the cleanup. */
  private watchCall(call: GatewayCall): () => void {
    const res = call.res;
    const onClose = (): void => {
      if (!res.writableFinished) call.clientGone();
    };
    res.on('close', onClose);
    this.open.add(call);
    let timer: NodeJS.Timeout | undefined;
    if (call.timeoutMs !== undefined) {
      const expire = (): void =>
        call.expire(new GrpcError(Status.DEADLINE_EXCEEDED, 'context deadline exceeded'));
      if (call.timeoutMs <= 0) expire();
      else timer = setTimeout(expire, Math.min(call.timeoutMs, 0x7fffffff));
    }
    return () => {
      res.off('close', onClose);
      this.open.delete(call);
      if (timer !== undefined) clearTimeout(timer);
    };
  }

  /**
   * The server is stopping: every open call ends now (a stream with the status grpc-go reports when
   * its connection goes, Unavailable "transport is closing"), so no connection holds the stop up.
   */
  close(): void {
    for (const call of [...this.open]) call.expire(new GrpcError(Status.UNAVAILABLE, 'transport is closing'));
  }
}

/** Calls a handler; what it throws comes back as a rejection, like what it rejects with. */
function invoke<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e instanceof Error ? e : new Error(String(e)));
  }
}

/** Waits for a streaming handler and ends the HTTP stream with its outcome. */
async function streamOutcome(call: GatewayCall, pending: Promise<void>): Promise<void> {
  try {
    await pending;
    call.finishStream(undefined);
  } catch (e) {
    call.finishStream(asGrpcError(e));
  }
}

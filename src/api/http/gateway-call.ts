// One gateway request as a call of the gRPC method it maps to. etcd's gateway is a gRPC client of its
// own server; ketch's calls the method the gRPC server has registered (bytes in, bytes out) directly,
// so the same decoding, interceptors, error table and Unimplemented answers apply to both. This file
// holds the call context handed to the method, the request reader (JSON values from the body, as
// protobuf bytes) and the response-stream writer ({"result": ...} lines).
//
// The method and call types are the gRPC server's own (src/base/grpc-call-types.ts): api/http may
// import neither src/platform nor src/api/grpc.
import type {
  BidiStreamingCall,
  GrpcCall,
  MethodHandler,
  ServerStreamingCall,
} from '../../base/grpc-call-types.js';
import { GrpcError, Status } from '../../base/grpc-status.js';
import type { MessageCodec } from '../../generated/wire.js';
import { codecOf, jsonToMessage, messageToJson } from './gateway-codec.js';
import { decodeNext, GoJsonError, type JsonNode } from './gateway-json.js';
import {
  OK_HEADERS,
  httpStatusFromCode,
  streamErrorBody,
  writeBody,
  writeError,
  writeHead,
  type GatewayRequest,
  type GatewayResponse,
} from './gateway-http.js';

export type CallContextLike = GrpcCall;
export type ServerStreamLike = ServerStreamingCall;
export type BidiLike = BidiStreamingCall;
/** A method as the gRPC server holds it; responses come framed (5 prefix bytes first). */
export type GatewayMethod = MethodHandler;

const FRAME = 5;
/** How much of a body may be buffered while it does not yet hold a whole JSON value. */
const JSON_SLACK_BYTES = 1024 * 1024;

/** The error a failed request message becomes: what the gRPC server says of an oversized one. */
export function tooLarge(len: number, max: number): GrpcError {
  return new GrpcError(
    Status.RESOURCE_EXHAUSTED,
    `grpc: received message larger than max (${len} vs. ${max})`,
  );
}

/** JSON values read one by one from a request body, as json.Decoder reads them. */
export class JsonBodyReader {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  private ended = false;
  private readonly chunks: AsyncIterator<Buffer>;

  constructor(
    req: GatewayRequest,
    /** Largest message the server accepts; JSON text is allowed a multiple of it. */
    private readonly maxMessageBytes: number,
  ) {
    this.chunks = (req as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  /** The next value, or undefined at the end of the body. Throws GoJsonError or tooLarge. */
  async next(): Promise<JsonNode | undefined> {
    for (;;) {
      const step = decodeNext(this.buf, this.pos, this.ended);
      if ('node' in step) {
        this.pos = step.end;
        return step.node;
      }
      if ('eof' in step) return undefined;
      const pending = this.buf.length - this.pos;
      const limit = 4 * this.maxMessageBytes + JSON_SLACK_BYTES;
      if (pending > limit) throw tooLarge(pending, this.maxMessageBytes);
      const r = await this.chunks.next();
      if (r.done === true) this.ended = true;
      else this.buf = Buffer.concat([this.buf.subarray(this.pos), r.value]);
      if (r.done !== true) this.pos = 0;
    }
  }

  /** The next value as an encoded request message; undefined at the end of the body. */
  async nextMessage(codec: MessageCodec<Record<string, unknown>>): Promise<Uint8Array | undefined> {
    const node = await this.next();
    if (node === undefined) return undefined;
    const bytes = codec.encode(jsonToMessage(codec.typeName, node));
    if (bytes.length > this.maxMessageBytes) throw tooLarge(bytes.length, this.maxMessageBytes);
    return bytes;
  }
}

/** The call context of one gateway request, and for streams its request and response sides. */
export class GatewayCall implements BidiLike {
  readonly binaryMetadata: Readonly<Record<string, Uint8Array>> = {};
  readonly deadline: number | undefined;
  private readonly controller = new AbortController();
  private finished = false;
  /** The server sent its response headers (sendHeaders or a first message). */
  private headersFromServer = false;
  /** The HTTP response has begun (status line and headers written). */
  private started = false;
  private readonly responseCodec: MessageCodec<Record<string, unknown>>;
  /** The first request of a client stream, read by the gateway before it starts the call. */
  private first: Uint8Array | undefined;

  constructor(
    readonly path: string,
    readonly metadata: Readonly<Record<string, string>>,
    readonly timeoutMs: number | undefined,
    readonly peer: string,
    /** The method answers a stream ({"result": ...} lines) rather than one object. */
    private readonly responseStream: boolean,
    responseType: string,
    readonly res: GatewayResponse,
    readonly body: JsonBodyReader,
    private readonly requestCodec: MessageCodec<Record<string, unknown>>,
  ) {
    this.deadline = timeoutMs === undefined ? undefined : performance.now() + timeoutMs;
    this.responseCodec = codecOf(responseType);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get done(): boolean {
    return this.finished;
  }

  setFirst(bytes: Uint8Array | undefined): void {
    this.first = bytes;
  }

  private abort(reason: GrpcError): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }

  /** The client went away: the call is canceled and nothing more is written. */
  clientGone(): void {
    this.finished = true;
    this.abort(new GrpcError(Status.CANCELLED, 'context canceled'));
  }

  /** The Grpc-Timeout passed: the client is told so, however far the call has got. */
  expire(err: GrpcError): void {
    if (this.finished) return;
    if (this.responseStream) return this.finishStream(err, false);
    this.finished = true;
    this.abort(err);
    writeError(this.res, err, false);
  }

  // ---- the response stream ----

  send(framed: Uint8Array): boolean {
    if (this.finished) return false;
    this.headersFromServer = true;
    const msg = this.responseCodec.decode(framed.subarray(FRAME));
    this.start();
    return writeBody(this.res, `{"result":${messageToJson(this.responseCodec.typeName, msg)}}\n`);
  }

  drain(): Promise<void> {
    if (this.finished || !this.res.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }

  sendHeaders(): void {
    this.headersFromServer = true;
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    writeHead(this.res, 200, OK_HEADERS);
  }

  /**
   * The stream ended, OK or with err. A status the method ended with is sent as the gateway's
   * {"error": ...} chunk, with the HTTP status it maps to if nothing was sent before; the gateway's own
   * failure (the deadline) before the server answered is a plain error answer instead.
   */
  finishStream(err: GrpcError | undefined, fromServer = true): void {
    if (this.finished) return;
    this.finished = true;
    this.abort(err ?? new GrpcError(Status.CANCELLED, 'context canceled'));
    if (err === undefined) {
      this.start();
      this.res.end();
      return;
    }
    if (!this.started && !fromServer && !this.headersFromServer) return writeError(this.res, err, false);
    if (!this.started) {
      this.started = true;
      const headers = this.headersFromServer ? OK_HEADERS : { 'Content-Type': 'application/json' };
      writeHead(this.res, httpStatusFromCode(err.code), headers);
    }
    this.res.end(streamErrorBody(err.code, err.message));
  }

  /** A unary call is over: later sends and drains are no-ops. */
  finishUnary(): void {
    this.finished = true;
    this.abort(new GrpcError(Status.CANCELLED, 'context canceled'));
  }

  // ---- the request stream ----

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.first === undefined) return;
    yield this.first;
    for (;;) {
      let bytes: Uint8Array | undefined;
      try {
        bytes = await this.body.nextMessage(this.requestCodec);
      } catch (e) {
        // The gateway stops forwarding at a request it cannot read and half-closes the stream; an
        // oversized one is refused by the server, which fails the call.
        if (e instanceof GoJsonError) return;
        throw e;
      }
      if (bytes === undefined || this.finished) return;
      yield bytes;
    }
  }
}

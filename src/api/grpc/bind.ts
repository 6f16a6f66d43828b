// bindService: registers a typed service implementation on the bytes-only gRPC server. Each method
// decodes its request with the generated codec, calls the implementation, and encodes the response
// straight into a frame (encodeWithHeader leaves the 5 prefix bytes the server fills in). Failures
// become gRPC statuses here: EtcdError by the error table (errors.ts), GrpcError unchanged, anything
// else Unknown with its message, logged (a bug, not an expected failure). Methods the implementation
// leaves out answer Unimplemented "method X not implemented", as grpc-go's generated servers do.
//
// The server is described structurally (GrpcServerPort) because api code may not import
// src/platform; src/platform/grpc-server.ts's GrpcServer satisfies it.
import { AssertionError } from '../../base/assert.js';
import { EtcdError } from '../../base/errors.js';
import type { Logger } from '../../base/log.js';
import { silentLogger } from '../../base/log.js';
import type { MessageCodec, MethodDescriptor, ServiceDescriptor } from '../../generated/wire.js';
import { Code, GrpcError, grpcErrorFromEtcd, isGrpcError } from './errors.js';

/** What a method implementation sees about its call. */
export interface CallContext {
  /** "/package.Service/Method". */
  readonly path: string;
  /** Request metadata by lower-case name (e.g. "token" carries the auth token). */
  readonly metadata: Readonly<Record<string, string>>;
  readonly binaryMetadata: Readonly<Record<string, Uint8Array>>;
  readonly timeoutMs: number | undefined;
  /** performance.now() milliseconds at which the client gives up, if it set a deadline. */
  readonly deadline: number | undefined;
  /** Aborted when the client cancels or disconnects, the deadline passes, or the call fails. */
  readonly signal: AbortSignal;
  readonly peer: string;
  /** True once the call has ended; sends after that are dropped. */
  readonly done: boolean;
}

export interface ServerStream<Res> extends CallContext {
  /** Encodes and sends one response; false means the buffer is full: await drain() before more. */
  send(message: Res): boolean;
  drain(): Promise<void>;
  sendHeaders(): void;
}

/** Request messages as the client sends them; iteration ends when the client half-closes. */
export interface RequestStream<Req> extends CallContext, AsyncIterable<Req> {}

export interface BidiStream<Req, Res> extends ServerStream<Res>, RequestStream<Req> {}

/** The implementation type of one method, chosen by its streaming kind. */
export type MethodImpl<M> = M extends {
  readonly request: MessageCodec<infer Req>;
  readonly response: MessageCodec<infer Res>;
  readonly requestStream: infer CS;
  readonly responseStream: infer SS;
}
  ? CS extends true
    ? SS extends true
      ? (stream: BidiStream<Req, Res>) => void | Promise<void>
      : (requests: RequestStream<Req>) => Res | Promise<Res>
    : SS extends true
      ? (request: Req, stream: ServerStream<Res>) => void | Promise<void>
      : (request: Req, ctx: CallContext) => Res | Promise<Res>
  : never;

/** A (partial) implementation of a service: one function per method, by method name. */
export type ServiceImpl<S extends ServiceDescriptor> = {
  [K in keyof S['methods']]?: MethodImpl<S['methods'][K]>;
};

// ---- the bytes-level server, structurally ----

export interface RawServerStreamCall extends CallContext {
  send(framed: Uint8Array): boolean;
  drain(): Promise<void>;
  sendHeaders(): void;
}
export interface RawClientStreamCall extends CallContext, AsyncIterable<Uint8Array> {}
export interface RawBidiCall extends RawServerStreamCall, RawClientStreamCall {}
export type RawMethod =
  | { kind: 'unary'; handler: (request: Uint8Array, call: CallContext) => Uint8Array | Promise<Uint8Array> }
  | {
      kind: 'serverStream';
      handler: (request: Uint8Array, call: RawServerStreamCall) => void | Promise<void>;
    }
  | { kind: 'clientStream'; handler: (call: RawClientStreamCall) => Uint8Array | Promise<Uint8Array> }
  | { kind: 'bidi'; handler: (call: RawBidiCall) => void | Promise<void> };

/** The registration side of src/platform/grpc-server.ts's GrpcServer. */
export interface GrpcServerPort {
  addMethod(path: string, method: RawMethod): void;
}

export interface BindOptions {
  /** Where unexpected handler errors (bugs) are logged. */
  logger?: Logger;
  /** Called with an AssertionError thrown by a handler (a broken invariant), e.g. to crash the process. */
  onAssertionFailure?: (err: AssertionError) => void;
  /**
   * Runs before every call of an implemented method and may refuse it by throwing (etcd's v3rpc
   * interceptors, e.g. the `hasleader` metadata check).
   */
  intercept?: (call: CallContext, method: string) => void;
}

const FRAME = 5;

/** Registers every method of `service` on `server`, implemented by `impl` or answered Unimplemented. */
export function bindService<S extends ServiceDescriptor>(
  server: GrpcServerPort,
  service: S,
  impl: ServiceImpl<S>,
  opts: BindOptions = {},
): void {
  const convert = errorConverter(opts);
  const fns = impl as Record<string, ((...args: never[]) => unknown) | undefined>;
  for (const [name, m] of Object.entries(service.methods)) {
    const fn = fns[name];
    const raw =
      fn === undefined
        ? unimplemented(m, name)
        : typed(m, intercepted(fn.bind(impl) as AnyImpl, name, opts), convert);
    server.addMethod(m.path, raw);
  }
}

type AnyImpl = (a: unknown, b?: unknown) => unknown;

/** Wraps an implementation so opts.intercept sees the call first (its context is the 2nd argument of a unary call, else the 1st). */
function intercepted(fn: AnyImpl, method: string, opts: BindOptions): AnyImpl {
  const check = opts.intercept;
  if (check === undefined) return fn;
  return (a, b) => {
    check((b ?? a) as CallContext, method);
    return fn(a, b);
  };
}
type Convert = (err: unknown) => GrpcError;

function kindOf(m: MethodDescriptor<unknown, unknown>): RawMethod['kind'] {
  if (m.requestStream) return m.responseStream ? 'bidi' : 'clientStream';
  return m.responseStream ? 'serverStream' : 'unary';
}

function unimplemented(m: MethodDescriptor<unknown, unknown>, name: string): RawMethod {
  const fail = (): never => {
    throw new GrpcError(Code.UNIMPLEMENTED, `method ${name} not implemented`);
  };
  const kind = kindOf(m);
  switch (kind) {
    case 'unary':
      return { kind, handler: fail };
    case 'serverStream':
      return { kind, handler: fail };
    case 'clientStream':
      return { kind, handler: fail };
    case 'bidi':
      return { kind, handler: fail };
  }
}

function typed(m: MethodDescriptor<unknown, unknown>, fn: AnyImpl, convert: Convert): RawMethod {
  const req = m.request;
  const res = m.response;
  const encode = (r: unknown): Uint8Array => {
    try {
      return res.encodeWithHeader(r, FRAME);
    } catch (err) {
      throw convert(err);
    }
  };
  const rethrow = (err: unknown): never => {
    throw convert(err);
  };
  switch (kindOf(m)) {
    case 'unary':
      return {
        kind: 'unary',
        handler: (bytes, call) => {
          const r = decodeRequest(req, bytes);
          let out: unknown;
          try {
            out = fn(r, call);
          } catch (err) {
            throw convert(err);
          }
          return out instanceof Promise ? out.then(encode, rethrow) : encode(out);
        },
      };
    case 'serverStream':
      return {
        kind: 'serverStream',
        handler: (bytes, call) =>
          run(
            () => fn(decodeRequest(req, bytes), new TypedCall(call, req, res)),
            convert,
          ) as void | Promise<void>,
      };
    case 'clientStream':
      return {
        kind: 'clientStream',
        handler: (call) => {
          const out = run(() => fn(new TypedCall(call, req, res)), convert);
          return out instanceof Promise ? out.then(encode) : encode(out);
        },
      };
    case 'bidi':
      return {
        kind: 'bidi',
        handler: (call) => run(() => fn(new TypedCall(call, req, res)), convert) as void | Promise<void>,
      };
  }
}

/** Calls an implementation, converting whatever it throws or rejects with. */
function run(f: () => unknown, convert: Convert): unknown {
  let out: unknown;
  try {
    out = f();
  } catch (err) {
    throw convert(err);
  }
  if (out instanceof Promise) {
    return out.catch((err: unknown) => {
      throw convert(err);
    });
  }
  return out;
}

function decodeRequest<T>(codec: MessageCodec<T>, bytes: Uint8Array): T {
  try {
    return codec.decode(bytes);
  } catch (err) {
    throw new GrpcError(Code.INTERNAL, `grpc: error unmarshalling request: ${(err as Error).message}`);
  }
}

function errorConverter(opts: BindOptions): Convert {
  const logger = opts.logger ?? silentLogger;
  return (err) => {
    if (isGrpcError(err)) return err;
    if (err instanceof EtcdError) return grpcErrorFromEtcd(err);
    const message = err instanceof Error ? err.message : String(err);
    logger.error('unexpected error in gRPC handler', { error: message, stack: (err as Error)?.stack });
    if (err instanceof AssertionError) opts.onAssertionFailure?.(err);
    return new GrpcError(Code.UNKNOWN, message);
  };
}

/** The typed view of a raw call: decodes requests and encodes responses with the method's codecs. */
class TypedCall<Req, Res> implements BidiStream<Req, Res> {
  constructor(
    private readonly raw: RawBidiCall | RawServerStreamCall | RawClientStreamCall,
    private readonly req: MessageCodec<Req>,
    private readonly res: MessageCodec<Res>,
  ) {}

  get path(): string {
    return this.raw.path;
  }
  get metadata(): Readonly<Record<string, string>> {
    return this.raw.metadata;
  }
  get binaryMetadata(): Readonly<Record<string, Uint8Array>> {
    return this.raw.binaryMetadata;
  }
  get timeoutMs(): number | undefined {
    return this.raw.timeoutMs;
  }
  get deadline(): number | undefined {
    return this.raw.deadline;
  }
  get signal(): AbortSignal {
    return this.raw.signal;
  }
  get peer(): string {
    return this.raw.peer;
  }
  get done(): boolean {
    return this.raw.done;
  }

  send(message: Res): boolean {
    return (this.raw as RawServerStreamCall).send(this.res.encodeWithHeader(message, FRAME));
  }
  drain(): Promise<void> {
    return (this.raw as RawServerStreamCall).drain();
  }
  sendHeaders(): void {
    (this.raw as RawServerStreamCall).sendHeaders();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Req> {
    for await (const bytes of this.raw as RawClientStreamCall) {
      let m: Req;
      try {
        m = this.req.decode(bytes);
      } catch (err) {
        throw new GrpcError(
          Code.INTERNAL,
          `grpc: failed to unmarshal the received message ${(err as Error).message}`,
        );
      }
      yield m;
    }
  }
}

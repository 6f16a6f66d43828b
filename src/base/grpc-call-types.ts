// The handler-facing call and method types of the bytes-only gRPC server. They live in base, as
// the status codes do, because the server (src/platform) implements them and the JSON gateway
// (src/api/http) calls the same registered methods, and neither may import the other.

/** What every handler sees about its call. */
export interface GrpcCall {
  /** The method path, "/package.Service/Method". */
  readonly path: string;
  /** Request headers other than HTTP/2 pseudo-headers and -bin ones, by lower-case name. */
  readonly metadata: Readonly<Record<string, string>>;
  /** "-bin" request headers, base64-decoded. */
  readonly binaryMetadata: Readonly<Record<string, Uint8Array>>;
  /** The client's grpc-timeout in milliseconds, if it sent one. */
  readonly timeoutMs: number | undefined;
  /** When that timeout passes, in performance.now() milliseconds. */
  readonly deadline: number | undefined;
  /** Aborted when the client cancels, disconnects, the deadline passes or the call fails. */
  readonly signal: AbortSignal;
  /** "address:port" of the client. */
  readonly peer: string;
  /** True once the call has ended (status sent, cancelled or timed out). */
  readonly done: boolean;
}

/** A call whose handler sends a stream of responses. Messages are framed (see FRAME_HEADER_BYTES). */
export interface ServerStreamingCall extends GrpcCall {
  /** Sends one framed message; false means the stream's buffer is full: await drain() before more. */
  send(framed: Uint8Array): boolean;
  /** Resolves when the stream can take more (at once if it can, or if the call has ended). */
  drain(): Promise<void>;
  /** Sends the response headers now rather than with the first message. */
  sendHeaders(): void;
}

/** A call whose client sends a stream of requests; iteration ends when the client half-closes. */
export interface ClientStreamingCall extends GrpcCall, AsyncIterable<Uint8Array> {}

export interface BidiStreamingCall extends ServerStreamingCall, ClientStreamingCall {}

/** Returns the framed response. */
export type UnaryHandler = (request: Uint8Array, call: GrpcCall) => Uint8Array | Promise<Uint8Array>;
export type ServerStreamingHandler = (request: Uint8Array, call: ServerStreamingCall) => void | Promise<void>;
/** Returns the framed response. */
export type ClientStreamingHandler = (call: ClientStreamingCall) => Uint8Array | Promise<Uint8Array>;
export type BidiStreamingHandler = (call: BidiStreamingCall) => void | Promise<void>;

/**
 * A method implementation. Resolving ends the call with OK; throwing a GrpcError ends it with that
 * status; throwing anything else ends it with UNKNOWN and the error's message (as grpc-go does).
 */
export type MethodHandler =
  | { kind: 'unary'; handler: UnaryHandler }
  | { kind: 'serverStream'; handler: ServerStreamingHandler }
  | { kind: 'clientStream'; handler: ClientStreamingHandler }
  | { kind: 'bidi'; handler: BidiStreamingHandler };

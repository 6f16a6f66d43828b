// The HTTP side of etcd 3.4's gateway (grpc-gateway 1.x runtime): the gRPC code to HTTP status table,
// the error bodies it writes ({"error","message","code"} for a failed call, {"error":{...}} inside a
// stream), Go's plain-text http.Error, the request headers it forwards as gRPC metadata, and its
// Grpc-Timeout header.
import type http from 'node:http';
import type http2 from 'node:http2';
import { GrpcError, Status } from '../../base/grpc-status.js';
import { goBase64Decode, goQuote } from './gateway-json.js';

export type GatewayRequest = http.IncomingMessage | http2.Http2ServerRequest;
export type GatewayResponse = http.ServerResponse | http2.Http2ServerResponse;

/** Writes the status line and headers (both response kinds take the same arguments). */
export function writeHead(
  res: GatewayResponse,
  status: number,
  headers: Record<string, string | number>,
): void {
  (res as http.ServerResponse).writeHead(status, headers);
}

/** Writes part of the body; false means the buffer is full (wait for 'drain'). */
export function writeBody(res: GatewayResponse, text: string): boolean {
  return (res as http.ServerResponse).write(text);
}

/** runtime.HTTPStatusFromCode. */
export function httpStatusFromCode(code: number): number {
  const table: Record<number, number> = {
    [Status.OK]: 200,
    [Status.CANCELLED]: 408,
    [Status.UNKNOWN]: 500,
    [Status.INVALID_ARGUMENT]: 400,
    [Status.DEADLINE_EXCEEDED]: 504,
    [Status.NOT_FOUND]: 404,
    [Status.ALREADY_EXISTS]: 409,
    [Status.PERMISSION_DENIED]: 403,
    [Status.UNAUTHENTICATED]: 401,
    [Status.RESOURCE_EXHAUSTED]: 429,
    [Status.FAILED_PRECONDITION]: 412,
    [Status.ABORTED]: 409,
    [Status.OUT_OF_RANGE]: 400,
    [Status.UNIMPLEMENTED]: 501,
    [Status.INTERNAL]: 500,
    [Status.UNAVAILABLE]: 503,
    [Status.DATA_LOSS]: 500,
  };
  return table[code] ?? 500;
}

/** Go's http.StatusText for the statuses the gateway answers with. */
export function statusText(status: number): string {
  const table: Record<number, string> = {
    200: 'OK',
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not Found',
    405: 'Method Not Allowed',
    408: 'Request Timeout',
    409: 'Conflict',
    412: 'Precondition Failed',
    429: 'Too Many Requests',
    500: 'Internal Server Error',
    501: 'Not Implemented',
    503: 'Service Unavailable',
    504: 'Gateway Timeout',
  };
  return table[status] ?? '';
}

/** The errorBody message as jsonpb writes it (empty fields left out). */
export function errorBody(code: number, message: string): string {
  const m = message === '' ? '' : `"error":${goQuote(message)},"message":${goQuote(message)}`;
  const c = code === 0 ? '' : `"code":${code}`;
  return `{${m}${m !== '' && c !== '' ? ',' : ''}${c}}`;
}

/** The chunk a response stream ends with when the call fails after its first message. */
export function streamErrorBody(code: number, message: string): string {
  const status = httpStatusFromCode(code);
  const parts = [`"grpc_code":${code}`, `"http_code":${status}`];
  if (message !== '') parts.push(`"message":${goQuote(message)}`);
  parts.push(`"http_status":${goQuote(statusText(status))}`);
  return `{"error":{${parts.join(',')}}}`;
}

/** Response headers of a call that reached the server: grpc-go's response header as gateway metadata. */
export const OK_HEADERS = Object.freeze({
  'Content-Type': 'application/json',
  'Grpc-Metadata-Content-Type': 'application/grpc',
});

/**
 * runtime.HTTPError. `fromServer` marks a status the server returned: the gateway then announces and
 * sends the server's trailer metadata (content-type) as an HTTP trailer, as etcd's does.
 */
export function writeError(res: GatewayResponse, err: GrpcError, fromServer: boolean): void {
  const body = errorBody(err.code, err.message);
  const status = httpStatusFromCode(err.code);
  if (res.headersSent) {
    res.end();
    return;
  }
  if (fromServer) {
    writeHead(res, status, { 'Content-Type': 'application/json', Trailer: 'Grpc-Trailer-Content-Type' });
    writeBody(res, body);
    res.addTrailers({ 'Grpc-Trailer-Content-Type': 'application/grpc' });
    res.end();
    return;
  }
  writeHead(res, status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** Go's http.Error: a plain-text line. */
export function httpError(res: GatewayResponse, status: number, text: string): void {
  const body = `${text}\n`;
  writeHead(res, status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'X-Content-Type-Options': 'nosniff',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** Headers grpc-gateway forwards as "grpcgateway-<name>" (its isPermanentHTTPHeader list). */
const PERMANENT = new Set([
  'accept',
  'accept-charset',
  'accept-language',
  'accept-ranges',
  'authorization',
  'cache-control',
  'content-type',
  'cookie',
  'date',
  'expect',
  'from',
  'host',
  'if-match',
  'if-modified-since',
  'if-none-match',
  'if-schedule-tag-match',
  'if-unmodified-since',
  'max-forwards',
  'origin',
  'pragma',
  'referer',
  'user-agent',
  'via',
  'warning',
]);
const META_PREFIX = 'grpc-metadata-';

/**
 * runtime.AnnotateContext: the gRPC metadata a request carries. Authorization also goes as
 * "authorization" (etcd reads its token there), Grpc-Metadata-<name> as <name>, the permanent HTTP
 * headers as grpcgateway-<name>, plus x-forwarded-host and x-forwarded-for. A metadata name with
 * several values keeps them comma-joined, as the gRPC server's metadata does.
 */
export function metadataFromHeaders(req: GatewayRequest): Record<string, string> {
  const md: Record<string, string> = {};
  const add = (k: string, v: string): void => {
    md[k] = md[k] === undefined ? v : `${md[k]},${v}`;
  };
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i]!.toLowerCase();
    let val = raw[i + 1]!;
    if (key.startsWith(':')) continue;
    if (key === 'authorization') add('authorization', val);
    let name: string | undefined;
    if (PERMANENT.has(key)) name = `grpcgateway-${key}`;
    else if (key.startsWith(META_PREFIX)) name = key.slice(META_PREFIX.length);
    if (name === undefined) continue;
    if (key.endsWith('-bin')) val = decodeBinHeader(key, val);
    add(name, val);
  }
  const fwdHost = req.headers['x-forwarded-host'];
  const authority = req.headers[':authority'];
  const reqHost = req.headers.host ?? (typeof authority === 'string' ? authority : '');
  const host = typeof fwdHost === 'string' && fwdHost !== '' ? fwdHost : reqHost;
  if (host !== '') add('x-forwarded-host', host);
  const ip = req.socket?.remoteAddress;
  if (ip !== undefined) {
    const fwd = req.headers['x-forwarded-for'];
    add('x-forwarded-for', typeof fwd === 'string' && fwd !== '' ? `${fwd}, ${ip}` : ip);
  }
  return md;
}

function decodeBinHeader(key: string, val: string): string {
  const padded = val.length % 4 === 0 ? val : val + '='.repeat((4 - (val.length % 4)) % 4);
  try {
    return Buffer.from(goBase64Decode(Buffer.from(padded, 'latin1'))).toString('latin1');
  } catch (e) {
    throw new GrpcError(
      Status.INVALID_ARGUMENT,
      `invalid binary header ${canonical(key)}: ${(e as Error).message}`,
    );
  }
}

/** textproto.CanonicalMIMEHeaderKey. */
function canonical(key: string): string {
  return key.replace(/(^|-)([a-z])/g, (_, d: string, c: string) => d + c.toUpperCase());
}

const UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };

/**
 * The gateway's Grpc-Timeout header in milliseconds: undefined without one (or with 0, which the
 * gateway also ignores); a malformed one is refused with the gateway's words.
 */
export function gatewayTimeoutMs(req: GatewayRequest): number | undefined {
  const v = req.headers['grpc-timeout'];
  if (v === undefined || v === '') return undefined;
  const s = Array.isArray(v) ? v[0]! : v;
  const m = /^([+-]?\d+)([HMSmun])$/.exec(s);
  if (m === null) throw new GrpcError(Status.INVALID_ARGUMENT, `invalid grpc-timeout: ${s}`);
  const ms = Number(m[1]) * UNIT_MS[m[2]!]!;
  return ms === 0 ? undefined : ms;
}

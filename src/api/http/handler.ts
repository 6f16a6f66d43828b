// Plain HTTP on the client port, as etcd serves beside gRPC: /health, /version, /metrics and the JSON
// gateway under /v3/ (gateway.ts). Requests arrive here from the same listener as gRPC (HTTP/1.1, or
// HTTP/2 without the gRPC content type). createHttpHandler routes them as etcd 3.4's access controller
// and Go's ServeMux do: CORS headers on every answer (etcd's default --cors is "*"), OPTIONS answered
// at once, /v3beta/ served as /v3/, unclean paths and /v3 redirected.
import type { Logger } from '../../base/log.js';
import { silentLogger } from '../../base/log.js';
import type { EtcdServer } from '../../server/etcd-server.js';
import { ETCD_CLUSTER_VERSION, ETCD_SERVER_VERSION } from '../../server/version.js';
import type { JsonGateway } from './gateway.js';
import { httpError, writeHead, type GatewayRequest, type GatewayResponse } from './gateway-http.js';
import { renderMetrics } from './metrics.js';

/** What to answer: the transport writes it to whichever HTTP version the request came in on. */
export interface HttpReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function json(status: number, body: unknown): HttpReply {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** Go's http.Error adds this to its plain-text answers. */
const NOSNIFF = { 'x-content-type-options': 'nosniff' };

function text(status: number, body: string, headers: Record<string, string> = {}): HttpReply {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers }, body };
}

/** etcd 3.4's /health: false while any alarm is active or there is no leader. */
async function health(server: EtcdServer, url: URL): Promise<{ healthy: boolean }> {
  const excluded = new Set(url.searchParams.getAll('exclude'));
  const names = ['NONE', 'NOSPACE', 'CORRUPT'];
  if (server.alarms.some((a) => !excluded.has(names[a.alarm] ?? 'UNKNOWN'))) return { healthy: false };
  if (server.leaderId === 0n) return { healthy: false };
  try {
    await server.linearizableReadNotify();
  } catch {
    return { healthy: false };
  }
  return { healthy: true };
}

export async function handleHttp(server: EtcdServer, method: string, path: string): Promise<HttpReply> {
  const url = new URL(path, 'http://localhost');
  switch (url.pathname) {
    case '/health': {
      if (method !== 'GET') return text(405, 'Method Not Allowed\n', { allow: 'GET', ...NOSNIFF });
      const { healthy } = await health(server, url);
      // etcd writes it without a content type, so Go's sniffing calls it text/plain.
      const body = JSON.stringify({ health: healthy ? 'true' : 'false' });
      return text(healthy ? 200 : 503, body);
    }
    case '/version':
      if (method !== 'GET') return text(405, 'Method Not Allowed\n', { allow: 'GET', ...NOSNIFF });
      return json(200, { etcdserver: ETCD_SERVER_VERSION, etcdcluster: ETCD_CLUSTER_VERSION });
    case '/metrics':
      return {
        status: 200,
        headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' },
        body: renderMetrics(server),
      };
    default:
      return text(404, '404 page not found\n', NOSNIFF);
  }
}

const CORS_HEADERS: Readonly<Record<string, string>> = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'POST, GET, OPTIONS, PUT, DELETE',
  'Access-Control-Allow-Headers': 'accept, content-type, authorization',
};

/** Go's cleanPath: path.Clean, keeping a trailing slash. */
export function cleanPath(p: string): string {
  if (p === '') return '/';
  if (p[0] !== '/') p = '/' + p;
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  let np = '/' + out.join('/');
  if (p.endsWith('/') && np !== '/') np += '/';
  return np;
}

/** Go's http.Redirect with 301: a small HTML body for GET only. */
function redirect(req: GatewayRequest, res: GatewayResponse, location: string): void {
  const headers: Record<string, string> = { Location: location };
  const get = req.method === 'GET';
  if (get || req.method === 'HEAD') headers['Content-Type'] = 'text/html; charset=utf-8';
  const body = get
    ? `<a href="${location.replace(/&/g, '&amp;').replace(/"/g, '&#34;')}">Moved Permanently</a>.\n\n`
    : '';
  writeHead(res, 301, { ...headers, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export interface ClientHttpOptions {
  /** Serves /v3/ (and /v3beta/); without it those paths are not found, as with etcd's gateway off. */
  gateway?: JsonGateway;
  logger?: Logger;
}

/** The handler for every non-gRPC request on a client URL. */
export function createHttpHandler(
  server: EtcdServer,
  opts: ClientHttpOptions = {},
): (req: GatewayRequest, res: GatewayResponse) => void {
  const logger = opts.logger ?? silentLogger;
  return (req, res) => {
    for (const [k, v] of Object.entries(CORS_HEADERS)) res.setHeader(k, v);
    if (req.method === 'OPTIONS') {
      writeHead(res, 200, { 'Content-Length': 0 });
      res.end();
      return;
    }
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const query = q < 0 ? '' : url.slice(q);
    let path: string;
    try {
      path = decodeURIComponent(q < 0 ? url : url.slice(0, q));
    } catch {
      return httpError(res, 400, '400 Bad Request');
    }
    if (path.startsWith('/v3beta/')) path = '/v3/' + path.slice('/v3beta/'.length);
    const clean = cleanPath(path);
    if (clean !== path) return redirect(req, res, encodeURI(clean) + query);
    if (path === '/v3' && opts.gateway !== undefined) return redirect(req, res, '/v3/' + query);
    if (path.startsWith('/v3/') && opts.gateway !== undefined) return opts.gateway.serve(req, res, path);
    handleHttp(server, req.method ?? 'GET', url).then(
      (reply) => {
        writeHead(res, reply.status, { ...reply.headers, 'content-length': Buffer.byteLength(reply.body) });
        res.end(reply.body);
      },
      (err: unknown) => {
        logger.error('http handler failed', { error: String(err) });
        writeHead(res, 500, {});
        res.end();
      },
    );
  };
}

// Plain HTTP on the client port, as etcd serves beside gRPC: /health, /version and /metrics.
// Requests arrive here from the same listener as gRPC (HTTP/1.1, or HTTP/2 without the gRPC
// content type).
import type { EtcdServer } from '../../server/etcd-server.js';
import { ETCD_CLUSTER_VERSION, ETCD_SERVER_VERSION } from '../../server/version.js';
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
      if (method !== 'GET') return text(405, 'Method Not Allowed\n', { allow: 'GET' });
      const { healthy } = await health(server, url);
      return json(healthy ? 200 : 503, { health: healthy ? 'true' : 'false' });
    }
    case '/version':
      if (method !== 'GET') return text(405, 'Method Not Allowed\n', { allow: 'GET' });
      return json(200, { etcdserver: ETCD_SERVER_VERSION, etcdcluster: ETCD_CLUSTER_VERSION });
    case '/metrics':
      return {
        status: 200,
        headers: { 'content-type': 'text/plain; version=0.0.4' },
        body: renderMetrics(server),
      };
    default:
      return text(404, '404 page not found\n');
  }
}

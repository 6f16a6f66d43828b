// The peer listener: one TCP server per --listen-peer-urls entry. Each connection is sniffed: the
// HTTP/2 preface goes to the HTTP/2 server (raft streams, snapshots and the GET routes), anything
// else to a small HTTP/1.1 server that answers only the GET routes (/members, /version,
// /raft/probing), so that plain HTTP clients (fetch, curl) can read them.
//
// Only http:// URLs are served (HTTP/2 over cleartext); https:// peer URLs are refused at start.

import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type { ServerHttp2Session, ServerHttp2Stream, IncomingHttpHeaders } from 'node:http2';
import { ETCD_CLUSTER_VERSION, ETCD_SERVER_VERSION } from '../server/version.js';
import { PATH_MEMBERS, PATH_PROBING, PATH_SNAPSHOT, PATH_STREAM, PATH_VERSION } from './headers.js';
import { keepAlive } from './keepalive.js';
import { isLeasePath, serveLeaseRequest } from './lease-route.js';
import { SESSION_MEMORY_MB } from './limits.js';
import { checkPeerRequest, serveMessageStream, serveSnapshot, type ReceiverContext } from './receiver.js';

/** Host and port to listen on for a peer URL; throws on a scheme other than http. */
export function listenAddress(url: string): { host: string; port: number } {
  const u = new URL(url);
  if (u.protocol === 'https:')
    throw new Error(
      `peer URL ${url}: https peer URLs are not supported (TLS between peers is not implemented)`,
    );
  if (u.protocol !== 'http:') throw new Error(`peer URL ${url}: unsupported scheme ${u.protocol}`);
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  return { host, port: u.port === '' ? 80 : Number(u.port) };
}

interface SimpleAnswer {
  status: number;
  contentType: string;
  body: string;
}

function stringifyJson(v: unknown): string {
  if (typeof v === 'string') return v; // already JSON
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
}

export class PeerListener {
  private readonly servers: net.Server[] = [];
  private readonly sockets = new Set<net.Socket>();
  private readonly sessions = new Set<ServerHttp2Session>();
  private readonly h2: http2.Http2Server;
  private readonly h1: http.Server;
  private urls: string[] = [];

  constructor(
    private readonly ctx: ReceiverContext,
    private readonly membersJson: (() => unknown) | undefined,
  ) {
    const l = ctx.limits;
    this.h2 = http2.createServer({
      settings: { initialWindowSize: l.streamWindowBytes },
      maxSessionMemory: SESSION_MEMORY_MB,
    });
    this.h2.on('session', (s) => this.onSession(s));
    this.h2.on('stream', (stream, headers) => this.onStream(stream, headers));
    this.h1 = http.createServer((req, res) => {
      const a = this.simpleRoute(req.method ?? '', req.url ?? '') ?? {
        status: 505,
        contentType: 'text/plain; charset=utf-8',
        body: 'raft streams need HTTP/2\n',
      };
      res.writeHead(a.status, { 'content-type': a.contentType });
      res.end(a.body);
    });
  }

  /** The URLs actually listened on (with the port the OS chose for port 0). */
  addresses(): string[] {
    return [...this.urls];
  }

  async listen(urls: readonly string[]): Promise<void> {
    const addrs = urls.map(listenAddress);
    for (const a of addrs) {
      const srv = net.createServer((sock) => this.onConnection(sock));
      try {
        await new Promise<void>((resolve, reject) => {
          srv.once('error', reject);
          srv.listen(a.port, a.host, () => {
            srv.off('error', reject);
            resolve();
          });
        });
      } catch (err) {
        await this.close(); // the URLs already bound are released again
        throw err;
      }
      this.servers.push(srv);
      const bound = srv.address() as net.AddressInfo;
      this.urls.push(`http://${a.host.includes(':') ? `[${a.host}]` : a.host}:${bound.port}`);
    }
  }

  private onConnection(sock: net.Socket): void {
    this.sockets.add(sock);
    sock.once('close', () => this.sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    sock.setNoDelay(true);
    // A connection that never says anything is not kept forever.
    sock.setTimeout(this.ctx.limits.dialTimeoutMs, () => sock.destroy());
    let seen = Buffer.alloc(0);
    const sniff = (): void => {
      let chunk: Buffer | null;
      while ((chunk = sock.read() as Buffer | null) !== null) seen = Buffer.concat([seen, chunk]);
      if (seen.length < 3) return; // the HTTP/2 preface and any HTTP/1 method are longer
      sock.off('readable', sniff);
      sock.setTimeout(0);
      sock.unshift(seen);
      const isH2 = seen.subarray(0, 3).toString('latin1') === 'PRI';
      (isH2 ? this.h2 : this.h1).emit('connection', sock);
    };
    sock.on('readable', sniff);
  }

  private onSession(s: ServerHttp2Session): void {
    this.sessions.add(s);
    s.once('close', () => this.sessions.delete(s));
    s.on('error', () => undefined); // the close that follows is what matters
    const l = this.ctx.limits;
    try {
      s.setLocalWindowSize(l.connectionWindowBytes);
    } catch {
      // Session already gone.
    }
    keepAlive(s, l.pingIntervalMs, l.pingTimeoutMs, () => {
      this.ctx.logger.warn('dropped peer connection: ping unanswered', {
        'local-member-id': this.ctx.localId.toString(16),
        'remote-addr': s.socket?.remoteAddress ?? '',
      });
      s.destroy();
    });
  }

  private simpleRoute(method: string, path: string): SimpleAnswer | undefined {
    const p = path.split('?')[0] ?? '';
    if (method !== 'GET' && method !== 'HEAD') return undefined;
    const json = 'application/json';
    if (p === PATH_PROBING) {
      // The shape of etcd's prober answer (github.com/xiang90/probing): {"OK":true,"Now":"…"}.
      return {
        status: 200,
        contentType: json,
        body: JSON.stringify({ OK: true, Now: new Date().toISOString() }),
      };
    }
    if (p === PATH_VERSION) {
      const body = JSON.stringify({ etcdserver: ETCD_SERVER_VERSION, etcdcluster: ETCD_CLUSTER_VERSION });
      return { status: 200, contentType: json, body };
    }
    if (p === PATH_MEMBERS) {
      if (this.membersJson === undefined)
        return { status: 404, contentType: 'text/plain', body: '404 page not found\n' };
      try {
        return { status: 200, contentType: json, body: stringifyJson(this.membersJson()) };
      } catch (err) {
        return { status: 500, contentType: 'text/plain', body: `${String(err)}\n` };
      }
    }
    return { status: 404, contentType: 'text/plain; charset=utf-8', body: '404 page not found\n' };
  }

  private onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    stream.on('error', () => undefined); // a reset stream: its reader sees the end
    const method = String(headers[':method'] ?? '');
    const path = String(headers[':path'] ?? '').split('?')[0] ?? '';
    if (path === PATH_STREAM || path === PATH_SNAPSHOT) {
      if (method !== 'POST') {
        stream.respond({ ':status': 405, allow: 'POST' });
        stream.end('Method Not Allowed\n');
        return;
      }
      const from = checkPeerRequest(this.ctx, stream, headers);
      if (from === undefined) return;
      if (path === PATH_STREAM) serveMessageStream(this.ctx, stream, from);
      else
        serveSnapshot(this.ctx, stream, from).catch((err: unknown) => {
          this.ctx.logger.warn('failed to receive database snapshot', { error: String(err) });
          if (!stream.destroyed) stream.destroy();
        });
      return;
    }
    if (isLeasePath(path)) {
      serveLeaseRequest(stream, method, path, this.ctx.handler());
      return;
    }
    const a = this.simpleRoute(method, path) ?? {
      status: 405,
      contentType: 'text/plain',
      body: 'Method Not Allowed\n',
    };
    stream.respond({ ':status': a.status, 'content-type': a.contentType });
    stream.end(method === 'HEAD' ? undefined : a.body);
  }

  /** Stops listening and drops every connection; resolves once the servers are closed. */
  async close(): Promise<void> {
    const closed = this.servers.map((srv) => new Promise<void>((resolve) => srv.close(() => resolve())));
    for (const s of this.sessions) s.destroy();
    for (const sock of this.sockets) sock.destroy();
    this.h1.closeAllConnections();
    await Promise.all(closed);
    this.servers.length = 0;
  }
}

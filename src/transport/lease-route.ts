// The lease requests followers forward to the leader on the peer URL (etcd's leasehttp): POST
// /leases (keepalive) and POST /leases/internal (TimeToLive), protobuf bodies both ways. The server
// side hands the body to the member's PeerHandler.serveLease and maps its failure to etcd's
// statuses (404 lease not found, 408 applied index wait timed out, 400 anything else); the client
// side keeps one HTTP/2 session per peer URL, since keepalives arrive continuously.
import http2 from 'node:http2';
import type { ClientHttp2Session, ServerHttp2Stream } from 'node:http2';
import { EtcdError, Err } from '../base/errors.js';
import { LEASE_PATHS, type LeasePath, type PeerHandler } from '../server/peer-transport.js';

/** Largest request body accepted (a keepalive is ~10 bytes, a TimeToLive request ~15). */
export const MAX_LEASE_REQUEST_BYTES = 4096;

export function isLeasePath(p: string): p is LeasePath {
  return (LEASE_PATHS as readonly string[]).includes(p);
}

function reply(stream: ServerHttp2Stream, status: number, body: Uint8Array | string, type: string): void {
  if (stream.destroyed || stream.closed) return;
  stream.respond({ ':status': status, 'content-type': type });
  stream.end(body);
}

/** Answers one forwarded lease request. */
export function serveLeaseRequest(
  stream: ServerHttp2Stream,
  method: string,
  path: LeasePath,
  handler: PeerHandler | undefined,
): void {
  const text = 'text/plain; charset=utf-8';
  if (method !== 'POST') return reply(stream, 405, 'Method Not Allowed\n', text);
  const serve = handler?.serveLease?.bind(handler);
  if (serve === undefined) return reply(stream, 503, 'lease service not ready\n', text);
  const chunks: Buffer[] = [];
  let size = 0;
  stream.on('data', (c: Buffer) => {
    size += c.length;
    if (size > MAX_LEASE_REQUEST_BYTES) {
      reply(stream, 400, 'error reading body\n', text);
      stream.destroy();
      return;
    }
    chunks.push(c);
  });
  stream.on('end', () => {
    if (size > MAX_LEASE_REQUEST_BYTES) return;
    serve(path, new Uint8Array(Buffer.concat(chunks))).then(
      (out) => reply(stream, 200, out, 'application/protobuf'),
      (err: unknown) => {
        const msg = err instanceof Error ? err.message : String(err);
        if (err instanceof EtcdError && err.message === Err.leaseNotFound)
          reply(stream, 404, 'lease not found\n', text);
        else if (err instanceof EtcdError && err.message === Err.timeoutWaitAppliedIndex)
          reply(stream, 408, 'waiting for node to catch up its applied index has timed out\n', text);
        else reply(stream, 400, `${msg}\n`, text);
      },
    );
  });
}

/** Posts forwarded lease requests, one HTTP/2 session per peer URL. */
export class LeaseClient {
  private readonly sessions = new Map<string, ClientHttp2Session>();
  private closed = false;

  private session(url: string): ClientHttp2Session {
    const s = this.sessions.get(url);
    if (s !== undefined && !s.closed && !s.destroyed) return s;
    const fresh = http2.connect(url);
    fresh.on('error', () => undefined); // requests on it fail on their own
    fresh.once('close', () => {
      if (this.sessions.get(url) === fresh) this.sessions.delete(url);
    });
    fresh.unref();
    this.sessions.set(url, fresh);
    return fresh;
  }

  post(url: string, path: LeasePath, body: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new Error('lease client closed'));
    return new Promise<Uint8Array>((resolve, reject) => {
      const session = this.session(url);
      const req = session.request({
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/protobuf',
      });
      const timer = setTimeout(() => {
        req.close(http2.constants.NGHTTP2_CANCEL);
        reject(new Error('lease: request to the leader timed out'));
      }, timeoutMs);
      let status = 0;
      const chunks: Buffer[] = [];
      req.on('response', (h) => (status = Number(h[':status'] ?? 0)));
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('error', (err: Error) => {
        clearTimeout(timer);
        reject(err);
      });
      req.on('end', () => {
        clearTimeout(timer);
        const all = Buffer.concat(chunks);
        if (status === 200) resolve(new Uint8Array(all));
        else if (status === 404) reject(new EtcdError(Err.leaseNotFound));
        else reject(new Error(`lease: unknown error(${all.toString('utf8').trim()})`));
      });
      req.end(body);
    });
  }

  close(): void {
    this.closed = true;
    for (const s of this.sessions.values()) s.destroy();
    this.sessions.clear();
  }
}

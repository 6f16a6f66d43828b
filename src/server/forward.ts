// Forwarding a request to the leader over its client URL, for the one call etcd forwards between
// members (MemberPromote: only the leader knows whether the learner is in sync). A minimal unary
// gRPC call over node:http2 (h2c for http:// URLs); a failure status comes back as an EtcdError
// with the leader's message.
import { connect, type IncomingHttpHeaders } from 'node:http2';
import { EtcdError } from '../base/index.js';

function frame(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + body.length);
  new DataView(out.buffer).setUint32(1, body.length);
  out.set(body, 5);
  return out;
}

/** Calls `path` on the gRPC server at `url` with an encoded request; resolves with the encoded response. */
export function grpcUnary(
  url: string,
  path: string,
  request: Uint8Array,
  timeoutMs: number,
): Promise<Uint8Array> {
  return new Promise<Uint8Array>((resolve, reject) => {
    const session = connect(url);
    const fail = (err: unknown) => {
      session.destroy();
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    session.on('error', fail);
    const timer = setTimeout(() => fail(new Error('forwarding to the leader timed out')), timeoutMs);
    const req = session.request({
      ':method': 'POST',
      ':path': path,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    const chunks: Buffer[] = [];
    let status: string | undefined;
    let message = '';
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('response', (h) => {
      // A trailers-only response carries the status in its headers.
      if (h['grpc-status'] !== undefined) status = String(h['grpc-status']);
      if (h['grpc-message'] !== undefined) message = decodeURIComponent(String(h['grpc-message']));
    });
    req.on('trailers', (t: IncomingHttpHeaders) => {
      status = String(t['grpc-status'] ?? status ?? '');
      if (t['grpc-message'] !== undefined) message = decodeURIComponent(String(t['grpc-message']));
    });
    req.on('error', fail);
    req.on('end', () => {
      clearTimeout(timer);
      session.close();
      if (status !== '0') {
        reject(new EtcdError(message || `grpc status ${status}`));
        return;
      }
      const all = Buffer.concat(chunks);
      if (all.length < 5) {
        reject(new Error('forwarding to the leader: short response'));
        return;
      }
      resolve(new Uint8Array(all.subarray(5, 5 + all.readUInt32BE(1))));
    });
    req.end(frame(request));
  });
}

// Single gRPC calls outside the timed loads: waiting for a server to answer, writing the key the
// range loads read, and checking afterwards that the server holds what was acknowledged.
import { GrpcCall, TRANSPORT_ERROR } from './grpc-call.js';
import { H2Connection } from './h2-connection.js';
import type { PreparedRequest } from './request.js';

export interface UnaryReply {
  status: number;
  message: string;
  body: Uint8Array | null;
}

/** One unary call on a fresh connection; transport failures and timeouts become TRANSPORT_ERROR. */
export async function unaryCall(
  host: string,
  port: number,
  req: PreparedRequest,
  key = 0,
  timeoutMs = 5000,
): Promise<UnaryReply> {
  let conn: H2Connection;
  try {
    conn = await H2Connection.connect(host, port);
  } catch (err) {
    return { status: TRANSPORT_ERROR, message: (err as Error).message, body: null };
  }
  try {
    return await new Promise<UnaryReply>((resolve) => {
      const timer = setTimeout(() => conn.close(`no reply within ${timeoutMs} ms`), timeoutMs);
      const call = new GrpcCall((status, message, body) => {
        clearTimeout(timer);
        resolve({ status, message, body });
      }, true);
      conn.request(call, req, key);
    });
  } finally {
    conn.close();
  }
}

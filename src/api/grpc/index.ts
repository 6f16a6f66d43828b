// Layer `api/grpc`: the v3 gRPC services as etcd 3.4 serves them. It owns the edge between the
// bytes-only gRPC server (src/platform/grpc-server.ts, reached only through the structural
// GrpcServerPort) and the typed server facade: bind.ts decodes requests and encodes responses with the
// generated codecs, errors.ts is the one table from etcd error messages to gRPC status codes, and the
// *-service.ts files implement the services. Invariants: every client-visible failure leaves here as a
// gRPC status with etcd's exact message; no handler error escapes to crash the process.
// May import: src/base, src/generated, src/server (and node:*).
export * from './bind.js';
export * from './errors.js';
export * from './interceptors.js';

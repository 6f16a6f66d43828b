// gRPC status codes and the error that carries one to the client. They live in base because both
// the gRPC server (src/platform) and the service layer (src/api/grpc) speak them, and neither may
// import the other.

export const Status = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
export type StatusCode = (typeof Status)[keyof typeof Status];

/** A failure to send to the client as a gRPC status. */
export class GrpcError extends Error {
  override name = 'GrpcError';
  constructor(
    readonly code: StatusCode,
    message: string,
  ) {
    super(message);
  }
}

export function isGrpcError(e: unknown): e is GrpcError {
  return e instanceof GrpcError;
}

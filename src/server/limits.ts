// Named limits of the server (DESIGN §5.6), validated at start-up.

/** Proposals waiting for the disk at once before new ones are refused with "too many requests". */
export const MAX_PENDING_PROPOSALS = 5000;
/** etcd's default --max-request-bytes. */
export const DEFAULT_MAX_REQUEST_BYTES = 1.5 * 1024 * 1024;
/** gRPC accepts this much more than max-request-bytes, so that the server, not gRPC, says "too large". */
export const GRPC_OVERHEAD_BYTES = 512 * 1024;
/** etcd's default quota when --quota-backend-bytes is 0. */
export const DEFAULT_QUOTA_BYTES = 2 * 1024 * 1024 * 1024;
/** Largest quota etcd suggests; beyond it etcd warns. */
export const MAX_QUOTA_BYTES = 8 * 1024 * 1024 * 1024;
export const DEFAULT_MAX_TXN_OPS = 128;
/** Proposals are refused with "too many requests" while apply lags commit by more than this (etcd's maxGapBetweenApplyAndCommitIndex). */
export const MAX_APPLY_LAG_ENTRIES = 5000n;
/** Entries kept in raft's log behind a snapshot, for followers that lag a little (etcd's SnapshotCatchUpEntries). */
export const SNAPSHOT_CATCH_UP_ENTRIES = 5000n;

// The core's logger: plain messages, as etcd-io/raft logs them ("1 became leader at term 2"), so the
// interaction scripts can show them and the server can forward them to its structured logger.
// `panic` reports a broken invariant and must not return.

export interface RaftLogger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  panic(msg: string): never;
}

export const discardRaftLogger: RaftLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  panic(msg: string): never {
    throw new Error(msg);
  },
};

// The etcd version ketch answers with. ketch speaks etcd 3.4's API; clients and operators read the
// version from Status, /version and --version, so it names the etcd release whose behaviour ketch
// matches. ketch's own version is reported beside it where etcd has room for it (--version).
export const ETCD_SERVER_VERSION = '3.4.23';
export const ETCD_CLUSTER_VERSION = '3.4.0';
export const KETCH_VERSION = '0.1.0';

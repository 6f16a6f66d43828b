// ServerConfig: the validated, typed form of every etcd 3.4 server flag, built from the flag
// values once validation passed. Sizes and counts are numbers, durations are milliseconds, URL
// lists are WHATWG URLs (see urlToString for etcd's text form). Values etcd leaves as "0 means
// the server's default" (quota-backend-bytes, experimental-compaction-batch-limit, …) stay 0.
import type { FlagValues } from './config-flags.js';
import { parseInitialCluster, urlToString } from './config-urls.js';
import type { ClusterMember } from './config-urls.js';
import type { Report } from './config-validate.js';
import { goQuote, parseGoDuration } from './flags.js';

export type ServerLogLevel = 'debug' | 'info' | 'warn' | 'error' | 'panic' | 'fatal';

export interface ServerConfig {
  /** The --config-file the values came from ('' when from flags and environment). */
  configFile: string;
  // member
  name: string;
  /** `${name}.etcd` when not given. */
  dataDir: string;
  walDir: string;
  listenPeerUrls: URL[];
  listenClientUrls: URL[];
  listenMetricsUrls: URL[];
  maxSnapshots: number;
  maxWals: number;
  snapshotCount: number;
  heartbeatIntervalMs: number;
  electionTimeoutMs: number;
  initialElectionTickAdvance: boolean;
  /** 0 means the server's default (2 GiB in etcd 3.4). */
  quotaBackendBytes: number;
  /** 0 means the server's default. */
  backendBatchIntervalMs: number;
  /** 0 means the server's default. */
  backendBatchLimit: number;
  maxTxnOps: number;
  maxRequestBytes: number;
  grpcKeepAliveMinTimeMs: number;
  grpcKeepAliveIntervalMs: number;
  grpcKeepAliveTimeoutMs: number;
  maxConcurrentStreams: number;
  // clustering
  initialAdvertisePeerUrls: URL[];
  /** Empty only when etcd would run as a proxy without them. */
  advertiseClientUrls: URL[];
  discovery: string;
  discoveryFallback: 'proxy' | 'exit';
  discoveryProxy: string;
  discoverySrv: string;
  discoverySrvName: string;
  /** Parsed --initial-cluster; `[]` when unset or when it failed to parse (see initialClusterError). */
  initialCluster: ClusterMember[];
  /** The --initial-cluster text after etcd's defaulting (`<name>=<advertise peer URLs>`). */
  initialClusterText: string;
  /** Why --initial-cluster did not parse; etcd reports it only when bootstrapping (verifyInitialCluster). */
  initialClusterError: string | undefined;
  initialClusterState: 'new' | 'existing';
  initialClusterToken: string;
  strictReconfigCheck: boolean;
  enableV2: boolean;
  preVote: boolean;
  // v2 proxy (accepted, kept)
  proxy: 'off' | 'readonly' | 'on';
  proxyFailureWaitMs: number;
  proxyRefreshIntervalMs: number;
  proxyDialTimeoutMs: number;
  proxyWriteTimeoutMs: number;
  proxyReadTimeoutMs: number;
  // security
  certFile: string;
  keyFile: string;
  clientCertAuth: boolean;
  clientCrlFile: string;
  clientCertAllowedHostname: string;
  trustedCaFile: string;
  autoTls: boolean;
  peerCertFile: string;
  peerKeyFile: string;
  peerClientCertAuth: boolean;
  peerTrustedCaFile: string;
  peerAutoTls: boolean;
  peerCrlFile: string;
  peerCertAllowedCn: string;
  peerCertAllowedHostname: string;
  cipherSuites: string[];
  experimentalPeerSkipClientSanVerification: boolean;
  /** Allowed CORS origins ('*' = all). */
  cors: string[];
  /** Allowed Host headers ('*' = all). */
  hostWhitelist: string[];
  // logging
  logger: 'zap' | 'capnslog';
  /** Effective level ('debug' when --debug is given with capnslog; etcd's 'dpanic' maps to 'panic'). */
  logLevel: ServerLogLevel;
  /** 'default' | 'stderr' | 'stdout' | 'systemd/journal' | file paths (after --log-output reconciliation). */
  logOutputs: string[];
  debug: boolean;
  logPackageLevels: string;
  // compaction
  autoCompactionMode: 'periodic' | 'revision';
  autoCompactionRetention: string;
  /** Periodic mode: the retention window in ms (0 = disabled). */
  autoCompactionPeriodMs: number;
  /** Revision mode: how many revisions to keep (0 = disabled). */
  autoCompactionRevisions: number;
  // monitoring, auth, gateway
  enablePprof: boolean;
  metrics: string;
  authToken: string;
  bcryptCost: number;
  authTokenTtlSeconds: number;
  enableGrpcGateway: boolean;
  // experimental and unsafe
  experimentalInitialCorruptCheck: boolean;
  experimentalCorruptCheckTimeMs: number;
  experimentalEnableV2v3: string;
  experimentalBackendBboltFreelistType: string;
  experimentalEnableLeaseCheckpoint: boolean;
  experimentalEnableLeaseCheckpointPersist: boolean;
  /** 0 means the server's default (1000). */
  experimentalCompactionBatchLimit: number;
  /** 0 means the server's default (10 minutes). */
  experimentalWatchProgressNotifyIntervalMs: number;
  experimentalWarningApplyDurationMs: number;
  unsafeNoFsync: boolean;
  forceNewCluster: boolean;
}

export interface Retention {
  periodMs: number;
  revisions: number;
}

/** Go's strconv.Atoi (decimal only), or undefined. */
function atoi(s: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const n = BigInt(s);
  return n >= -(1n << 63n) && n < 1n << 63n ? n : undefined;
}

/** embed's parseCompactionRetention: a bare integer is hours (periodic) or revisions; else a duration. */
export function compactionRetention(v: FlagValues): Retention {
  const mode = v.str('auto-compaction-mode');
  const text = v.str('auto-compaction-retention') || '0';
  const h = atoi(text);
  if (h !== undefined && h >= 0n) {
    if (mode === 'revision') return { periodMs: 0, revisions: Number(h) };
    if (mode === 'periodic') return { periodMs: Number(h) * 3_600_000, revisions: 0 };
    return { periodMs: 0, revisions: 0 };
  }
  let ns: bigint;
  try {
    ns = parseGoDuration(text);
  } catch (e) {
    throw new Error(`error parsing CompactionRetention: ${(e as Error).message}`);
  }
  if (mode === 'revision') return { periodMs: 0, revisions: Number(ns) };
  return { periodMs: Number(ns) / 1e6, revisions: 0 };
}

const ms = (ns: bigint): number => Number(ns) / 1e6;

/** embed.Config.InitialClusterFromName plus etcdmain's rule for `--name` without `--initial-cluster`. */
function initialClusterText(v: FlagValues): string {
  const name = v.str('name');
  const text = v.str('initial-cluster');
  if (name === 'default' || text !== 'default=http://localhost:2380') return text;
  return v
    .urls('initial-advertise-peer-urls')
    .map((u) => `${name || 'default'}=${urlToString(u)}`)
    .join(',');
}

function clusterOf(text: string): { members: ClusterMember[]; error: string | undefined } {
  try {
    return { members: parseInitialCluster(text), error: undefined };
  } catch (e) {
    return { members: [], error: (e as Error).message };
  }
}

function dataDirOf(v: FlagValues, report: Report[]): string {
  const dir = v.str('data-dir');
  if (dir !== '') return dir;
  const chosen = `${v.str('name')}.etcd`;
  const msg =
    v.str('logger') === 'zap'
      ? `'data-dir' was empty; using default (data-dir ${goQuote(chosen)})`
      : `no data-dir provided, using default data-dir ./${chosen}`;
  report.push({ level: 'warn', pkg: 'etcdmain', msg });
  return chosen;
}

/** Build the typed ServerConfig from validated flag values. */
export function buildServerConfig(v: FlagValues, retention: Retention, report: Report[]): ServerConfig {
  const num = (name: string) => Number(v.int(name));
  const dur = (name: string) => ms(v.int(name));
  const clusterText = initialClusterText(v);
  const cluster = clusterOf(clusterText);
  const level = v.str('log-level');
  return {
    configFile: v.str('config-file'),
    name: v.str('name'),
    dataDir: dataDirOf(v, report),
    walDir: v.str('wal-dir'),
    listenPeerUrls: v.urls('listen-peer-urls'),
    listenClientUrls: v.urls('listen-client-urls'),
    listenMetricsUrls: v.urls('listen-metrics-urls'),
    maxSnapshots: num('max-snapshots'),
    maxWals: num('max-wals'),
    snapshotCount: num('snapshot-count'),
    heartbeatIntervalMs: num('heartbeat-interval'),
    electionTimeoutMs: num('election-timeout'),
    initialElectionTickAdvance: v.bool('initial-election-tick-advance'),
    quotaBackendBytes: num('quota-backend-bytes'),
    backendBatchIntervalMs: dur('backend-batch-interval'),
    backendBatchLimit: num('backend-batch-limit'),
    maxTxnOps: num('max-txn-ops'),
    maxRequestBytes: num('max-request-bytes'),
    grpcKeepAliveMinTimeMs: dur('grpc-keepalive-min-time'),
    grpcKeepAliveIntervalMs: dur('grpc-keepalive-interval'),
    grpcKeepAliveTimeoutMs: dur('grpc-keepalive-timeout'),
    maxConcurrentStreams: num('max-concurrent-streams'),
    initialAdvertisePeerUrls: v.urls('initial-advertise-peer-urls'),
    advertiseClientUrls: v.urls('advertise-client-urls'),
    discovery: v.str('discovery'),
    discoveryFallback: v.str('discovery-fallback') === 'exit' ? 'exit' : 'proxy',
    discoveryProxy: v.str('discovery-proxy'),
    discoverySrv: v.str('discovery-srv'),
    discoverySrvName: v.str('discovery-srv-name'),
    initialCluster: cluster.members,
    initialClusterText: clusterText,
    initialClusterError: cluster.error,
    initialClusterState: v.str('initial-cluster-state') === 'existing' ? 'existing' : 'new',
    initialClusterToken: v.str('initial-cluster-token'),
    strictReconfigCheck: v.bool('strict-reconfig-check'),
    enableV2: v.bool('enable-v2'),
    preVote: v.bool('pre-vote'),
    proxy: v.str('proxy') as ServerConfig['proxy'],
    proxyFailureWaitMs: num('proxy-failure-wait'),
    proxyRefreshIntervalMs: num('proxy-refresh-interval'),
    proxyDialTimeoutMs: num('proxy-dial-timeout'),
    proxyWriteTimeoutMs: num('proxy-write-timeout'),
    proxyReadTimeoutMs: num('proxy-read-timeout'),
    certFile: v.str('cert-file'),
    keyFile: v.str('key-file'),
    clientCertAuth: v.bool('client-cert-auth'),
    clientCrlFile: v.str('client-crl-file'),
    clientCertAllowedHostname: v.str('client-cert-allowed-hostname'),
    trustedCaFile: v.str('trusted-ca-file'),
    autoTls: v.bool('auto-tls'),
    peerCertFile: v.str('peer-cert-file'),
    peerKeyFile: v.str('peer-key-file'),
    peerClientCertAuth: v.bool('peer-client-cert-auth'),
    peerTrustedCaFile: v.str('peer-trusted-ca-file'),
    peerAutoTls: v.bool('peer-auto-tls'),
    peerCrlFile: v.str('peer-crl-file'),
    peerCertAllowedCn: v.str('peer-cert-allowed-cn'),
    peerCertAllowedHostname: v.str('peer-cert-allowed-hostname'),
    cipherSuites: v.strings('cipher-suites'),
    experimentalPeerSkipClientSanVerification: v.bool('experimental-peer-skip-client-san-verification'),
    cors: v.strings('cors'),
    hostWhitelist: v.strings('host-whitelist'),
    logger: v.str('logger') === 'zap' ? 'zap' : 'capnslog',
    logLevel: (level === 'dpanic' ? 'panic' : level) as ServerLogLevel,
    logOutputs: v.strings('log-outputs'),
    debug: v.bool('debug'),
    logPackageLevels: v.str('log-package-levels'),
    autoCompactionMode: v.str('auto-compaction-mode') === 'revision' ? 'revision' : 'periodic',
    autoCompactionRetention: v.str('auto-compaction-retention') || '0',
    autoCompactionPeriodMs: retention.periodMs,
    autoCompactionRevisions: retention.revisions,
    enablePprof: v.bool('enable-pprof'),
    metrics: v.str('metrics'),
    authToken: v.str('auth-token'),
    bcryptCost: num('bcrypt-cost'),
    authTokenTtlSeconds: num('auth-token-ttl'),
    enableGrpcGateway: v.bool('enable-grpc-gateway'),
    experimentalInitialCorruptCheck: v.bool('experimental-initial-corrupt-check'),
    experimentalCorruptCheckTimeMs: dur('experimental-corrupt-check-time'),
    experimentalEnableV2v3: v.str('experimental-enable-v2v3'),
    experimentalBackendBboltFreelistType: v.str('experimental-backend-bbolt-freelist-type'),
    experimentalEnableLeaseCheckpoint: v.bool('experimental-enable-lease-checkpoint'),
    experimentalEnableLeaseCheckpointPersist: v.bool('experimental-enable-lease-checkpoint-persist'),
    experimentalCompactionBatchLimit: num('experimental-compaction-batch-limit'),
    experimentalWatchProgressNotifyIntervalMs: dur('experimental-watch-progress-notify-interval'),
    experimentalWarningApplyDurationMs: dur('experimental-warning-apply-duration'),
    unsafeNoFsync: v.bool('unsafe-no-fsync'),
    forceNewCluster: v.bool('force-new-cluster'),
  };
}

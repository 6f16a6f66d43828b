// The `ketch` server's composition root: parse etcd's flags, open the member's storage, start the
// server and its client listeners, and stop gracefully on SIGTERM/SIGINT (then die by that signal,
// as etcd does).
import { EtcdServer, hex } from '../server/etcd-server.js';
import { publish, transferLeadershipOnStop } from '../server/cluster-ops.js';
import type { Member } from '../server/members.js';
import { HttpPeerTransport } from '../transport/index.js';
import { fetchRemoteCluster, findSelf, membersBody } from './config-join.js';
import { clusterId, memberId } from '../server/ids.js';
import { openMemberStorage } from '../server/storage.js';
import { DEFAULT_MAX_TXN_OPS, GRPC_OVERHEAD_BYTES } from '../server/limits.js';
import { ETCD_CLUSTER_VERSION } from '../server/version.js';
import { NodeFileSystem } from '../platform/node-fs.js';
import { createLogger } from '../platform/logger.js';
import { GrpcServer } from '../platform/grpc-server.js';
import { bindService } from '../api/grpc/bind.js';
import { requireLeaderInterceptor } from '../api/grpc/interceptors.js';
import { kvService } from '../api/grpc/kv-service.js';
import { leaseService } from '../api/grpc/lease-service.js';
import { lockService } from '../api/grpc/lock-service.js';
import { electionService } from '../api/grpc/election-service.js';
import { KvClient } from '../server/concurrency/index.js';
import { LockService } from '../generated/v3lockpb.js';
import { ElectionService } from '../generated/v3electionpb.js';
import { clusterService, maintenanceService } from '../api/grpc/maintenance-service.js';
import { bindWatchService } from '../api/grpc/watch-service.js';
import { createHttpHandler } from '../api/http/handler.js';
import { JsonGateway } from '../api/http/gateway.js';
import {
  AuthService,
  ClusterService,
  KVService,
  LeaseService,
  MaintenanceService,
} from '../generated/etcdserverpb.js';
import {
  ConfigError,
  parseServerConfig,
  urlToString,
  verifyInitialCluster,
  type ServerConfig,
} from './config.js';
import { Wal } from '../wal/index.js';

/** The address to bind for a listen URL: etcd binds "localhost" as 127.0.0.1. */
function listenHost(u: URL): string {
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  return host === 'localhost' ? '127.0.0.1' : host;
}

async function run(config: ServerConfig, warnings: string[], notices: string[]): Promise<void> {
  const logger = createLogger({
    level: config.logLevel,
    format: config.logger === 'zap' ? 'json' : 'capnslog',
    output: config.logOutputs,
  });
  for (const n of notices) logger.info(n);
  for (const w of warnings) logger.warn(w);
  const self = config.initialCluster.find((m) => m.name === config.name);
  const peerUrls = self?.peerUrls ?? config.initialAdvertisePeerUrls;
  const mid = memberId(peerUrls, config.initialClusterToken);
  const allIds = config.initialCluster.map((m) => memberId(m.peerUrls, config.initialClusterToken));
  const cid = clusterId(allIds.length > 0 ? allIds : [mid]);

  const fs = new NodeFileSystem();
  let ids = { memberId: mid, clusterId: cid };
  let initialCluster: Member[] = config.initialCluster.map((m) => ({
    id: memberId(m.peerUrls, config.initialClusterToken),
    name: m.name,
    peerURLs: m.peerUrls.map(urlToString),
    clientURLs: [],
    isLearner: false,
  }));
  if (!(await Wal.exists(fs, `${config.dataDir}/member/wal`))) {
    verifyInitialCluster(config);
    if (config.initialClusterState === 'existing') {
      const ours = peerUrls.map(urlToString);
      const others = initialCluster.filter((m) => m.name !== config.name).flatMap((m) => m.peerURLs);
      const remote = await fetchRemoteCluster(others);
      ids = { memberId: findSelf(remote, ours).id, clusterId: remote.clusterId };
      initialCluster = remote.members;
    }
  }
  const storage = await openMemberStorage(fs, config.dataDir, ids, logger);
  const ref: { server?: EtcdServer } = {};
  const transport = new HttpPeerTransport({
    localId: storage.boot.memberId,
    clusterId: storage.boot.clusterId,
    listenUrls: config.listenPeerUrls.map(urlToString),
    logger,
    nowMs: () => Date.now(),
    membersJson: () => (ref.server === undefined ? undefined : membersBody(ref.server)),
    onRemoved: () => {
      logger.warn('the member has been permanently removed from the cluster');
      void ref.server?.stop().then(() => process.exit(0));
    },
  });
  const server = await EtcdServer.create(
    {
      name: config.name,
      memberId: storage.boot.memberId,
      clusterId: storage.boot.clusterId,
      peerUrls: peerUrls.map(urlToString),
      clientUrls: config.advertiseClientUrls.map(urlToString),
      maxRequestBytes: config.maxRequestBytes,
      maxTxnOps: config.maxTxnOps > 0 ? config.maxTxnOps : DEFAULT_MAX_TXN_OPS,
      quotaBackendBytes: config.quotaBackendBytes,
      snapshotCount: config.snapshotCount,
      nowMs: Date.now(),
      heartbeatMs: config.heartbeatIntervalMs,
      electionMs: config.electionTimeoutMs,
      preVote: config.preVote,
      strictReconfigCheck: config.strictReconfigCheck,
      maxSnapshots: config.maxSnapshots,
      maxWals: config.maxWals,
      ...(initialCluster.length > 0 ? { initialCluster } : {}),
      initialClusterState: config.initialClusterState,
    },
    storage,
    logger,
    transport,
  );
  ref.server = server;
  server.onStop((reason) => {
    if (reason !== undefined) logger.warn(reason);
    process.exit(0);
  });

  const maxReceiveMessageBytes = config.maxRequestBytes + GRPC_OVERHEAD_BYTES;
  const gateway = new JsonGateway({
    lookup: (path) => grpc.method(path),
    maxRequestBytes: maxReceiveMessageBytes,
    logger,
  });
  const grpc: GrpcServer = new GrpcServer({
    maxReceiveMessageBytes,
    httpHandler: createHttpHandler(server, { gateway, logger }),
    logger,
  });
  const bindOpts = {
    logger,
    intercept: requireLeaderInterceptor(() => server.leaderId),
    // A broken invariant in a handler means state we can no longer trust: die, and let restart recover.
    onAssertionFailure: (err: Error) => {
      logger.error('assertion failed; exiting', { error: err.stack ?? err.message });
      process.exit(2);
    },
  };
  bindService(grpc, KVService, kvService(server), bindOpts);
  bindService(grpc, MaintenanceService, maintenanceService(server), bindOpts);
  bindService(grpc, ClusterService, clusterService(server), bindOpts);
  bindWatchService(grpc, server, bindOpts, {
    progressNotifyIntervalMs: config.experimentalWatchProgressNotifyIntervalMs,
  });
  bindService(grpc, LeaseService, leaseService(server), bindOpts);
  bindService(grpc, AuthService, {}, bindOpts);
  // etcd serves v3lock and v3election over an in-process client of the member (v3client).
  const concurrency = new KvClient(server);
  bindService(grpc, LockService, lockService(server, concurrency), bindOpts);
  bindService(grpc, ElectionService, electionService(server, concurrency), bindOpts);

  for (const u of config.listenClientUrls) {
    await grpc.listen(Number(u.port), listenHost(u));
    logger.info('serving client traffic insecurely; this is strongly discouraged!', { address: u.host });
  }
  await publish(server);
  logger.info(
    `published {Name:${config.name} ClientURLs:[${config.advertiseClientUrls.map(urlToString).join(' ')}]} to cluster ${hex(server.clusterId)}`,
    {
      'local-member-id': hex(server.memberId),
      'cluster-id': hex(server.clusterId),
      'published-local-member-to-cluster': 'published local member to cluster through raft',
    },
  );
  logger.info(`enabled capabilities for version ${ETCD_CLUSTER_VERSION.split('.').slice(0, 2).join('.')}`);
  logger.info('ready to serve client requests');

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info('received signal; shutting down', { signal });
    void (async () => {
      gateway.close();
      await grpc.close();
      await transferLeadershipOnStop(server).catch(() => undefined);
      await server.stop();
      logger.info('stopped');
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    })();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

function main(): void {
  let parsed;
  try {
    parsed = parseServerConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(err.render());
      process.exit(err.exitCode);
    }
    throw err;
  }
  if (parsed.kind === 'version') {
    process.stdout.write(parsed.text);
    return;
  }
  if (parsed.kind === 'help') {
    process.stderr.write(parsed.usage);
    process.stdout.write(parsed.text);
    return;
  }
  run(parsed.config, parsed.warnings, parsed.notices).catch((err: unknown) => {
    process.stderr.write(`ketch: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}

main();

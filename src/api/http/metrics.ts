// Prometheus text exposition of the server's state, under etcd's metric names where one exists.
import type { EtcdServer } from '../../server/etcd-server.js';

function line(name: string, help: string, type: 'gauge' | 'counter', value: bigint | number): string {
  return `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name} ${value}\n`;
}

export function renderMetrics(server: EtcdServer): string {
  return [
    line(
      'etcd_server_has_leader',
      'Whether or not a leader exists. 1 is existence, 0 is not.',
      'gauge',
      server.leaderId === 0n ? 0 : 1,
    ),
    line(
      'etcd_server_is_leader',
      'Whether or not this member is a leader.',
      'gauge',
      server.leaderId === server.memberId ? 1 : 0,
    ),
    line(
      'etcd_server_proposals_committed_total',
      'The total number of consensus proposals committed.',
      'gauge',
      server.commitIndex,
    ),
    line(
      'etcd_server_proposals_applied_total',
      'The total number of consensus proposals applied.',
      'gauge',
      server.appliedIndex,
    ),
    line('etcd_debugging_mvcc_current_revision', 'The current revision of store.', 'gauge', server.revision),
    line(
      'etcd_debugging_mvcc_compact_revision',
      'The revision of the last compaction in store.',
      'gauge',
      server.compactRevision,
    ),
    line(
      'etcd_mvcc_db_total_size_in_bytes',
      'Total size of the underlying database physically allocated in bytes.',
      'gauge',
      server.backendSizeBytes,
    ),
    line(
      'etcd_mvcc_db_total_size_in_use_in_bytes',
      'Total size of the underlying database logically in use in bytes.',
      'gauge',
      server.backendSizeInUseBytes,
    ),
    ...memoryLines(),
    line(
      'process_resident_memory_bytes',
      'Resident memory size in bytes.',
      'gauge',
      process.memoryUsage.rss(),
    ),
  ].join('');
}

function memoryLines(): string[] {
  const m = process.memoryUsage();
  return [
    line('nodejs_heap_size_total_bytes', 'Process heap size from Node.js in bytes.', 'gauge', m.heapTotal),
    line('nodejs_heap_size_used_bytes', 'Process heap size used from Node.js in bytes.', 'gauge', m.heapUsed),
    line('nodejs_external_memory_bytes', 'Node.js external memory size in bytes.', 'gauge', m.external),
    line(
      'nodejs_array_buffers_bytes',
      'Node.js memory held by ArrayBuffers in bytes.',
      'gauge',
      m.arrayBuffers,
    ),
  ];
}

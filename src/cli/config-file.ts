// etcd 3.4's `--config-file`: a YAML document whose keys are the flag names (embed.Config's JSON
// tags, plus the v2-proxy keys of etcdmain), decoded with Go's JSON typing rules: numbers must be
// numbers, durations are integers of nanoseconds, URL lists are comma-separated strings, TLS
// settings sit under `client-transport-security` / `peer-transport-security`. Keys etcd does not
// know are ignored, as etcd ignores them. Errors carry etcd's text.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { FlagValues } from './config-flags.js';
import { parseUrlList, urlToString } from './config-urls.js';

/** How a file key is decoded: the Go type etcd declares for it. */
type GoType =
  'string' | 'bool' | 'uint' | 'uint64' | 'uint32' | 'int' | 'int64' | 'time.Duration' | '[]string';

const configKeys: Record<string, GoType> = {
  name: 'string',
  'data-dir': 'string',
  'wal-dir': 'string',
  'snapshot-count': 'uint64',
  'max-snapshots': 'uint',
  'max-wals': 'uint',
  'heartbeat-interval': 'uint',
  'election-timeout': 'uint',
  'initial-election-tick-advance': 'bool',
  'backend-batch-interval': 'time.Duration',
  'backend-batch-limit': 'int',
  'quota-backend-bytes': 'int64',
  'max-txn-ops': 'uint',
  'max-request-bytes': 'uint',
  'max-concurrent-streams': 'uint32',
  'cipher-suites': '[]string',
  'initial-cluster-state': 'string',
  'discovery-srv': 'string',
  'discovery-srv-name': 'string',
  'discovery-proxy': 'string',
  discovery: 'string',
  'initial-cluster': 'string',
  'initial-cluster-token': 'string',
  'strict-reconfig-check': 'bool',
  'enable-v2': 'bool',
  'auto-compaction-mode': 'string',
  'auto-compaction-retention': 'string',
  'grpc-keepalive-min-time': 'time.Duration',
  'grpc-keepalive-interval': 'time.Duration',
  'grpc-keepalive-timeout': 'time.Duration',
  'pre-vote': 'bool',
  'auth-token': 'string',
  'bcrypt-cost': 'uint',
  'auth-token-ttl': 'uint',
  'experimental-initial-corrupt-check': 'bool',
  'experimental-corrupt-check-time': 'time.Duration',
  'experimental-enable-v2v3': 'string',
  'experimental-backend-bbolt-freelist-type': 'string',
  'experimental-enable-lease-checkpoint': 'bool',
  'experimental-enable-lease-checkpoint-persist': 'bool',
  'experimental-compaction-batch-limit': 'int',
  'experimental-watch-progress-notify-interval': 'time.Duration',
  'experimental-warning-apply-duration': 'time.Duration',
  'force-new-cluster': 'bool',
  'enable-pprof': 'bool',
  metrics: 'string',
  'listen-metrics-urls': 'string',
  logger: 'string',
  'log-level': 'string',
  'log-outputs': '[]string',
  'enable-grpc-gateway': 'bool',
  'log-output': '[]string',
  debug: 'bool',
  'log-package-levels': 'string',
  'unsafe-no-fsync': 'bool',
  'listen-peer-urls': 'string',
  'listen-client-urls': 'string',
  'initial-advertise-peer-urls': 'string',
  'advertise-client-urls': 'string',
  cors: 'string',
  'host-whitelist': 'string',
};

const proxyKeys: Record<string, GoType> = {
  'proxy-failure-wait': 'uint',
  'proxy-refresh-interval': 'uint',
  'proxy-dial-timeout': 'uint',
  'proxy-write-timeout': 'uint',
  'proxy-read-timeout': 'uint',
  proxy: 'string',
  'discovery-fallback': 'string',
};

const securityKeys: Record<string, [GoType, string]> = {
  'cert-file': ['string', 'cert-file'],
  'key-file': ['string', 'key-file'],
  'client-cert-auth': ['bool', 'client-cert-auth'],
  'trusted-ca-file': ['string', 'trusted-ca-file'],
  'auto-tls': ['bool', 'auto-tls'],
};

/** A config-file failure; `raw` ones are printed as they are (etcd writes them straight to stderr). */
export class ConfigFileError extends Error {
  constructor(
    message: string,
    readonly raw = false,
  ) {
    super(message);
  }
}

const ranges: Partial<Record<GoType, [bigint, bigint]>> = {
  uint: [0n, (1n << 64n) - 1n],
  uint64: [0n, (1n << 64n) - 1n],
  uint32: [0n, (1n << 32n) - 1n],
  int: [-(1n << 63n), (1n << 63n) - 1n],
  int64: [-(1n << 63n), (1n << 63n) - 1n],
  'time.Duration': [-(1n << 63n), (1n << 63n) - 1n],
};

function jsonKind(v: unknown): string {
  if (typeof v === 'bigint' || typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'object' && v !== null && !(v instanceof Date)) return 'object';
  return 'string';
}

/** Go's encoding/json decoding of one value into a field of the given type. */
function decode(v: unknown, type: GoType, field: string): string | boolean | bigint | string[] {
  const fail = (what: string) =>
    new ConfigFileError(
      `error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${what} into Go struct field ${field} of type ${type}`,
    );
  if (v instanceof Date) v = v.toISOString();
  const range = ranges[type];
  if (range !== undefined) {
    if (typeof v !== 'bigint' && typeof v !== 'number') throw fail(jsonKind(v));
    if (typeof v === 'number' && !Number.isInteger(v)) throw fail(`number ${v}`);
    const n = BigInt(v);
    if (n < range[0] || n > range[1]) throw fail(`number ${n}`);
    return n;
  }
  if (type === 'string') {
    if (typeof v !== 'string') throw fail(jsonKind(v));
    return v;
  }
  if (type === 'bool') {
    if (typeof v !== 'boolean') throw fail(jsonKind(v));
    return v;
  }
  if (!Array.isArray(v)) throw fail(jsonKind(v));
  return v.map((item: unknown) => {
    if (typeof item !== 'string') {
      throw new ConfigFileError(
        `error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${jsonKind(item)} into Go struct field ${field} of type string`,
      );
    }
    return item;
  });
}

function goReadError(path: string, e: NodeJS.ErrnoException): string {
  const words: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    ENOTDIR: 'not a directory',
    ELOOP: 'too many levels of symbolic links',
  };
  if (e.code === 'EISDIR') return `read ${path}: is a directory`;
  return `open ${path}: ${words[e.code ?? ''] ?? e.message}`;
}

function readDocument(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigFileError(goReadError(path, e as NodeJS.ErrnoException));
  }
  let doc: unknown;
  try {
    doc = parseYaml(text, { version: '1.1', intAsBigInt: true, uniqueKeys: false });
  } catch (e) {
    const first = ((e as Error).message.split('\n')[0] ?? '').replace(/ at line (\d+), column \d+:?$/, '');
    const line = /at line (\d+)/.exec((e as Error).message)?.[1] ?? '1';
    throw new ConfigFileError(`error converting YAML to JSON: yaml: line ${line}: ${first}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigFileError(
      `error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${jsonKind(doc)} into Go value of type embed.configYAML`,
    );
  }
  return doc as Record<string, unknown>;
}

function lookupKey<T>(table: Record<string, T>, key: string): [string, T] | undefined {
  const exact = table[key];
  if (exact !== undefined) return [key, exact];
  const lowered = key.toLowerCase();
  const found = Object.entries(table).find(([k]) => k.toLowerCase() === lowered);
  return found;
}

function applySecurity(values: FlagValues, v: unknown, field: string, prefix: string): void {
  if (v === null) return;
  if (typeof v !== 'object' || Array.isArray(v) || v instanceof Date) {
    throw new ConfigFileError(
      `error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${jsonKind(v)} into Go struct field ${field} of type embed.securityConfig`,
    );
  }
  for (const [k, inner] of Object.entries(v as Record<string, unknown>)) {
    const hit = lookupKey(securityKeys, k);
    if (hit === undefined || inner === null) continue;
    const [type, flag] = hit[1];
    values.put(prefix + flag, decode(inner, type, `${field}.${hit[0]}`));
  }
}

/** Decode the keys of one Go struct (configYAML or configProxy) into flag values. */
function applyKeys(
  values: FlagValues,
  doc: Record<string, unknown>,
  table: Record<string, GoType>,
  struct: string,
): Set<string> {
  const present = new Set<string>();
  for (const [key, v] of Object.entries(doc)) {
    if (
      struct === 'configYAML' &&
      (key === 'client-transport-security' || key === 'peer-transport-security')
    ) {
      applySecurity(values, v, `${struct}.${key}`, key.startsWith('peer') ? 'peer-' : '');
      continue;
    }
    const hit = lookupKey(table, key);
    if (hit === undefined || v === null) continue;
    const [name, type] = hit;
    values.put(name, decode(v, type, `${struct}.${name}`));
    present.add(name);
  }
  return present;
}

const urlKeys: [string, string][] = [
  ['listen-peer-urls', 'listen-peer-urls'],
  ['listen-client-urls', 'listen-client-urls'],
  ['initial-advertise-peer-urls', 'initial-advertise-peer-urls'],
  ['advertise-client-urls', 'advertise-peer-urls'],
  ['listen-metrics-urls', 'listen-metrics-urls'],
];

/** Turn the string-typed URL and list keys into the typed values the flags would hold. */
function convertLists(values: FlagValues, present: Set<string>): void {
  for (const [key, label] of urlKeys) {
    if (!present.has(key)) continue;
    const text = values.str(key);
    if (text === '') {
      values.put(key, new FlagValues().urls(key));
      continue;
    }
    try {
      values.put(key, parseUrlList(text.split(',')));
    } catch (e) {
      throw new ConfigFileError(`unexpected error setting up ${label}: ${(e as Error).message}`, true);
    }
  }
  if (present.has('cors')) {
    const text = values.str('cors');
    const parts = text === '*' ? ['*'] : parseUrlList(text.split(',')).map(urlToString);
    values.put('cors', text === '' ? ['*'] : [...new Set(parts)].sort());
  }
  if (present.has('host-whitelist')) {
    const text = values.str('host-whitelist');
    values.put('host-whitelist', text === '' ? ['*'] : [...new Set(text.split(','))].sort());
  }
}

export interface ConfigFileContents {
  values: FlagValues;
  /** The flag names the file set. */
  present: Set<string>;
}

/** Read etcd's YAML config file into flag values (starting from etcd's defaults). */
export function readConfigFile(path: string): ConfigFileContents {
  const doc = readDocument(path);
  const values = new FlagValues();
  const present = applyKeys(values, doc, configKeys, 'configYAML');
  convertLists(values, present);
  for (const name of applyKeys(values, doc, proxyKeys, 'configProxy')) present.add(name);
  for (const key of ['proxy', 'discovery-fallback']) {
    if (!present.has(key) || values.str(key) === '') {
      values.put(key, key === 'proxy' ? 'off' : 'proxy');
      continue;
    }
    const valid = key === 'proxy' ? ['off', 'readonly', 'on'] : ['proxy', 'exit'];
    if (!valid.includes(values.str(key))) {
      const what = key === 'proxy' ? 'proxyFlag' : 'discovery-fallback flag';
      throw new ConfigFileError(`unexpected error setting up ${what}: invalid value`, true);
    }
  }
  return { values, present };
}

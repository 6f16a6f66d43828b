// etcd 3.4's server flag table (etcdmain/config.go) and how a value is read from the command line
// and from ETCD_* environment variables (pkg/flags). Every flag etcd 3.4 accepts is declared here
// with etcd's default and value syntax, so an etcd command line or environment is accepted as is;
// src/cli/config.ts turns the values into a ServerConfig and validates them.
import {
  GoValueError,
  goQuote,
  parseFlagArgs,
  parseGoBool,
  parseGoDuration,
  parseGoInt,
  parseGoUint,
} from './flags.js';
import type { FlagSpec } from './flags.js';
import { parseUrlList, urlToString } from './config-urls.js';

export type FlagKind =
  | 'string'
  | 'bool'
  | 'uint'
  | 'uint64'
  | 'int'
  | 'int64'
  | 'uint32'
  | 'duration'
  | 'urls'
  | 'cors'
  | 'select'
  | 'strings'
  | 'uniqueStrings'
  | 'ignored';

export interface FlagDef {
  name: string;
  kind: FlagKind;
  /** etcd's default, in command-line syntax. */
  def: string;
  valids?: readonly string[];
}

/** A flag's current value: numbers are bigint (Go integers), durations are nanoseconds (bigint). */
export type FlagValue = string | boolean | bigint | URL[] | string[];

const f = (name: string, kind: FlagKind, def = '', valids?: readonly string[]): FlagDef =>
  valids === undefined ? { name, kind, def } : { name, kind, def, valids };

/** The flags of etcd 3.4.23's `etcd` command, with etcd's defaults. */
export const flagDefs: readonly FlagDef[] = [
  f('config-file', 'string'),
  f('data-dir', 'string'),
  f('wal-dir', 'string'),
  f('listen-peer-urls', 'urls', 'http://localhost:2380'),
  f('listen-client-urls', 'urls', 'http://localhost:2379'),
  f('listen-metrics-urls', 'urls'),
  f('max-snapshots', 'uint', '5'),
  f('max-wals', 'uint', '5'),
  f('name', 'string', 'default'),
  f('snapshot-count', 'uint64', '100000'),
  f('heartbeat-interval', 'uint', '100'),
  f('election-timeout', 'uint', '1000'),
  f('initial-election-tick-advance', 'bool', 'true'),
  f('quota-backend-bytes', 'int64', '0'),
  f('backend-batch-interval', 'duration', '0'),
  f('backend-batch-limit', 'int', '0'),
  f('max-txn-ops', 'uint', '128'),
  f('max-request-bytes', 'uint', '1572864'),
  f('grpc-keepalive-min-time', 'duration', '5s'),
  f('grpc-keepalive-interval', 'duration', '2h'),
  f('grpc-keepalive-timeout', 'duration', '20s'),
  f('max-concurrent-streams', 'uint32', '4294967295'),
  f('initial-advertise-peer-urls', 'urls', 'http://localhost:2380'),
  f('advertise-client-urls', 'urls', 'http://localhost:2379'),
  f('discovery', 'string'),
  f('discovery-fallback', 'select', 'proxy', ['proxy', 'exit']),
  f('discovery-proxy', 'string'),
  f('discovery-srv', 'string'),
  f('discovery-srv-name', 'string'),
  f('initial-cluster', 'string', 'default=http://localhost:2380'),
  f('initial-cluster-token', 'string', 'etcd-cluster'),
  f('initial-cluster-state', 'select', 'new', ['new', 'existing']),
  f('strict-reconfig-check', 'bool', 'true'),
  f('enable-v2', 'bool', 'false'),
  f('pre-vote', 'bool', 'false'),
  f('proxy', 'select', 'off', ['off', 'readonly', 'on']),
  f('proxy-failure-wait', 'uint', '5000'),
  f('proxy-refresh-interval', 'uint', '30000'),
  f('proxy-dial-timeout', 'uint', '1000'),
  f('proxy-write-timeout', 'uint', '5000'),
  f('proxy-read-timeout', 'uint', '0'),
  f('cert-file', 'string'),
  f('key-file', 'string'),
  f('client-cert-auth', 'bool', 'false'),
  f('client-crl-file', 'string'),
  f('client-cert-allowed-hostname', 'string'),
  f('trusted-ca-file', 'string'),
  f('auto-tls', 'bool', 'false'),
  f('peer-cert-file', 'string'),
  f('peer-key-file', 'string'),
  f('peer-client-cert-auth', 'bool', 'false'),
  f('peer-trusted-ca-file', 'string'),
  f('peer-auto-tls', 'bool', 'false'),
  f('peer-crl-file', 'string'),
  f('peer-cert-allowed-cn', 'string'),
  f('peer-cert-allowed-hostname', 'string'),
  f('cipher-suites', 'strings'),
  f('experimental-peer-skip-client-san-verification', 'bool', 'false'),
  f('cors', 'cors', '*'),
  f('host-whitelist', 'uniqueStrings', '*'),
  f('logger', 'string', 'capnslog'),
  f('log-output', 'uniqueStrings', 'default'),
  f('log-outputs', 'uniqueStrings', 'default'),
  f('debug', 'bool', 'false'),
  f('log-level', 'string', 'info'),
  f('log-package-levels', 'string'),
  f('version', 'bool', 'false'),
  f('auto-compaction-retention', 'string', '0'),
  f('auto-compaction-mode', 'string', 'periodic'),
  f('enable-pprof', 'bool', 'false'),
  f('metrics', 'string', 'basic'),
  f('auth-token', 'string', 'simple'),
  f('bcrypt-cost', 'uint', '10'),
  f('auth-token-ttl', 'uint', '300'),
  f('enable-grpc-gateway', 'bool', 'true'),
  f('experimental-initial-corrupt-check', 'bool', 'false'),
  f('experimental-corrupt-check-time', 'duration', '0'),
  f('experimental-enable-v2v3', 'string'),
  f('experimental-backend-bbolt-freelist-type', 'string'),
  f('experimental-enable-lease-checkpoint', 'bool', 'false'),
  f('experimental-enable-lease-checkpoint-persist', 'bool', 'false'),
  f('experimental-compaction-batch-limit', 'int', '0'),
  f('experimental-watch-progress-notify-interval', 'duration', '0'),
  f('experimental-warning-apply-duration', 'duration', '100ms'),
  f('unsafe-no-fsync', 'bool', 'false'),
  f('force-new-cluster', 'bool', 'false'),
  ...[
    'cluster-active-size',
    'cluster-remove-delay',
    'cluster-sync-interval',
    'config',
    'force',
    'max-result-buffer',
    'max-retry-attempts',
    'peer-heartbeat-interval',
    'peer-election-timeout',
    'retry-interval',
    'snapshot',
    'v',
    'vv',
  ].map((name) => f(name, 'ignored')),
];

const defsByName = new Map(flagDefs.map((d) => [d.name, d]));

export function flagDef(name: string): FlagDef | undefined {
  return defsByName.get(name);
}

/** Flag values by name, starting from etcd's defaults. */
export class FlagValues {
  private readonly values = new Map<string, FlagValue>();
  /** Warnings produced while setting values (flags etcd ignores). */
  readonly warnings: string[] = [];

  constructor() {
    for (const d of flagDefs) {
      if (d.kind === 'ignored') continue;
      if (d.kind === 'cors') this.values.set(d.name, [d.def]);
      else if (d.kind === 'urls') this.values.set(d.name, d.def === '' ? [] : this.parse(d, d.def));
      else this.set(d.name, d.def);
    }
  }

  /** Go's flag.Value.Set for this flag; throws with Go's reason text. */
  set(name: string, text: string): void {
    const d = defsByName.get(name);
    if (d === undefined) throw new Error(`no such flag -${name}`);
    if (d.kind === 'ignored') {
      this.warnings.push(`flag ${goQuote(`-${name}`)} is no longer supported - ignoring.`);
      return;
    }
    if (d.kind === 'urls' && text === '') return;
    if (d.kind === 'cors' && text === '*') {
      this.values.set(name, [...new Set([...this.strings(name), '*'])].sort());
      return;
    }
    this.values.set(name, this.parse(d, text));
  }

  /** Store a value decoded elsewhere (the config file). */
  put(name: string, value: FlagValue): void {
    this.values.set(name, value);
  }

  private parse(d: FlagDef, text: string): FlagValue {
    switch (d.kind) {
      case 'string':
        return text;
      case 'bool':
        return goStd(() => parseGoBool(text));
      case 'uint':
      case 'uint64':
        return goStd(() => parseGoUint(text, 64));
      case 'int':
      case 'int64':
        return goStd(() => parseGoInt(text, 64));
      case 'uint32':
        return parseGoUint(text, 32);
      case 'duration':
        return goStd(() => parseGoDuration(text));
      case 'urls':
        return parseUrlList(text.split(','));
      case 'cors':
        return [...new Set(parseUrlList(text.split(',')).map(urlToString))].sort();
      case 'select':
        if (!(d.valids ?? []).includes(text)) throw new Error('invalid value');
        return text;
      case 'strings':
        return text.split(',');
      case 'uniqueStrings':
        return [...new Set(text.split(','))].sort();
      case 'ignored':
        return text;
    }
  }

  str(name: string): string {
    const v = this.values.get(name);
    if (typeof v !== 'string') throw new Error(`flag ${name} is not a string`);
    return v;
  }
  bool(name: string): boolean {
    const v = this.values.get(name);
    if (typeof v !== 'boolean') throw new Error(`flag ${name} is not a bool`);
    return v;
  }
  int(name: string): bigint {
    const v = this.values.get(name);
    if (typeof v !== 'bigint') throw new Error(`flag ${name} is not an integer`);
    return v;
  }
  urls(name: string): URL[] {
    const v = this.values.get(name);
    if (!Array.isArray(v)) throw new Error(`flag ${name} is not a list`);
    return v.filter((x): x is URL => x instanceof URL);
  }
  strings(name: string): string[] {
    const v = this.values.get(name);
    if (!Array.isArray(v)) throw new Error(`flag ${name} is not a list`);
    return v.filter((x): x is string => typeof x === 'string');
  }
}

/** Go 1.19's standard flag types report only "parse error" / "value out of range". */
function goStd<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof GoValueError)
      throw new Error(e.reason === 'range' ? 'value out of range' : 'parse error');
    throw e;
  }
}

export type CommandLine =
  | { kind: 'ok'; values: FlagValues; setNames: Set<string>; positional: string[] }
  | { kind: 'help' }
  | { kind: 'error'; message: string };

/** Parse argv against etcd's flag table, Go-style. */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  const values = new FlagValues();
  const lookup = (name: string): FlagSpec | undefined => {
    const d = defsByName.get(name);
    if (d === undefined) return undefined;
    return { name, isBool: d.kind === 'bool' || d.kind === 'ignored', set: (v) => values.set(name, v) };
  };
  const out = parseFlagArgs(argv, lookup);
  if (out.kind !== 'ok') return out;
  return { kind: 'ok', values, setNames: new Set(out.setNames), positional: out.positional };
}

/** pkg/flags.FlagToEnv: `listen-client-urls` → `ETCD_LISTEN_CLIENT_URLS`. */
export function flagToEnv(name: string): string {
  return `ETCD_${name.replaceAll('-', '_').toUpperCase()}`;
}

export interface EnvOutcome {
  notices: string[];
  warnings: string[];
  /** A fatal conflict (env var shadowed by a command-line flag), in etcd's words. */
  conflict?: string;
  /** The last env value that failed to parse, in etcd's words. */
  error?: string;
}

/** pkg/flags.SetFlagsFromEnv: fill flags not set on the command line from ETCD_* variables. */
export function applyEnv(
  values: FlagValues,
  setNames: Set<string>,
  env: Record<string, string | undefined>,
): EnvOutcome {
  const out: EnvOutcome = { notices: [], warnings: [] };
  const alreadySet = new Set([...setNames].map(flagToEnv));
  const used = new Set<string>();
  const sorted = [...flagDefs].sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const d of sorted) {
    const key = flagToEnv(d.name);
    const val = env[key];
    if (alreadySet.has(key) || val === undefined || val === '') continue;
    used.add(key);
    const before = values.warnings.length;
    try {
      values.set(d.name, val);
      setNames.add(d.name);
      out.notices.push(`recognized and used environment variable ${key}=${val}`);
    } catch (e) {
      out.error = `invalid value ${goQuote(val)} for ${key}: ${(e as Error).message}`;
    }
    out.warnings.push(...values.warnings.splice(before));
  }
  for (const [key, val] of Object.entries(env)) {
    if (val === undefined || used.has(key)) continue;
    if (alreadySet.has(key)) {
      out.conflict = `conflicting environment variable ${goQuote(key)} is shadowed by corresponding command-line flag (either unset environment variable or disable flag)`;
      break;
    }
    if (key.startsWith('ETCD_')) out.warnings.push(`unrecognized environment variable ${key}=${val}`);
  }
  return out;
}

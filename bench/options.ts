// Command-line flags of `npm run bench` (node dist/bench/run.js). Every default is written here
// once; --quick only shortens the run (for a smoke test), it never changes the load shapes.

export type ServerName = 'etcd' | 'ketch';
export type LoadId = 'put-1' | 'put-100' | 'range-l' | 'range-s';
export const LOAD_IDS: readonly LoadId[] = ['put-1', 'put-100', 'range-l', 'range-s'];
/** Cluster sizes the benchmark can start (odd, as etcd recommends). */
export const MEMBER_COUNTS: readonly number[] = [1, 3, 5];

export interface BenchOptions {
  servers: ServerName[];
  /** Cluster sizes to measure, ascending; each gets its own table. */
  members: number[];
  loads: LoadId[];
  durationSec: number;
  maxRequests: number;
  warmupRequests: number;
  rssPuts: number;
  fill: number;
  repeat: number;
  waitQuietSec: number;
  clients: number;
  conns: number;
  workers: number;
  client: 'raw' | 'http2';
  keySize: number;
  valueSize: number;
  keySpace: number;
  etcdBin: string;
  ketchBin: string;
  json: boolean;
  quick: boolean;
  keepData: boolean;
  help: boolean;
}

/** Usage lines of the flags in CommonOptions (--wait-quiet and --quick are told per command). */
export const COMMON_USAGE = `  --etcd-bin PATH       default /usr/bin/etcd
  --ketch-bin PATH      default <repo>/bin/ketch
  --json                print the results as JSON instead of Markdown
  --keep-data           keep the servers' temp dirs and logs`;

/** Defaults of CommonOptions but waitQuietSec. */
export function commonDefaults(repoRoot: string): Omit<CommonOptions, 'waitQuietSec'> {
  return {
    etcdBin: '/usr/bin/etcd',
    ketchBin: `${repoRoot}/bin/ketch`,
    json: false,
    quick: false,
    keepData: false,
    help: false,
  };
}

export const USAGE = `usage: npm run bench -- [flags]   (or: node dist/bench/run.js [flags])
       npm run bench -- raft    (raft core in memory + WAL group commit vs raw fdatasync)
       npm run bench -- watch   (watch event latency and idle-watcher RSS; watch --help for its flags)
  --only etcd|ketch     run one server only (default: both, one after the other)
  --members N           cluster size: 1, 3 or 5, or a list such as 1,3 (default 1,3: a table
                        for single-member servers, then one for 3-member clusters on loopback
                        whose members the loads' connections are spread over round-robin)
  --quick               smoke run: 2 s / 20,000 requests per load, 5,000 puts before the RSS reading
  --duration SEC        time limit of each load (default 10)
  --requests N          request limit of each load, whichever comes first (default 300000)
  --warmup N            untimed requests before each load, same shape (default 2000)
  --rss-puts N          peak RSS is read after N puts, in a server process of its own
                        (default 50000; 0 skips it; single-member runs only)
  --fill N              puts into each load's fresh server before the load (default 0)
  --repeat N            runs of each load per server, each on a fresh server, servers
                        alternating; the median run is reported (default 3; 1 with --quick)
  --wait-quiet SEC      before each load, wait up to SEC for other processes to use less than
                        a quarter of a core (default 30; 0 with --quick)
  --loads LIST          comma-separated subset of ${LOAD_IDS.join(',')}
  --clients N --conns N shape of the concurrent loads (default 100 clients over 10 connections)
  --workers N           load generator threads (default 2)
  --client raw|http2    raw HTTP/2 frames on node:net (default) or node:http2
  --key-size N          key length in bytes, 8..16 (default 8)
  --value-size N        value length in bytes (default 256)
  --key-space N         number of distinct put keys (default 1000000)
${COMMON_USAGE}`;

export function defaultOptions(repoRoot: string): BenchOptions {
  return {
    servers: ['etcd', 'ketch'],
    members: [1, 3],
    loads: [...LOAD_IDS],
    durationSec: 10,
    maxRequests: 300_000,
    warmupRequests: 2000,
    rssPuts: 50_000,
    fill: 0,
    repeat: 3,
    waitQuietSec: 30,
    clients: 100,
    conns: 10,
    workers: 2,
    client: 'raw',
    keySize: 8,
    valueSize: 256,
    keySpace: 1_000_000,
    ...commonDefaults(repoRoot),
  };
}

/** The flags every bench command (the main run and `watch`) takes, with the same meaning. */
export interface CommonOptions {
  waitQuietSec: number;
  etcdBin: string;
  ketchBin: string;
  json: boolean;
  quick: boolean;
  keepData: boolean;
  help: boolean;
}

/** Parses `v` as an integer flag value in [min, max] (`_` separators allowed); throws otherwise. */
export function intFlag(name: string, v: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`--${name} wants an integer in [${min}, ${max}], got '${v}'`);
  return n;
}

/** The number-valued fields of T. */
type NumberField<T> = { [K in keyof T]: T[K] extends number ? K : never }[keyof T];

/** A --quick default: with --quick and without an explicit `--flag`, `field` becomes `value`. */
export type QuickDefault<T> = readonly [flag: string, field: NumberField<T>, value: number];

/**
 * Applies `argv` (`--flag value` or `--flag=value`) to `o`: the common flags here, the rest through
 * `apply`, which throws on a name it does not know; then, with --quick, the `quick` defaults of
 * the flags not given explicitly.
 */
export function parseFlags<T extends CommonOptions>(
  argv: readonly string[],
  o: T,
  apply: (o: T, name: string, value: () => string) => void,
  quick: readonly QuickDefault<T>[],
): void {
  const explicit = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument '${arg}'`);
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    const value = (): string => {
      if (eq >= 0) return arg.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new Error(`--${name} needs a value`);
      return v;
    };
    explicit.add(name);
    if (!applyCommonFlag(o, name, value)) apply(o, name, value);
  }
  if (!o.quick) return;
  for (const [flag, field, value] of quick) if (!explicit.has(flag)) o[field] = value as T[NumberField<T>];
}

function applyCommonFlag(o: CommonOptions, name: string, value: () => string): boolean {
  switch (name) {
    case 'wait-quiet':
      o.waitQuietSec = intFlag(name, value(), 0, 3600);
      return true;
    case 'etcd-bin':
      o.etcdBin = value();
      return true;
    case 'ketch-bin':
      o.ketchBin = value();
      return true;
    case 'json':
    case 'quick':
    case 'keep-data':
    case 'help':
      o[name === 'keep-data' ? 'keepData' : name] = true;
      return true;
    default:
      return false;
  }
}

/**
 * Parses a command's flags with `parse`. On a bad flag prints the error and `usage` and sets exit
 * code 2; on --help prints `usage`. Returns the options only when the command should run.
 */
export function optionsOrExit<T extends { help: boolean }>(parse: () => T, usage: string): T | null {
  let o: T;
  try {
    o = parse();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${usage}\n`);
    process.exitCode = 2;
    return null;
  }
  if (o.help) {
    process.stdout.write(`${usage}\n`);
    return null;
  }
  return o;
}

/** Parses flags (`--flag value` or `--flag=value`); throws with a message on anything unknown. */
export function parseOptions(argv: readonly string[], repoRoot: string): BenchOptions {
  const o = defaultOptions(repoRoot);
  parseFlags(argv, o, applyFlag, [
    ['duration', 'durationSec', 2],
    ['requests', 'maxRequests', 20_000],
    ['warmup', 'warmupRequests', 500],
    ['rss-puts', 'rssPuts', 5000],
    ['wait-quiet', 'waitQuietSec', 0],
    ['repeat', 'repeat', 1],
  ]);
  if (o.clients < o.conns) throw new Error('--clients must be at least --conns');
  return o;
}

function applyFlag(o: BenchOptions, name: string, value: () => string): void {
  switch (name) {
    case 'only': {
      const v = value();
      if (v !== 'etcd' && v !== 'ketch') throw new Error(`--only wants etcd or ketch, got '${v}'`);
      o.servers = [v];
      return;
    }
    case 'members': {
      const v = value();
      const counts = v.split(',').filter((x) => x !== '');
      for (const c of counts)
        if (!MEMBER_COUNTS.map(String).includes(c))
          throw new Error(`--members wants ${MEMBER_COUNTS.join(', ')} or a list of them, got '${v}'`);
      if (counts.length === 0) throw new Error(`--members needs a cluster size`);
      o.members = MEMBER_COUNTS.filter((n) => counts.includes(String(n)));
      return;
    }
    case 'loads': {
      const ids = value()
        .split(',')
        .filter((s) => s !== '');
      for (const id of ids) if (!LOAD_IDS.includes(id as LoadId)) throw new Error(`unknown load '${id}'`);
      o.loads = LOAD_IDS.filter((id) => ids.includes(id));
      return;
    }
    case 'client': {
      const v = value();
      if (v !== 'raw' && v !== 'http2') throw new Error(`--client wants raw or http2, got '${v}'`);
      o.client = v;
      return;
    }
    case 'duration':
      o.durationSec = intFlag(name, value(), 1, 3600);
      return;
    case 'requests':
      o.maxRequests = intFlag(name, value(), 1, 1e9);
      return;
    case 'warmup':
      o.warmupRequests = intFlag(name, value(), 0, 1e7);
      return;
    case 'rss-puts':
      o.rssPuts = intFlag(name, value(), 0, 1e8);
      return;
    case 'repeat':
      o.repeat = intFlag(name, value(), 1, 100);
      return;
    case 'fill':
      o.fill = intFlag(name, value(), 0, 1e8);
      return;
    case 'clients':
      o.clients = intFlag(name, value(), 1, 100_000);
      return;
    case 'conns':
      o.conns = intFlag(name, value(), 1, 10_000);
      return;
    case 'workers':
      o.workers = intFlag(name, value(), 1, 64);
      return;
    case 'key-size':
      o.keySize = intFlag(name, value(), 8, 16);
      return;
    case 'value-size':
      o.valueSize = intFlag(name, value(), 0, 16_000);
      return;
    case 'key-space':
      o.keySpace = intFlag(name, value(), 1, 1e8);
      return;
    default:
      throw new Error(`unknown flag --${name}`);
  }
}

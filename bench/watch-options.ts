// Flags of `npm run bench -- watch` (node dist/bench/run.js watch ...), in the style of options.ts:
// `--flag value` or `--flag=value`, every default written here once, anything unknown an error.
// --quick only shortens the run (a smoke test); it never changes the loads' shapes.

export type WatchTarget = 'etcd' | 'ketch';
export type WatchMeasure = 'latency' | 'idle';

export interface WatchOptions {
  targets: WatchTarget[];
  measures: WatchMeasure[];
  /** Latency load: watchers on one key, over `streams` streams on `conns` connections. */
  watchers: number;
  streams: number;
  conns: number;
  rate: number;
  durationSec: number;
  warmupPuts: number;
  valueSize: number;
  /** Memory load: idle watchers over `idleStreams` streams on `idleConns` connections. */
  idleWatchers: number;
  idleStreams: number;
  idleConns: number;
  settleSec: number;
  waitQuietSec: number;
  etcdBin: string;
  ketchBin: string;
  json: boolean;
  quick: boolean;
  keepData: boolean;
  help: boolean;
}

export const WATCH_USAGE = `usage: npm run bench -- watch [flags]   (or: node dist/bench/run.js watch [flags])
  Event latency with many watchers on one key under a steady put rate, and the RSS of a server
  holding many idle watchers; etcd and ketch each on fresh processes, one after the other.
  --target etcd|ketch|both  servers to measure (default both)
  --measure LIST        latency,idle or one of them (default both)
  --watchers N          latency: watchers on the one key (default 1000)
  --streams N           latency: Watch streams they are spread over (default 10)
  --conns N             latency: connections the streams are spread over (default 10)
  --rate N              latency: puts per second (default 200)
  --duration SEC        latency: seconds of timed puts, rate × duration of them (default 10)
  --warmup N            latency: untimed puts before them, checked but not sampled (default 50)
  --value-size N        latency: value bytes, the put's number first (default 32, at least 12)
  --idle-watchers N     memory: idle watchers, each on its own key (default 100000)
  --idle-streams N      memory: Watch streams they are spread over (default 1000)
  --idle-conns N        memory: connections the streams are spread over (default 10)
  --settle SEC          memory: pause before each RSS reading (default 3)
  --wait-quiet SEC      before the latency load, wait up to SEC for other processes to use less
                        than a quarter of a core (default 30; 0 with --quick)
  --quick               smoke run: 2 s of puts, 10,000 idle watchers over 100 streams
  --etcd-bin PATH       default /usr/bin/etcd
  --ketch-bin PATH      default <repo>/bin/ketch
  --json                print the results as JSON instead of Markdown
  --keep-data           keep the servers' temp dirs and logs`;

export function defaultWatchOptions(repoRoot: string): WatchOptions {
  return {
    targets: ['etcd', 'ketch'],
    measures: ['latency', 'idle'],
    watchers: 1000,
    streams: 10,
    conns: 10,
    rate: 200,
    durationSec: 10,
    warmupPuts: 50,
    valueSize: 32,
    idleWatchers: 100_000,
    idleStreams: 1000,
    idleConns: 10,
    settleSec: 3,
    waitQuietSec: 30,
    etcdBin: '/usr/bin/etcd',
    ketchBin: `${repoRoot}/bin/ketch`,
    json: false,
    quick: false,
    keepData: false,
    help: false,
  };
}

function intFlag(name: string, v: string, min: number, max: number): number {
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`--${name} wants an integer in [${min}, ${max}], got '${v}'`);
  return n;
}

/** Latency samples the load may hold at most (watchers × timed puts), 8 bytes each. */
export const MAX_LATENCY_SAMPLES = 50_000_000;

/** Parses the flags after `watch`; throws with a message on anything unknown or inconsistent. */
export function parseWatchOptions(argv: readonly string[], repoRoot: string): WatchOptions {
  const o = defaultWatchOptions(repoRoot);
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
    applyFlag(o, name, value);
  }
  if (o.quick) {
    if (!explicit.has('duration')) o.durationSec = 2;
    if (!explicit.has('idle-watchers')) o.idleWatchers = 10_000;
    if (!explicit.has('idle-streams')) o.idleStreams = 100;
    if (!explicit.has('wait-quiet')) o.waitQuietSec = 0;
    if (!explicit.has('settle')) o.settleSec = 1;
  }
  check(o.conns <= o.streams && o.streams <= o.watchers, '--conns ≤ --streams ≤ --watchers');
  check(
    o.idleConns <= o.idleStreams && o.idleStreams <= o.idleWatchers,
    '--idle-conns ≤ --idle-streams ≤ --idle-watchers',
  );
  check(
    o.watchers * o.rate * o.durationSec <= MAX_LATENCY_SAMPLES,
    `--watchers × --rate × --duration must be at most ${MAX_LATENCY_SAMPLES}`,
  );
  return o;
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`need ${what}`);
}

function applyFlag(o: WatchOptions, name: string, value: () => string): void {
  switch (name) {
    case 'target': {
      const v = value();
      if (v !== 'etcd' && v !== 'ketch' && v !== 'both')
        throw new Error(`--target wants etcd, ketch or both, got '${v}'`);
      o.targets = v === 'both' ? ['etcd', 'ketch'] : [v];
      return;
    }
    case 'measure': {
      const v = value();
      const list = v.split(',').filter((s) => s !== '');
      for (const m of list) if (m !== 'latency' && m !== 'idle') throw new Error(`unknown measure '${m}'`);
      if (list.length === 0) throw new Error('--measure needs latency, idle or both');
      o.measures = (['latency', 'idle'] as const).filter((m) => list.includes(m));
      return;
    }
    case 'watchers':
      o.watchers = intFlag(name, value(), 1, 1_000_000);
      return;
    case 'streams':
      o.streams = intFlag(name, value(), 1, 100_000);
      return;
    case 'conns':
      o.conns = intFlag(name, value(), 1, 1000);
      return;
    case 'rate':
      o.rate = intFlag(name, value(), 1, 100_000);
      return;
    case 'duration':
      o.durationSec = intFlag(name, value(), 1, 3600);
      return;
    case 'warmup':
      o.warmupPuts = intFlag(name, value(), 0, 100_000);
      return;
    case 'value-size':
      o.valueSize = intFlag(name, value(), 12, 16_000);
      return;
    case 'idle-watchers':
      o.idleWatchers = intFlag(name, value(), 2, 10_000_000);
      return;
    case 'idle-streams':
      o.idleStreams = intFlag(name, value(), 1, 1_000_000);
      return;
    case 'idle-conns':
      o.idleConns = intFlag(name, value(), 1, 1000);
      return;
    case 'settle':
      o.settleSec = intFlag(name, value(), 0, 600);
      return;
    case 'wait-quiet':
      o.waitQuietSec = intFlag(name, value(), 0, 3600);
      return;
    case 'etcd-bin':
      o.etcdBin = value();
      return;
    case 'ketch-bin':
      o.ketchBin = value();
      return;
    case 'json':
    case 'quick':
    case 'keep-data':
    case 'help':
      o[name === 'keep-data' ? 'keepData' : name] = true;
      return;
    default:
      throw new Error(`unknown flag --${name}`);
  }
}

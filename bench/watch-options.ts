// Flags of `npm run bench -- watch` (node dist/bench/run.js watch ...), in the style of options.ts:
// `--flag value` or `--flag=value`, every default written here once, anything unknown an error.
// --quick only shortens the run (a smoke test); it never changes the loads' shapes. The flags
// both commands take, and the argv loop, are options.ts's parseFlags.
import { COMMON_USAGE, commonDefaults, type CommonOptions, intFlag, parseFlags } from './options.js';

export type WatchTarget = 'etcd' | 'ketch';
export type WatchMeasure = 'latency' | 'idle';

export interface WatchOptions extends CommonOptions {
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
${COMMON_USAGE}`;

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
    ...commonDefaults(repoRoot),
  };
}

/** Latency samples the load may hold at most (watchers × timed puts), 8 bytes each. */
export const MAX_LATENCY_SAMPLES = 50_000_000;

/** Parses the flags after `watch`; throws with a message on anything unknown or inconsistent. */
export function parseWatchOptions(argv: readonly string[], repoRoot: string): WatchOptions {
  const o = defaultWatchOptions(repoRoot);
  parseFlags(argv, o, applyFlag, [
    ['duration', 'durationSec', 2],
    ['idle-watchers', 'idleWatchers', 10_000],
    ['idle-streams', 'idleStreams', 100],
    ['wait-quiet', 'waitQuietSec', 0],
    ['settle', 'settleSec', 1],
  ]);
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
    default:
      throw new Error(`unknown flag --${name}`);
  }
}

// `npm run sim -- [--seeds N] [--seed S] [--nodes N] [--storage wal|memory] [--membership]
// [--watch] [--verbose]`: runs N
// fresh seeds (derived from a base seed printed first) or replays one seed. Prints one line per
// failing seed with the command that replays it, and last `P passed, F failed`; exits 1 on any
// failure. The only file in sim/ that touches the process (argv, stdout, exit code, entropy).
import { randomInt } from 'node:crypto';
import { runSeed, type RunOptions } from './run.js';

interface Args {
  seeds: number;
  seed?: number;
  nodes?: number;
  storage: 'wal' | 'memory';
  membership: boolean;
  watch: boolean;
  verbose: boolean;
}

function usage(msg: string): never {
  process.stderr.write(
    `${msg}\nusage: sim [--seeds N] [--seed S] [--nodes 1-7] [--storage wal|memory] [--membership] [--watch] [--verbose]\n`,
  );
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const a: Args = { seeds: 100, storage: 'wal', membership: false, watch: false, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const val = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isSafeInteger(v) || v < 0) usage(`${flag} needs a non-negative integer`);
      return v;
    };
    if (flag === '--seeds') a.seeds = val();
    else if (flag === '--seed') a.seed = val();
    else if (flag === '--nodes') {
      a.nodes = val();
      if (a.nodes < 1 || a.nodes > 7) usage('--nodes must be 1..7');
    } else if (flag === '--storage') {
      const s = argv[++i];
      if (s !== 'wal' && s !== 'memory') usage('--storage must be wal or memory');
      a.storage = s;
    } else if (flag === '--membership') a.membership = true;
    else if (flag === '--watch') a.watch = true;
    else if (flag === '--verbose') a.verbose = true;
    else usage(`unknown argument ${flag}`);
  }
  return a;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const extra = `${args.nodes !== undefined ? ` --nodes ${args.nodes}` : ''}${args.storage !== 'wal' ? ` --storage ${args.storage}` : ''}${args.membership ? ' --membership' : ''}${args.watch ? ' --watch' : ''}`;
  const opts: RunOptions = {
    nodes: args.nodes,
    storage: args.storage,
    membership: args.membership,
    watch: args.watch,
  };
  if (args.verbose) opts.log = (line) => process.stdout.write(`${line}\n`);
  const seeds: number[] = [];
  if (args.seed !== undefined) seeds.push(args.seed);
  else {
    const base = randomInt(0, 2 ** 31);
    process.stdout.write(`base seed ${base}: seeds ${base}..${base + args.seeds - 1}\n`);
    for (let i = 0; i < args.seeds; i++) seeds.push(base + i);
  }
  const totals = new Map<string, number>();
  let passed = 0;
  let failed = 0;
  const started = performance.now();
  for (const seed of seeds) {
    const r = await runSeed(seed, opts);
    if (r.ok) passed++;
    else {
      failed++;
      process.stdout.write(
        `seed ${seed} FAILED (replay: npm run sim -- --seed ${seed}${extra}): ${r.failure}\n`,
      );
    }
    for (const [k, v] of Object.entries(r.stats)) totals.set(k, (totals.get(k) ?? 0) + Number(v));
    if (args.verbose || seeds.length === 1) {
      const s = r.stats;
      process.stdout.write(
        `seed ${seed}: ${s.nodes} nodes, ${s.units} units, ${s.leaders} leaders, committed ${s.maxCommitted}, ` +
          `${s.acked} acked, ${s.crashes} crashes, ${s.partitions} partition changes, ${s.messages} messages` +
          (args.watch
            ? `; ${s.revisions} revisions, ${s.mvccCompactions} mvcc compactions, ${s.watches} watches, ${s.watchEvents} events read\n`
            : '\n'),
      );
    }
  }
  const ms = performance.now() - started;
  const t = (k: string): number => totals.get(k) ?? 0;
  process.stdout.write(
    `totals: ${t('leaders')} leaders, ${t('crashes')} crashes (${t('leaderFaults')} leader faults), ${t('pauses')} pauses, ` +
      `${t('diskFaults')} disk faults, ${t('walRepairs')} torn WAL tails repaired, ${t('partitions')} partition changes, ` +
      `${t('snapshotsSent')} snapshots sent, ${t('snapshotsRestored')} restored, ${t('compactions')} compactions, ${t('confChanges')} membership changes, ` +
      `${t('acked')} acknowledged operations; ${(ms / seeds.length).toFixed(0)} ms per seed\n`,
  );
  if (args.watch) {
    process.stdout.write(
      `watch: ${t('revisions')} revisions, ${t('mvccCompactions')} mvcc compactions, ${t('watches')} watches, ${t('watchResumes')} resumptions, ` +
        `${t('watchEvents')} events read, ${t('watchRefusals')} refused deliveries, ${t('watchCompacted')} watches compacted\n`,
    );
  }
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  process.exitCode = failed > 0 ? 1 : 0;
}

await main();

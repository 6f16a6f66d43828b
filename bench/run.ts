// `npm run bench`: starts real etcd and ketch one at a time with the same flags (as single
// servers, then as 3-member clusters on loopback, by default), runs the same loads against each
// with the load generator of this folder (measure.ts), and prints a Markdown table per cluster
// size (or JSON with --json) of requests/s, p50/p99 latency, the ketch/etcd ratio, peak RSS
// after the fill puts (single member), and CPU time of server and generator. Exit status 1 if anything failed or
// any request got an error, so a broken run can never pass for a measurement.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LoadGenerator } from './load-runner.js';
import { runBench, versionOf, type ServerUnderTest } from './schedule.js';
import { stopAllServers } from './servers.js';
import { optionsOrExit, parseOptions, USAGE, type BenchOptions } from './options.js';
import { runRaftBench } from './raft.js';
import { runWatchBench } from './watch.js';
import { runLeaseBench } from './lease.js';
import { countFailures, machineInfo, renderMarkdown, type BenchReport } from './report.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

const progress = (msg: string): void => void process.stderr.write(`${msg}\n`);

const shellQuote = (a: string): string => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

/** The command as the user typed it (npm run bench -- ...) and the node command it runs. */
export function commands(argv: string[], viaNpm: boolean): { command: string; nodeCommand: string } {
  const args = argv.map(shellQuote).join(' ');
  const nodeCommand = `node dist/bench/run.js${args ? ` ${args}` : ''}`;
  return { nodeCommand, command: viaNpm ? `npm run bench${args ? ` -- ${args}` : ''}` : nodeCommand };
}

function runVersion(bin: string): string {
  return execFileSync(bin, ['--version'], {
    encoding: 'utf8',
    timeout: 10_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function newReport(o: BenchOptions, argv: string[]): BenchReport {
  const { command, nodeCommand } = commands(argv, process.env.npm_lifecycle_event === 'bench');
  return {
    command,
    nodeCommand,
    startedAt: new Date().toISOString(),
    machine: machineInfo(),
    settings: {
      durationSec: o.durationSec,
      maxRequests: o.maxRequests,
      warmupRequests: o.warmupRequests,
      rssPuts: o.rssPuts,
      fill: o.fill,
      repeat: o.repeat,
      members: o.members,
      clients: o.clients,
      conns: o.conns,
      workers: o.workers,
      client: o.client,
      keySize: o.keySize,
      valueSize: o.valueSize,
      keySpace: o.keySpace,
    },
    servers: [],
  };
}

/** On SIGINT/SIGTERM, stops the servers under test before exiting. */
function stopServersOnSignals(): void {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      progress(`bench: ${sig}, stopping the servers under test`);
      void stopAllServers().finally(() => process.exit(130));
    });
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === 'raft') {
    await runRaftBench(commands(argv, process.env.npm_lifecycle_event === 'bench').command);
    return;
  }
  if (argv[0] === 'watch') {
    stopServersOnSignals();
    await runWatchBench(
      argv.slice(1),
      commands(argv, process.env.npm_lifecycle_event === 'bench').command,
      REPO_ROOT,
    );
    return;
  }
  if (argv[0] === 'lease') {
    stopServersOnSignals();
    await runLeaseBench(
      argv.slice(1),
      commands(argv, process.env.npm_lifecycle_event === 'bench').command,
      REPO_ROOT,
    );
    return;
  }
  const o = optionsOrExit(() => parseOptions(argv, REPO_ROOT), USAGE);
  if (o === null) return;
  const report = newReport(o, argv);
  progress(`command: ${report.command}`);
  const servers: ServerUnderTest[] = o.servers.map((name) => {
    const bin = name === 'etcd' ? o.etcdBin : o.ketchBin;
    const version = versionOf(bin, runVersion);
    progress(`[${name}] ${bin}: ${version}`);
    return { name, bin, version };
  });
  const gen = new LoadGenerator(o.workers, o.client);
  stopServersOnSignals();
  try {
    report.servers = await runBench(servers, o, gen, progress);
  } finally {
    await gen.close();
  }
  process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : renderMarkdown(report));
  const failures = countFailures(report);
  if (failures > 0) progress(`bench: ${failures} failures or errors (see above); exit status 1`);
  process.exitCode = failures > 0 ? 1 : 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();

// The order of a benchmark run: for each cluster size (1 member, then 3, ...), the RSS reading
// (single member only) and each load. Every measurement gets a fresh server process or cluster
// (new temp data dirs, new ports), so a figure does not depend on which loads ran before it. Each load is run
// `repeat` times per server, alternating servers (etcd, ketch, etcd, ketch, ...) so that a slow
// drift of the machine hits both alike, and the run with the median requests/s is reported with
// the spread of all runs beside it: etcd 3.4's own rate varies by up to 2-3x from one process to
// the next on this machine (its per-request CPU changes, e.g. with the size of the read buffer it
// copies on every read), and a single run would hide that.
import type { LoadGenerator } from './load-runner.js';
import { LoadSession, loadShape, type Progress } from './measure.js';
import type { BenchOptions, ServerName } from './options.js';
import type { ErrorSample } from './load-protocol.js';
import { noisy, type LoadReport, type ServerReport } from './report.js';
import { ServerCluster } from './cluster.js';

const READY_TIMEOUT_MS = 60_000;

export interface ServerUnderTest {
  name: ServerName;
  bin: string;
  version: string;
}

export function versionOf(bin: string, run: (bin: string) => string): string {
  try {
    return run(bin).split('\n')[0]?.trim() || 'unknown version';
  } catch (err) {
    return `--version failed: ${(err as Error).message.split('\n')[0]}`;
  }
}

/**
 * Starts a fresh server (a cluster of `rep.members`), runs `body` against it, stops every member.
 * Returns false (with `rep.failed` set) when the server would not start or `body` failed.
 */
async function withServer(
  rep: ServerReport,
  bin: string,
  o: BenchOptions,
  purpose: string,
  say: Progress,
  body: (s: ServerCluster) => Promise<void>,
): Promise<boolean> {
  let server: ServerCluster;
  try {
    server = await ServerCluster.start(rep.name, bin, rep.members, READY_TIMEOUT_MS);
  } catch (err) {
    rep.failed = (err as Error).message;
    say(`failed to start: ${rep.failed}`);
    return false;
  }
  if (rep.command === bin) rep.command = server.commandLine;
  say(
    server.size === 1
      ? `started pid ${server.pids[0]} on port ${server.ports[0]} for ${purpose}`
      : `started pids ${server.pids.join(',')} on ports ${server.ports.join(',')}, leader ${server.leaderName}, for ${purpose}`,
  );
  try {
    await body(server);
  } catch (err) {
    rep.failed = (err as Error).message;
    say(`failed: ${rep.failed}`);
  } finally {
    await server.stop(10_000, o.keepData);
    if (o.keepData) say(`data and logs kept in ${server.tmpDirs.join(' ')}`);
  }
  return rep.failed === undefined;
}

/**
 * The run with the median requests/s (the lower middle one for an even count) among the runs
 * that other processes did not disturb (among all runs if every one was disturbed); errors are
 * summed over all runs, so none is hidden.
 */
export function combineRuns(runs: readonly LoadReport[]): LoadReport {
  if (runs.length === 0) throw new Error('no runs to combine');
  const quiet = runs.filter((r) => !noisy(r));
  const pool = quiet.length > 0 ? quiet : runs;
  const sorted = [...pool].sort((a, b) => a.requestsPerSec - b.requestsPerSec);
  const median = sorted[Math.floor((sorted.length - 1) / 2)] as LoadReport;
  const samples = new Map<string, ErrorSample>();
  for (const r of runs) {
    for (const e of r.errorSamples) {
      const key = `${e.status} ${e.message}`;
      const prev = samples.get(key);
      if (prev !== undefined) prev.count += e.count;
      else samples.set(key, { ...e });
    }
  }
  return {
    ...median,
    errors: runs.reduce((n, r) => n + r.errors, 0),
    errorSamples: [...samples.values()],
    runsPerSec: pool.map((r) => r.requestsPerSec),
    noisyRunsPerSec: runs.filter((r) => !pool.includes(r)).map((r) => r.requestsPerSec),
    ...(runs.some((r) => r.leader !== undefined) ? { runLeaders: runs.map((r) => r.leader ?? '?') } : {}),
  };
}

/**
 * For each cluster size in `o.members`: the RSS reading (single member only) and every selected
 * load against each server; returns one report per server and cluster size.
 */
export async function runBench(
  servers: readonly ServerUnderTest[],
  o: BenchOptions,
  gen: LoadGenerator,
  progress: Progress,
): Promise<ServerReport[]> {
  const out: ServerReport[] = [];
  for (const members of o.members) out.push(...(await runSize(servers, members, o, gen, progress)));
  return out;
}

async function runSize(
  servers: readonly ServerUnderTest[],
  members: number,
  o: BenchOptions,
  gen: LoadGenerator,
  progress: Progress,
): Promise<ServerReport[]> {
  const reps = servers.map((s): ServerReport => ({
    name: s.name,
    members,
    command: s.bin,
    version: s.version,
    loads: [],
    rss: null,
    problems: [],
  }));
  const tag = members === 1 ? '' : ` ×${members}`;
  const say =
    (i: number): Progress =>
    (m) =>
      progress(`[${reps[i]?.name}${tag}] ${m}`);
  if (o.rssPuts > 0 && members === 1) {
    for (const [i, s] of servers.entries()) {
      const rep = reps[i] as ServerReport;
      await withServer(rep, s.bin, o, 'the RSS reading', say(i), (server) =>
        new LoadSession(server, rep, o, gen, say(i)).measureRss(),
      );
    }
  }
  for (const id of o.loads) {
    const runs: LoadReport[][] = servers.map(() => []);
    for (let round = 1; round <= o.repeat; round++) {
      for (const [i, s] of servers.entries()) {
        const rep = reps[i] as ServerReport;
        if (rep.failed !== undefined) continue;
        const purpose = `${loadShape(id, o).title} (run ${round} of ${o.repeat})`;
        await withServer(rep, s.bin, o, purpose, say(i), async (server) => {
          runs[i]?.push(await new LoadSession(server, rep, o, gen, say(i)).measure(id));
        });
      }
    }
    runs.forEach((r, i) => {
      if (r.length > 0) reps[i]?.loads.push(combineRuns(r));
    });
  }
  return reps;
}

// Process and machine counters from Linux /proc, for the benchmark's CPU and memory columns:
// a server's CPU time (utime + stime of /proc/PID/stat, all threads; summed over a cluster's
// member processes) and peak RSS (VmHWM of
// /proc/PID/status), and the machine's busy time (/proc/stat) so that CPU used by processes
// other than the server and the load generator can be shown beside each load.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let clockTicks: number | null = null;

/** USER_HZ, the unit of /proc CPU times (almost always 100). */
export function clockTicksPerSecond(): number {
  if (clockTicks === null) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** utime + stime in seconds from the text of /proc/PID/stat. */
export function parseStatCpuSeconds(stat: string, ticksPerSecond: number): number {
  // The command name (field 2) may contain spaces and parentheses; fields resume after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so utime (field 14) is rest[11] and stime (field 15) is rest[12].
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('unreadable /proc/PID/stat');
  return (utime + stime) / ticksPerSecond;
}

export function processCpuSeconds(pid: number): number {
  return parseStatCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'), clockTicksPerSecond());
}

/** A "Name:   value kB" line of /proc/PID/status, in bytes. */
export function parseStatusKb(status: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
  if (m === null) throw new Error(`no ${field} in /proc/PID/status`);
  return Number(m[1]) * 1024;
}

/** Peak resident set size (VmHWM) of a live process, in bytes. */
export function peakRssBytes(pid: number): number {
  return parseStatusKb(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmHWM');
}

/** This process's CPU time (all threads, so the load workers too), in seconds. */
export function selfCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Busy CPU time of the whole machine (all cores, excluding idle and iowait), in seconds. */
export function parseMachineBusySeconds(procStat: string, ticksPerSecond: number): number {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) throw new Error('no cpu line in /proc/stat');
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal [guest guest_nice, already counted in user/nice]
  const busy = (v[0] ?? 0) + (v[1] ?? 0) + (v[2] ?? 0) + (v[5] ?? 0) + (v[6] ?? 0) + (v[7] ?? 0);
  return busy / ticksPerSecond;
}

export function machineBusySeconds(): number {
  return parseMachineBusySeconds(readFileSync('/proc/stat', 'utf8'), clockTicksPerSecond());
}

/** CPU time of several processes (a cluster's members), summed. */
export function processesCpuSeconds(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + processCpuSeconds(pid), 0);
}

/**
 * CPU times sampled at the start of a load; `since` gives the deltas at its end. The server's
 * figure is the sum over all its processes (every member of a cluster).
 */
export class CpuSample {
  private readonly serverPids: readonly number[];
  private readonly server: number;
  private readonly self: number;
  private readonly machine: number;
  private readonly wall: number;

  constructor(serverPids: number | readonly number[]) {
    this.serverPids = typeof serverPids === 'number' ? [serverPids] : serverPids;
    this.server = processesCpuSeconds(this.serverPids);
    this.self = selfCpuSeconds();
    this.machine = machineBusySeconds();
    this.wall = performance.now();
  }

  since(): { serverSec: number; generatorSec: number; otherSec: number; wallSec: number } {
    const serverSec = processesCpuSeconds(this.serverPids) - this.server;
    const generatorSec = selfCpuSeconds() - this.self;
    const machineSec = machineBusySeconds() - this.machine;
    return {
      serverSec,
      generatorSec,
      otherSec: Math.max(0, machineSec - serverSec - generatorSec),
      wallSec: (performance.now() - this.wall) / 1000,
    };
  }
}

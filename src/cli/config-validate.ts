// The checks etcd 3.4 runs on a configuration before starting (etcdmain's advertise-URL and
// discovery defaults, embed.Config.setupLogging and embed.Config.Validate), in etcd's order and
// with etcd's messages, so the first problem reported is the one etcd would report.
import type { FlagValues } from './config-flags.js';
import { checkBindUrls, checkHostUrls, urlToString } from './config-urls.js';
import { goQuote, goQuoteList } from './flags.js';

/** A line etcd prints while loading its configuration. `raw` is the exact stderr text, if etcd prints it bare. */
export interface Report {
  level: 'info' | 'warn';
  pkg: string;
  msg: string;
  raw?: string;
}

export const errUnsetAdvertiseText =
  '--advertise-client-urls is required when --listen-client-urls is set explicitly';
const errConflictBootstrap =
  'multiple discovery or bootstrap flags are set. Choose one of "initial-cluster", "discovery" or "discovery-srv"';
const defaultInitialCluster = 'default=http://localhost:2380';
const maxElectionMs = 50000n;
const validLevels = ['debug', 'info', 'warn', 'error', 'dpanic', 'panic', 'fatal'];

type MakeError = (msg: string, zapActive: boolean) => Error;

function deprecation(report: Report[], msg: string, extra?: string): void {
  report.push({
    level: 'warn',
    pkg: 'embed',
    msg,
    raw: `[WARNING] ${msg}${extra === undefined ? '' : `\n${extra}`}`,
  });
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The --log-output / --log-outputs reconciliation of etcd 3.4 (one of them is deprecated). */
function reconcileLogOutputs(v: FlagValues, report: Report[], fail: (msg: string) => Error): string[] {
  const dep = v.strings('log-output');
  let outs = v.strings('log-outputs');
  if (dep.length !== outs.length) {
    if (dep.length > outs.length) {
      const msg = "'--log-output' flag has been deprecated! Please use '--log-outputs'!";
      report.push({ level: 'warn', pkg: 'embed', msg, raw: msg });
      outs = dep;
    }
    return outs;
  }
  if (dep.length > 1) throw fail("both '--log-output' and '--log-outputs' are set; only set '--log-outputs'");
  if (dep.length < 1) throw fail("either '--log-output' or '--log-outputs' flag must be set");
  if (sameList(dep, outs) && dep[0] !== 'default') {
    throw fail(
      `'--log-output=${goQuoteList(dep)}' and '--log-outputs=${goQuoteList(outs)}' are incompatible; only set --log-outputs`,
    );
  }
  if (!sameList(dep, ['default'])) {
    deprecation(
      report,
      `Deprecated '--log-output' flag is set to ${goQuoteList(dep)}`,
      "Please use '--log-outputs' flag",
    );
  }
  return outs;
}

/** embed.Config.setupLogging: returns whether etcd would now log through zap (JSON). */
function setupLogging(v: FlagValues, report: Report[], makeError: MakeError): boolean {
  const fail = (msg: string) => makeError(msg, false);
  const outs = reconcileLogOutputs(v, report, fail);
  const debug = v.bool('debug');
  const level = v.str('log-level');
  const logger = v.str('logger');
  if (debug) {
    deprecation(report, "Deprecated '--debug' flag is set to true (use '--log-level=debug' instead");
    if (level !== 'debug')
      deprecation(
        report,
        `Deprecated '--debug' flag is set to true with inconsistent '--log-level=${level}' flag`,
      );
  }
  if (logger === 'capnslog')
    deprecation(report, "Deprecated '--logger=capnslog' flag is set; use '--logger=zap' flag instead");
  const pkgLevels = v.str('log-package-levels');
  if (pkgLevels !== '')
    deprecation(
      report,
      `Deprecated '--log-package-levels=${pkgLevels}' flag is set; use '--logger=zap' flag instead`,
    );
  const checkLevel = () => {
    if (!validLevels.includes(level)) throw fail(`unknown level ${goQuote(level)}`);
  };
  v.put('log-outputs', outs);
  if (logger === 'capnslog') {
    if (debug) v.put('log-level', 'debug');
    else checkLevel();
    if (outs.length !== 1)
      throw fail(`--logger=capnslog supports only 1 value in '--log-outputs', got ${goQuoteList(outs)}`);
    const out = outs[0] ?? '';
    if (!['stderr', 'stdout', 'default'].includes(out)) {
      throw fail(`unknown log-output ${goQuote(out)} (only supports "default", "stderr", "stdout")`);
    }
    return false;
  }
  if (logger !== 'zap') throw fail(`unknown logger option ${goQuote(logger)}`);
  if (outs.length === 0) v.put('log-outputs', ['default']);
  if (outs.length > 1 && outs.includes('default'))
    throw fail('multi logoutput for "default" is not supported yet');
  if (outs.includes('systemd/journal') && outs.length > 1) {
    throw fail(
      `running with systemd/journal but other '--log-outputs' values (${goQuoteList(outs)}) are configured with 'default'; override 'default' value with something else`,
    );
  }
  checkLevel();
  return true;
}

/** embed.Config.Validate after logging: URLs, bootstrap flags, timing, compaction, checkpoints. */
function embedValidate(v: FlagValues, acUnset: boolean, report: Report[]): string | undefined {
  for (const name of ['listen-peer-urls', 'listen-client-urls', 'listen-metrics-urls']) {
    const err = checkBindUrls(v.urls(name));
    if (err !== undefined) return err;
  }
  for (const name of ['initial-advertise-peer-urls', 'advertise-client-urls']) {
    const urls = v.urls(name);
    const err = checkHostUrls(urls);
    if (err !== undefined)
      return `--${name} ${goQuote(urls.map(urlToString).join(','))} must be "host:port" (${err})`;
  }
  const nSet = [v.str('discovery'), v.str('initial-cluster'), v.str('discovery-srv')].filter(
    (s) => s !== '',
  ).length;
  const state = v.str('initial-cluster-state');
  if (state !== 'new' && state !== 'existing') return `unexpected clusterState ${goQuote(state)}`;
  if (nSet > 1) return errConflictBootstrap;
  const tick = v.int('heartbeat-interval');
  const election = v.int('election-timeout');
  if (tick <= 0n) return `--heartbeat-interval must be >0 (set to ${tick}ms)`;
  if (election <= 0n) return `--election-timeout must be >0 (set to ${election}ms)`;
  if (5n * tick > election) {
    return `--election-timeout[${election}ms] should be at least as 5 times as --heartbeat-interval[${tick}ms]`;
  }
  if (election > maxElectionMs)
    return `--election-timeout[${election}ms] is too long, and should be set less than ${maxElectionMs}ms`;
  if (v.urls('listen-client-urls').length > 0 && acUnset) return errUnsetAdvertiseText;
  const mode = v.str('auto-compaction-mode');
  if (mode !== '' && mode !== 'periodic' && mode !== 'revision')
    return `unknown auto-compaction-mode ${goQuote(mode)}`;
  const checkpoint = v.bool('experimental-enable-lease-checkpoint');
  const persist = v.bool('experimental-enable-lease-checkpoint-persist');
  if (checkpoint && !persist) {
    report.push({
      level: 'warn',
      pkg: 'embed',
      msg: 'Detected that checkpointing is enabled without persistence. Consider enabling experimental-enable-lease-checkpoint-persist',
    });
  }
  if (persist && !checkpoint)
    return 'setting experimental-enable-lease-checkpoint-persist requires experimental-enable-lease-checkpoint';
  return undefined;
}

/**
 * Apply etcd's mode-specific defaults, then validate. Throws makeError(msg, zapActive) for the
 * first problem; returns whether the zap logger is in use.
 */
export function validateConfig(
  v: FlagValues,
  mode: 'flags' | 'file',
  setNames: ReadonlySet<string>,
  report: Report[],
  makeError: MakeError,
): { zap: boolean } {
  const discovery = v.str('discovery');
  let acUnset = false;
  if (mode === 'flags') {
    const mayBeProxy =
      v.str('proxy') !== 'off' || (discovery !== '' && v.str('discovery-fallback') === 'proxy');
    if (setNames.has('listen-client-urls') && !setNames.has('advertise-client-urls') && !mayBeProxy) {
      v.put('advertise-client-urls', []);
      acUnset = true;
    }
    const discovering =
      discovery !== '' || v.str('discovery-srv') !== '' || v.str('discovery-srv-name') !== '';
    if (discovering && !setNames.has('initial-cluster')) v.put('initial-cluster', '');
  } else {
    if (
      (discovery !== '' || v.str('discovery-srv') !== '') &&
      v.str('initial-cluster') === defaultInitialCluster
    ) {
      v.put('initial-cluster', '');
    }
    if (v.str('initial-cluster-state') === '') v.put('initial-cluster-state', 'new');
  }
  const zap = setupLogging(v, report, makeError);
  const err = embedValidate(v, acUnset, report);
  if (err !== undefined) throw makeError(err, zap);
  return { zap };
}

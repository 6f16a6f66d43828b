// ketch's server configuration: etcd 3.4's flags, ETCD_* environment variables and YAML config
// file, with etcd's defaults, precedence, validation and messages. An etcd command line, unit
// file or config file should start ketch unchanged, and a wrong one should fail with the text and
// exit status etcd gives (2 for a malformed command line, 1 for an invalid configuration).
// parseServerConfig is pure apart from reading the config file; printing and exiting belong to
// the caller (src/cli/ketch.ts), which uses ConfigError.render() for etcd's exact output.
import { formatCapnslogLine, formatJsonLine } from '../platform/logger.js';
import type { LogLevel } from '../base/log.js';
import { applyEnv, parseCommandLine } from './config-flags.js';
import type { FlagValues } from './config-flags.js';
import { ConfigFileError, readConfigFile } from './config-file.js';
import { helpText, usageText, versionText } from './config-help.js';
import { clusterToString, parseInitialCluster, urlToString, verifyClusterMembership } from './config-urls.js';
import type { ClusterMember } from './config-urls.js';
import { buildServerConfig, compactionRetention } from './config-build.js';
import type { ServerConfig } from './config-build.js';
import { errUnsetAdvertiseText, validateConfig } from './config-validate.js';
import type { Report } from './config-validate.js';
import { goQuote } from './flags.js';

export type { ServerConfig, ClusterMember };
export { versionText, urlToString, clusterToString };
export { urlPort } from './config-urls.js';
export { ETCD_API_VERSION, ketchVersion } from './config-help.js';

export type ParseResult =
  | { kind: 'run'; config: ServerConfig; warnings: string[]; notices: string[] }
  | { kind: 'version'; text: string }
  | { kind: 'help'; text: string; usage: string };

/**
 * How etcd reports the failure:
 * - 'usage': Go flag error; message, then the usage text, on stderr; exit 2.
 * - 'verify': `error verifying flags, <msg>. See '... --help'.` (capnslog) or zap `failed to verify flags`; exit 1.
 * - 'start': the server refused to start (`failed to start etcd` / capnslog C line); exit 1.
 * - 'fatal': a capnslog critical line from package `pkg`; exit 1.
 * - 'raw': the message alone on stderr; exit 1.
 * - 'panic': `panic: <msg>`; exit 2.
 */
export type ConfigErrorForm = 'usage' | 'verify' | 'start' | 'fatal' | 'raw' | 'panic';

export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly exitCode: number;
  constructor(
    message: string,
    readonly form: ConfigErrorForm,
    /** True when etcd would report this through its zap (JSON) logger. */
    readonly zap = false,
    /** What etcd prints before the failure (deprecation notes, env var notices). */
    readonly preamble: readonly Report[] = [],
    readonly pkg = 'etcdmain',
  ) {
    super(message);
    this.exitCode = form === 'usage' || form === 'panic' ? 2 : 1;
  }

  /** Exactly what etcd 3.4 writes to stderr for this failure (ketch naming itself where etcd does). */
  render(now: Date = new Date()): string {
    const caller = 'cli/ketch.js';
    const pre = this.preamble.map((r) =>
      r.raw !== undefined ? `${r.raw}\n` : formatCapnslogLine(r.level, r.pkg, r.msg, {}, now),
    );
    const json = (level: LogLevel, msg: string) =>
      formatJsonLine(level, msg, { error: this.message }, now, caller);
    const capns = (level: LogLevel, msg: string) => formatCapnslogLine(level, this.pkg, msg, {}, now);
    let body: string;
    switch (this.form) {
      case 'usage':
        body = `${this.message}\n${usageText}\n`;
        break;
      case 'verify':
        body = this.zap
          ? json('warn', 'failed to verify flags')
          : capns('error', `error verifying flags, ${this.message}. See 'ketch --help'.`);
        if (this.message === errUnsetAdvertiseText) {
          body += this.zap
            ? json('warn', 'advertise client URLs are not set')
            : capns(
                'error',
                'When listening on specific address(es), this ketch process must advertise accessible url(s) to each connected client.',
              );
        }
        break;
      case 'start':
        body = this.zap
          ? json('warn', 'failed to start etcd') + json('fatal', 'discovery failed')
          : capns('fatal', this.message);
        break;
      case 'fatal':
        body = capns('fatal', this.message);
        break;
      case 'raw':
        body = `${this.message}\n`;
        break;
      case 'panic':
        body = `panic: ${this.message}\n`;
        break;
    }
    return pre.join('') + body;
  }
}

interface Loaded {
  values: FlagValues;
  mode: 'flags' | 'file';
  setNames: Set<string>;
  report: Report[];
}

function loadFromFile(path: string, report: Report[]): Loaded {
  report.push({
    level: 'info',
    pkg: 'etcdmain',
    msg: `Loading server configuration from ${goQuote(path)}. Other configuration command line flags and environment variables will be ignored if provided.`,
  });
  try {
    const { values, present } = readConfigFile(path);
    values.put('config-file', path);
    return { values, mode: 'file', setNames: present, report };
  } catch (e) {
    if (!(e instanceof ConfigFileError)) throw e;
    throw new ConfigError(e.message, e.raw ? 'raw' : 'verify', false, e.raw ? [] : report);
  }
}

function loadFromFlagsAndEnv(
  values: FlagValues,
  setNames: Set<string>,
  env: Record<string, string | undefined>,
  report: Report[],
): Loaded {
  const out = applyEnv(values, setNames, env);
  report.push(...out.notices.map((msg): Report => ({ level: 'info', pkg: 'pkg/flags', msg })));
  report.push(...out.warnings.map((msg): Report => ({ level: 'warn', pkg: 'pkg/flags', msg })));
  if (out.conflict !== undefined) throw new ConfigError(out.conflict, 'fatal', false, report, 'pkg/flags');
  if (out.error !== undefined) throw new ConfigError(out.error, 'verify', false, report);
  return { values, mode: 'flags', setNames, report };
}

/**
 * Read etcd 3.4's command line (argv without the program name) and environment. Returns what
 * to do; throws ConfigError for anything etcd would refuse, with etcd's message and exit code.
 */
export function parseServerConfig(argv: string[], env: Record<string, string | undefined>): ParseResult {
  const cl = parseCommandLine(argv);
  if (cl.kind === 'help') return { kind: 'help', text: helpText(), usage: usageText };
  if (cl.kind === 'error') throw new ConfigError(cl.message, 'usage');
  const report: Report[] = cl.values.warnings.map((msg) => ({ level: 'warn', pkg: 'pkg/flags', msg }));
  const first = cl.positional[0];
  if (first !== undefined) throw new ConfigError(`'${first}' is not a valid flag`, 'verify', false, report);
  if (cl.values.bool('version')) return { kind: 'version', text: versionText() };

  const configFile = cl.values.str('config-file') || (env['ETCD_CONFIG_FILE'] ?? '');
  const loaded =
    configFile !== ''
      ? loadFromFile(configFile, report)
      : loadFromFlagsAndEnv(cl.values, cl.setNames, env, report);
  const { zap } = validateConfig(loaded.values, loaded.mode, loaded.setNames, report, (msg, zapActive) => {
    return new ConfigError(
      msg,
      msg.startsWith('unknown level ') ? 'panic' : 'verify',
      zapActive && loaded.mode === 'flags',
      report,
    );
  });
  let retention;
  try {
    retention = compactionRetention(loaded.values);
  } catch (e) {
    throw new ConfigError((e as Error).message, 'start', zap, report);
  }
  const config = buildServerConfig(loaded.values, retention, report);
  if (zap && loaded.mode === 'file') {
    const i = report.findIndex((r) => r.msg.startsWith('Loading server configuration from'));
    report[i] = {
      level: 'info',
      pkg: 'etcdmain',
      msg: `loaded server configuration, other configuration command line flags and environment variables will be ignored if provided (path ${goQuote(configFile)})`,
    };
  }
  return {
    kind: 'run',
    config,
    warnings: report.filter((r) => r.level === 'warn').map((r) => r.msg),
    notices: report.filter((r) => r.level === 'info').map((r) => r.msg),
  };
}

/**
 * etcd's VerifyBootstrap / VerifyJoinExisting, for a member whose data dir holds no WAL yet:
 * the initial cluster must parse, name this member, and (when bootstrapping a new cluster) list
 * exactly its advertised peer URLs. Hostnames other than `localhost` are compared as written;
 * etcd would resolve them through DNS first.
 */
export function verifyInitialCluster(config: ServerConfig): void {
  const fail = (msg: string) => new ConfigError(msg, 'start', config.logger === 'zap');
  const bootstrapping = config.initialClusterState === 'new';
  let members = config.initialCluster;
  if (config.discovery !== '') {
    members = [{ name: config.name, peerUrls: config.initialAdvertisePeerUrls }];
  } else if (config.initialClusterError !== undefined) {
    throw fail(`error setting up initial cluster: ${config.initialClusterError}`);
  }
  const problem = verifyClusterMembership(
    config.name,
    config.initialAdvertisePeerUrls,
    members,
    bootstrapping,
  );
  if (problem !== undefined) throw fail(problem);
  if (!bootstrapping && config.discovery !== '') {
    throw fail('discovery URL should not be set when joining existing initial cluster');
  }
}

/** Parse an `name=url,...` initial-cluster string (exposed for membership code and tests). */
export function parseInitialClusterString(s: string): ClusterMember[] {
  return parseInitialCluster(s);
}

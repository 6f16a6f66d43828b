// Behaviour of ketch's etcd-compatible configuration, checked against what etcd 3.4.23 prints
// and exits with (observed by running /usr/bin/etcd with the same arguments).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError,
  parseServerConfig,
  urlPort,
  urlToString,
  verifyInitialCluster,
  versionText,
} from './config.js';
import type { ServerConfig } from './config.js';

process.env['TZ'] = 'UTC';
const at = new Date(Date.UTC(2026, 10, 22, 4, 30, 0, 123));

function run(
  argv: string[],
  env: Record<string, string> = {},
): { config: ServerConfig; warnings: string[]; notices: string[] } {
  const r = parseServerConfig(argv, env);
  assert.equal(r.kind, 'run');
  return r;
}

function fails(argv: string[], env: Record<string, string> = {}): ConfigError {
  try {
    parseServerConfig(argv, env);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e;
  }
  assert.fail('expected a ConfigError');
}

const urls = (list: URL[]) => list.map(urlToString);

void test('defaults are etcd 3.4 defaults', () => {
  const { config: c, warnings } = run([]);
  assert.equal(c.name, 'default');
  assert.equal(c.dataDir, 'default.etcd');
  assert.equal(c.walDir, '');
  assert.deepEqual(urls(c.listenClientUrls), ['http://localhost:2379']);
  assert.deepEqual(urls(c.advertiseClientUrls), ['http://localhost:2379']);
  assert.deepEqual(urls(c.listenPeerUrls), ['http://localhost:2380']);
  assert.deepEqual(urls(c.initialAdvertisePeerUrls), ['http://localhost:2380']);
  assert.deepEqual(urls(c.listenMetricsUrls), []);
  assert.equal(c.initialCluster.length, 1);
  assert.equal(c.initialCluster[0]?.name, 'default');
  assert.deepEqual(urls(c.initialCluster[0]?.peerUrls ?? []), ['http://localhost:2380']);
  assert.equal(c.initialClusterState, 'new');
  assert.equal(c.initialClusterToken, 'etcd-cluster');
  assert.equal(c.snapshotCount, 100000);
  assert.equal(c.heartbeatIntervalMs, 100);
  assert.equal(c.electionTimeoutMs, 1000);
  assert.equal(c.maxRequestBytes, 1572864);
  assert.equal(c.maxTxnOps, 128);
  assert.equal(c.quotaBackendBytes, 0);
  assert.equal(c.maxConcurrentStreams, 4294967295);
  assert.equal(c.grpcKeepAliveMinTimeMs, 5000);
  assert.equal(c.grpcKeepAliveIntervalMs, 7_200_000);
  assert.equal(c.grpcKeepAliveTimeoutMs, 20000);
  assert.equal(c.maxSnapshots, 5);
  assert.equal(c.maxWals, 5);
  assert.equal(c.logLevel, 'info');
  assert.equal(c.logger, 'capnslog');
  assert.deepEqual(c.logOutputs, ['default']);
  assert.equal(c.autoCompactionMode, 'periodic');
  assert.equal(c.autoCompactionRetention, '0');
  assert.equal(c.autoCompactionPeriodMs, 0);
  assert.equal(c.strictReconfigCheck, true);
  assert.equal(c.preVote, false);
  assert.equal(c.initialElectionTickAdvance, true);
  assert.equal(c.enableGrpcGateway, true);
  assert.equal(c.authToken, 'simple');
  assert.equal(c.bcryptCost, 10);
  assert.equal(c.authTokenTtlSeconds, 300);
  assert.equal(c.experimentalWarningApplyDurationMs, 100);
  assert.deepEqual(c.cors, ['*']);
  assert.deepEqual(c.hostWhitelist, ['*']);
  assert.equal(c.forceNewCluster, false);
  assert.deepEqual(warnings, [
    "Deprecated '--logger=capnslog' flag is set; use '--logger=zap' flag instead",
    'no data-dir provided, using default data-dir ./default.etcd',
  ]);
});

void test('flags accept --flag value, --flag=value, -flag value and bare booleans', () => {
  const { config: c } = run([
    '--name',
    'n1',
    '--data-dir=/tmp/d',
    '-snapshot-count',
    '0x10',
    '--force-new-cluster',
    '--pre-vote=true',
  ]);
  assert.equal(c.name, 'n1');
  assert.equal(c.dataDir, '/tmp/d');
  assert.equal(c.snapshotCount, 16);
  assert.equal(c.forceNewCluster, true);
  assert.equal(c.preVote, true);
  assert.equal(run(['--strict-reconfig-check=false']).config.strictReconfigCheck, false);
  assert.equal(run(['--name=a', '--name=b']).config.name, 'b');
});

void test('--name alone names the member in the default initial cluster, as etcd does', () => {
  const { config: c } = run(['--name', 'infra1']);
  assert.equal(c.initialClusterText, 'infra1=http://localhost:2380');
  assert.equal(c.dataDir, 'infra1.etcd');
  assert.doesNotThrow(() => verifyInitialCluster(c));
});

void test('an unknown flag fails like Go flag parsing: message, usage, exit 2', () => {
  const e = fails(['--bogus']);
  assert.equal(e.message, 'flag provided but not defined: -bogus');
  assert.equal(e.exitCode, 2);
  const out = e.render(at);
  assert.ok(out.startsWith('flag provided but not defined: -bogus\nUsage:\n\n  ketch [flags]\n'), out);
  assert.ok(out.endsWith('\n\n'));
});

void test('malformed values report etcd 3.4 messages and exit 2', () => {
  const cases: [string[], string][] = [
    [['--snapshot-count=abc'], 'invalid value "abc" for flag -snapshot-count: parse error'],
    [['--heartbeat-interval=x'], 'invalid value "x" for flag -heartbeat-interval: parse error'],
    [['--snapshot-count=-1'], 'invalid value "-1" for flag -snapshot-count: parse error'],
    [
      ['--snapshot-count=99999999999999999999'],
      'invalid value "99999999999999999999" for flag -snapshot-count: value out of range',
    ],
    [
      ['--max-concurrent-streams=5000000000'],
      'invalid value "5000000000" for flag -max-concurrent-streams: strconv.ParseUint: parsing "5000000000": value out of range',
    ],
    [['--force-new-cluster=maybe'], 'invalid boolean value "maybe" for -force-new-cluster: parse error'],
    [
      ['--initial-cluster-state=bogus'],
      'invalid value "bogus" for flag -initial-cluster-state: invalid value',
    ],
    [['--grpc-keepalive-timeout=5'], 'invalid value "5" for flag -grpc-keepalive-timeout: parse error'],
    [['--snapshot-count'], 'flag needs an argument: -snapshot-count'],
    [['---x'], 'bad flag syntax: ---x'],
    [
      ['--listen-client-urls=foo'],
      'invalid value "foo" for flag -listen-client-urls: URL scheme must be http, https, unix, or unixs: foo',
    ],
    [
      ['--listen-client-urls=http://127.0.0.1'],
      'invalid value "http://127.0.0.1" for flag -listen-client-urls: URL address does not have the form "host:port": http://127.0.0.1',
    ],
    [
      ['--listen-peer-urls=http://1.2.3.4:2380/x'],
      'invalid value "http://1.2.3.4:2380/x" for flag -listen-peer-urls: URL must not contain a path: http://1.2.3.4:2380/x',
    ],
    [
      ['--listen-peer-urls=http://1.2.3.4:abc'],
      'invalid value "http://1.2.3.4:abc" for flag -listen-peer-urls: parse "http://1.2.3.4:abc": invalid port ":abc" after host',
    ],
  ];
  for (const [argv, message] of cases) {
    const e = fails(argv);
    assert.equal(e.message, message);
    assert.equal(e.exitCode, 2);
    assert.equal(e.form, 'usage');
  }
});

void test('a word after a bare boolean is not its value: etcd stops and exits 1', () => {
  const e = fails(['--force-new-cluster', 'false']);
  assert.equal(e.message, "'false' is not a valid flag");
  assert.equal(e.exitCode, 1);
  assert.equal(
    e.render(at),
    "2026-11-22 04:30:00.123000 E | etcdmain: error verifying flags, 'false' is not a valid flag. See 'ketch --help'.\n",
  );
});

void test('--version and --help', () => {
  const v = parseServerConfig(['--version'], {});
  assert.equal(v.kind, 'version');
  assert.match(versionText(), /^ketch Version: \d+\.\d+\.\d+\netcd API Version: 3\.4\n/);
  for (const argv of [['--help'], ['-h'], ['--name', 'x', '-help']]) {
    const h = parseServerConfig(argv, {});
    assert.equal(h.kind, 'help');
    assert.ok(h.usage.startsWith('Usage:\n'));
    assert.ok(
      h.text.includes(
        "  --snapshot-count '100000'\n    Number of committed transactions to trigger a snapshot to disk.\n",
      ),
    );
  }
  assert.equal(fails(['--bogus', '--help']).exitCode, 2);
});

void test('validation errors use etcd text; zap logger reports them as JSON', () => {
  const e = fails(['--election-timeout=400', '--logger=zap']);
  assert.equal(
    e.message,
    '--election-timeout[400ms] should be at least as 5 times as --heartbeat-interval[100ms]',
  );
  assert.equal(e.exitCode, 1);
  assert.deepEqual(JSON.parse(e.render(at)), {
    level: 'warn',
    ts: '2026-11-22T04:30:00.123Z',
    caller: 'cli/ketch.js',
    msg: 'failed to verify flags',
    error: '--election-timeout[400ms] should be at least as 5 times as --heartbeat-interval[100ms]',
  });
  const capns = fails(['--election-timeout=400']).render(at);
  assert.equal(
    capns,
    "[WARNING] Deprecated '--logger=capnslog' flag is set; use '--logger=zap' flag instead\n" +
      "2026-11-22 04:30:00.123000 E | etcdmain: error verifying flags, --election-timeout[400ms] should be at least as 5 times as --heartbeat-interval[100ms]. See 'ketch --help'.\n",
  );
  const cases: [string[], string][] = [
    [['--heartbeat-interval=0'], '--heartbeat-interval must be >0 (set to 0ms)'],
    [
      ['--election-timeout=60000'],
      '--election-timeout[60000ms] is too long, and should be set less than 50000ms',
    ],
    [['--auto-compaction-mode=foo'], 'unknown auto-compaction-mode "foo"'],
    [['--logger=foo'], 'unknown logger option "foo"'],
    [
      ['--listen-client-urls=http://example.com:2379', '--advertise-client-urls=http://localhost:2379'],
      'expected IP in URL for binding (http://example.com:2379)',
    ],
    [
      ['--initial-advertise-peer-urls=http://:2380'],
      '--initial-advertise-peer-urls "http://:2380" must be "host:port" (unexpected empty host (http://:2380))',
    ],
    [
      ['--discovery=http://x:1', '--initial-cluster=a=http://localhost:2380'],
      'multiple discovery or bootstrap flags are set. Choose one of "initial-cluster", "discovery" or "discovery-srv"',
    ],
    [
      ['--log-outputs=stderr,stdout'],
      `--logger=capnslog supports only 1 value in '--log-outputs', got ["stderr" "stdout"]`,
    ],
    [['--logger=zap', '--log-outputs=stderr,default'], 'multi logoutput for "default" is not supported yet'],
    [
      ['--experimental-enable-lease-checkpoint-persist'],
      'setting experimental-enable-lease-checkpoint-persist requires experimental-enable-lease-checkpoint',
    ],
  ];
  for (const [argv, message] of cases) {
    const err = fails(argv);
    assert.equal(err.message, message);
    assert.equal(err.exitCode, 1);
  }
});

void test('listening on explicit client URLs requires advertising some', () => {
  const e = fails(['--listen-client-urls=http://127.0.0.1:2379']);
  assert.equal(e.message, '--advertise-client-urls is required when --listen-client-urls is set explicitly');
  assert.equal(e.exitCode, 1);
  const lines = e.render(at).split('\n');
  assert.equal(
    lines[2],
    '2026-11-22 04:30:00.123000 E | etcdmain: When listening on specific address(es), this ketch process must advertise accessible url(s) to each connected client.',
  );
  const ok = run([
    '--listen-client-urls=http://127.0.0.1:2379,http://0.0.0.0:12379',
    '--advertise-client-urls=http://10.0.0.1:2379',
  ]);
  assert.deepEqual(urls(ok.config.listenClientUrls), ['http://0.0.0.0:12379', 'http://127.0.0.1:2379']);
});

void test('an unknown log level panics like etcd (exit 2)', () => {
  const e = fails(['--log-level=bogus', '--logger=zap']);
  assert.equal(e.exitCode, 2);
  assert.equal(e.render(at), 'panic: unknown level "bogus"\n');
  assert.equal(run(['--log-level=debug', '--logger=zap']).config.logLevel, 'debug');
});

void test('mismatched --initial-cluster and --name fail when bootstrapping', () => {
  const noMember = run(['--name', 'foo', '--initial-cluster', 'bar=http://localhost:2380']).config;
  assert.throws(() => verifyInitialCluster(noMember), {
    message: 'couldn\'t find local name "foo" in the initial cluster configuration',
  });
  try {
    verifyInitialCluster(noMember);
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.exitCode, 1);
    assert.equal(
      e.render(at),
      '2026-11-22 04:30:00.123000 C | etcdmain: couldn\'t find local name "foo" in the initial cluster configuration\n',
    );
  }
  const wrongUrl = run([
    '--name',
    'foo',
    '--initial-cluster',
    'foo=http://localhost:2390',
    '--logger=zap',
  ]).config;
  assert.throws(() => verifyInitialCluster(wrongUrl), {
    message:
      '--initial-cluster has foo=http://localhost:2390 but missing from --initial-advertise-peer-urls=http://localhost:2380 (resolved urls: "http://localhost:2380" != "http://localhost:2390")',
  });
  const garbage = run(['--initial-cluster=foo']).config;
  assert.throws(() => verifyInitialCluster(garbage), {
    message: 'error setting up initial cluster: URL scheme must be http, https, unix, or unixs: ',
  });
  const three = run([
    '--name=b',
    '--initial-advertise-peer-urls=http://10.0.0.2:2380',
    '--initial-cluster=a=http://10.0.0.1:2380,b=http://10.0.0.2:2380,c=http://10.0.0.3:2380',
  ]).config;
  assert.deepEqual(
    three.initialCluster.map((m) => [m.name, urls(m.peerUrls)]),
    [
      ['a', ['http://10.0.0.1:2380']],
      ['b', ['http://10.0.0.2:2380']],
      ['c', ['http://10.0.0.3:2380']],
    ],
  );
  assert.doesNotThrow(() => verifyInitialCluster(three));
});

void test('ETCD_* variables fill flags not given on the command line', () => {
  const r = run(['--name=cli'], {
    ETCD_SNAPSHOT_COUNT: '7',
    ETCD_BOGUS: '1',
    ETCD_DATA_DIR: '',
    ETCDCTL_API: '3',
    PATH: '/bin',
  });
  assert.equal(r.config.name, 'cli');
  assert.equal(r.config.snapshotCount, 7);
  assert.equal(r.config.dataDir, 'cli.etcd');
  assert.deepEqual(r.notices, ['recognized and used environment variable ETCD_SNAPSHOT_COUNT=7']);
  assert.equal(r.warnings[0], 'unrecognized environment variable ETCD_BOGUS=1');
  assert.equal(
    run([], { ETCD_LISTEN_CLIENT_URLS: 'http://0.0.0.0:2379', ETCD_ADVERTISE_CLIENT_URLS: 'http://h:2379' })
      .config.listenClientUrls.length,
    1,
  );
  assert.equal(
    fails([], { ETCD_LISTEN_CLIENT_URLS: 'http://0.0.0.0:2379' }).message,
    '--advertise-client-urls is required when --listen-client-urls is set explicitly',
  );
});

void test('an env variable for a flag also given on the command line is a fatal conflict', () => {
  const e = fails(['--snapshot-count=6'], { ETCD_SNAPSHOT_COUNT: '5' });
  assert.equal(e.exitCode, 1);
  assert.equal(
    e.render(at),
    '2026-11-22 04:30:00.123000 C | pkg/flags: conflicting environment variable "ETCD_SNAPSHOT_COUNT" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)\n',
  );
  const bad = fails([], { ETCD_SNAPSHOT_COUNT: 'abc' });
  assert.equal(bad.message, 'invalid value "abc" for ETCD_SNAPSHOT_COUNT: parse error');
  assert.equal(bad.exitCode, 1);
});

function configFile(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'ketch-config-')), 'etcd.yaml');
  writeFileSync(path, text);
  return path;
}

void test('--config-file reads etcd YAML and ignores other flags and env vars', () => {
  const path = configFile(
    [
      'name: infra0',
      'data-dir: /var/lib/infra0',
      'listen-client-urls: http://10.0.0.1:2379,http://127.0.0.1:2379',
      'advertise-client-urls: http://10.0.0.1:2379',
      'listen-peer-urls: http://10.0.0.1:2380',
      'initial-advertise-peer-urls: http://10.0.0.1:2380',
      'initial-cluster: infra0=http://10.0.0.1:2380,infra1=http://10.0.0.2:2380',
      "initial-cluster-state: 'existing'",
      'snapshot-count: 5000',
      'heartbeat-interval: 200',
      'election-timeout: 2000',
      'backend-batch-interval: 10000000',
      'logger: zap',
      'log-outputs: [stdout]',
      'client-transport-security:',
      '  cert-file: /c.pem',
      '  client-cert-auth: true',
      'unknown-key: ignored',
    ].join('\n'),
  );
  const r = run(['--config-file', path, '--name', 'ignored'], { ETCD_SNAPSHOT_COUNT: '1', ETCD_BOGUS: 'x' });
  const c = r.config;
  assert.equal(c.name, 'infra0');
  assert.equal(c.dataDir, '/var/lib/infra0');
  assert.deepEqual(urls(c.listenClientUrls), ['http://10.0.0.1:2379', 'http://127.0.0.1:2379']);
  assert.equal(c.initialClusterState, 'existing');
  assert.deepEqual(
    c.initialCluster.map((m) => m.name),
    ['infra0', 'infra1'],
  );
  assert.equal(c.snapshotCount, 5000);
  assert.equal(c.heartbeatIntervalMs, 200);
  assert.equal(c.backendBatchIntervalMs, 10);
  assert.equal(c.logger, 'zap');
  assert.deepEqual(c.logOutputs, ['stdout']);
  assert.equal(c.certFile, '/c.pem');
  assert.equal(c.clientCertAuth, true);
  assert.equal(c.configFile, path);
  assert.deepEqual(r.warnings, []);
  assert.doesNotThrow(() => verifyInitialCluster(c));
  assert.equal(run([], { ETCD_CONFIG_FILE: path }).config.name, 'infra0');
});

void test('config file errors carry etcd text', () => {
  const typed = fails(['--config-file', configFile('name: x\nsnapshot-count: abc\n')]);
  assert.equal(
    typed.message,
    'error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field configYAML.snapshot-count of type uint64',
  );
  assert.equal(typed.exitCode, 1);
  const dur = fails(['--config-file', configFile('backend-batch-interval: 10ms\n')]);
  assert.match(dur.message, /configYAML\.backend-batch-interval of type time\.Duration$/);
  assert.equal(
    fails(['--config-file', '/nonexistent/etcd.yaml']).message,
    'open /nonexistent/etcd.yaml: no such file or directory',
  );
  const url = fails(['--config-file', configFile('listen-client-urls: foo\n')]);
  assert.equal(
    url.render(at),
    'unexpected error setting up listen-client-urls: URL scheme must be http, https, unix, or unixs: foo\n',
  );
  assert.equal(url.exitCode, 1);
  const timing = fails(['--config-file', configFile('election-timeout: 400\nlogger: zap\n')]);
  assert.ok(timing.render(at).includes('E | etcdmain: error verifying flags, --election-timeout[400ms]'));
  assert.equal(fails(['--config-file', configFile('x: 1\n'), '--snapshot-count=zz']).exitCode, 2);
});

void test('auto compaction retention is hours, a duration, or revisions', () => {
  assert.equal(run(['--auto-compaction-retention=1']).config.autoCompactionPeriodMs, 3_600_000);
  assert.equal(run(['--auto-compaction-retention=5m']).config.autoCompactionPeriodMs, 300_000);
  const rev = run(['--auto-compaction-mode=revision', '--auto-compaction-retention=1000']).config;
  assert.equal(rev.autoCompactionRevisions, 1000);
  const e = fails(['--auto-compaction-retention=abc']);
  assert.equal(e.message, 'error parsing CompactionRetention: time: invalid duration "abc"');
  assert.equal(e.exitCode, 1);
});

void test('deprecated logging flags are reconciled as in etcd 3.4', () => {
  const r = run(['--log-output=stderr']);
  assert.ok(r.warnings.includes('Deprecated \'--log-output\' flag is set to ["stderr"]'));
  assert.deepEqual(r.config.logOutputs, ['default']);
  assert.deepEqual(run(['--logger=zap', '--log-output=stderr,stdout']).config.logOutputs, [
    'stderr',
    'stdout',
  ]);
  assert.equal(run(['--debug']).config.logLevel, 'debug');
});

void test('URLs keep the text etcd prints and their explicit port', () => {
  const c = run([
    '--listen-client-urls=http://127.0.0.1:80,https://[::1]:443',
    '--advertise-client-urls=http://h:80',
  ]).config;
  assert.deepEqual(urls(c.listenClientUrls), ['http://127.0.0.1:80', 'https://[::1]:443']);
  assert.deepEqual(c.listenClientUrls.map(urlPort), [80, 443]);
  assert.equal(c.listenClientUrls[1]?.hostname, '[::1]');
});

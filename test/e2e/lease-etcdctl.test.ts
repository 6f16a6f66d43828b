// Debian's etcdctl 3.4 `lease` commands against the server under test (KETCH_E2E_TARGET, default
// ketch), asserting etcdctl's exact output: grant (and the minimum TTL), put --lease and the lease
// in get -w json, timetolive with --keys, list, keep-alive --once and streaming (ended by a revoke),
// revoke with the keys gone and a DELETE event per key seen by `etcdctl watch`, the restart of a
// member keeping its leases, and the errors a user sees. Remaining TTLs are bounded, never timed.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { childEnv, ETCDCTL_BIN, startServer, target, type ServerHandle } from './harness.js';
import { Ctl, currentRevision, normalizeHeader } from './ctl-helpers.js';

/** A long-running etcdctl (keep-alive, watch) whose stdout the test reads as it comes. */
class Running {
  readonly child: ChildProcess;
  out = '';
  err = '';
  readonly exited: Promise<number>;
  constructor(endpoint: string, args: string[]) {
    this.child = spawn(ETCDCTL_BIN, ['--endpoints', endpoint, ...args], {
      env: childEnv({ ETCDCTL_API: '3' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (s: string) => (this.out += s));
    this.child.stderr!.setEncoding('utf8').on('data', (s: string) => (this.err += s));
    this.exited = new Promise((resolve) => this.child.once('close', (code) => resolve(code ?? -1)));
  }
  async waitFor(cond: (out: string) => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!cond(this.out)) {
      if (Date.now() > deadline)
        throw new Error(`gave up waiting for ${what}; stdout: ${this.out}; stderr: ${this.err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  stop(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

const hex = (id: bigint): string => id.toString(16).padStart(16, '0');

void describe(`etcdctl 3.4 lease commands against ${target()}`, () => {
  let server: ServerHandle;
  let ctl: Ctl;
  const grant = async (ttl: number): Promise<bigint> => {
    const out = await ctl.ok(['lease', 'grant', String(ttl)]);
    const m = /^lease ([0-9a-f]{16}) granted with TTL\((\d+)s\)\n$/.exec(out);
    assert.ok(m !== null, `grant output: ${out}`);
    return BigInt(`0x${m[1]}`);
  };

  before(async () => {
    server = await startServer(target());
    ctl = new Ctl(server.clientUrl);
  });
  after(async () => {
    await server?.stop();
  });

  void it('grant prints the ID and TTL; a TTL below the minimum is raised to 2 s', async () => {
    const out = await ctl.ok(['lease', 'grant', '1']);
    assert.match(out, /^lease [0-9a-f]{16} granted with TTL\(2s\)\n$/);
    const json = await ctl.ok(['lease', 'grant', '600', '-w', 'json']);
    assert.match(
      json,
      /^\{"cluster_id":\d+,"member_id":\d+,"revision":\d+,"raft_term":\d+,"ID":\d+,"TTL":600,"Error":""\}\n$/,
    );
  });

  void it('put --lease attaches the key; get -w json shows the lease; timetolive --keys lists the keys', async () => {
    const id = await grant(600);
    assert.equal(await ctl.ok(['put', '--lease', hex(id), 'la/b', '2']), 'OK\n');
    assert.equal(await ctl.ok(['put', '--lease', hex(id), 'la/a', '1']), 'OK\n');
    const got = await ctl.ok(['get', 'la/a', '-w', 'json']);
    assert.ok(got.includes(`"lease":${id}}`), got);
    const ttl = await ctl.ok(['lease', 'timetolive', '--keys', hex(id)]);
    const m = new RegExp(
      `^lease ${hex(id)} granted with TTL\\(600s\\), remaining\\((\\d+)s\\), attached keys\\(\\[(?:la/a la/b|la/b la/a)\\]\\)\\n$`,
    ).exec(ttl);
    assert.ok(m !== null, `${ttl} (etcd lists the keys in map order)`);
    assert.ok(Number(m[1]) > 0 && Number(m[1]) <= 600, ttl);
    const plain = await ctl.ok(['lease', 'timetolive', hex(id)]);
    assert.match(plain, new RegExp(`^lease ${hex(id)} granted with TTL\\(600s\\), remaining\\(\\d+s\\)\\n$`));
  });

  void it('list names every lease', async () => {
    const a = await grant(600);
    const b = await grant(600);
    const out = await ctl.ok(['lease', 'list']);
    const lines = out.trimEnd().split('\n');
    assert.match(lines[0]!, /^found \d+ leases$/);
    assert.equal(Number(/\d+/.exec(lines[0]!)![0]), lines.length - 1);
    assert.ok(lines.includes(hex(a)) && lines.includes(hex(b)), out);
  });

  void it('keep-alive --once prints the renewed TTL', async () => {
    const id = await grant(300);
    assert.equal(
      await ctl.ok(['lease', 'keep-alive', '--once', hex(id)]),
      `lease ${hex(id)} keepalived with TTL(300)\n`,
    );
    const json = await ctl.ok(['lease', 'keep-alive', '--once', hex(id), '-w', 'json']);
    assert.match(
      json,
      new RegExp(
        `^\\{"cluster_id":\\d+,"member_id":\\d+,"revision":\\d+,"raft_term":\\d+,"ID":${id},"TTL":300\\}\\n$`,
      ),
    );
  });

  void it('streaming keep-alive renews until the lease is revoked, then says so and exits 0', async () => {
    const id = await grant(3);
    await ctl.ok(['put', '--lease', hex(id), 'ka/k', 'v']);
    const ka = new Running(server.clientUrl, ['lease', 'keep-alive', hex(id)]);
    try {
      const line = `lease ${hex(id)} keepalived with TTL(3)\n`;
      // Renewals every TTL/3 s: three of them outlive the TTL, so the lease is really being kept.
      await ka.waitFor((o) => o.split(line).length - 1 >= 4, 'four keepalives');
      assert.equal(await ctl.ok(['get', 'ka/k', '--print-value-only']), 'v\n');
      assert.equal(await ctl.ok(['lease', 'revoke', hex(id)]), `lease ${hex(id)} revoked\n`);
      assert.equal(await ka.exited, 0);
      assert.ok(ka.out.endsWith(`lease ${hex(id)} expired or revoked.\n`), ka.out);
      assert.equal(ka.out.replaceAll(line, ''), `lease ${hex(id)} expired or revoked.\n`);
    } finally {
      ka.stop();
    }
  });

  void it('revoke deletes the attached keys with one DELETE event each; timetolive then says expired', async () => {
    const id = await grant(600);
    // From the next revision on, whenever the watch is set up: no event can be missed.
    const from = (await currentRevision(server.clientUrl)) + 1n;
    const w = new Running(server.clientUrl, ['watch', '--prefix', 'rv/', '--rev', String(from)]);
    try {
      for (const k of ['rv/a', 'rv/b']) await ctl.ok(['put', '--lease', hex(id), k, 'x']);
      await w.waitFor((o) => o.includes('PUT\nrv/b\nx\n'), 'the puts');
      assert.equal(await ctl.ok(['lease', 'revoke', hex(id)]), `lease ${hex(id)} revoked\n`);
      await w.waitFor((o) => o.includes('DELETE\nrv/b\n'), 'the deletes');
      assert.equal(w.out, 'PUT\nrv/a\nx\nPUT\nrv/b\nx\nDELETE\nrv/a\n\nDELETE\nrv/b\n\n');
    } finally {
      w.stop();
    }
    assert.equal(await ctl.ok(['get', 'rv/', '--prefix']), '');
    assert.equal(await ctl.ok(['lease', 'timetolive', hex(id)]), `lease ${hex(id)} already expired\n`);
    const json = normalizeHeader(await ctl.ok(['lease', 'timetolive', hex(id), '-w', 'json']));
    assert.match(json, new RegExp(`"id":${id},"ttl":-1,"granted-ttl":0,"keys":null\\}\\n$`));
  });

  void it('a lease left alone expires: its key is deleted', async () => {
    const id = await grant(2);
    await ctl.ok(['put', '--lease', hex(id), 'ex/k', 'v']);
    const deadline = Date.now() + 30_000;
    while ((await ctl.ok(['get', 'ex/k'])) !== '') {
      assert.ok(Date.now() < deadline, 'the key outlived its lease by far');
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(await ctl.ok(['lease', 'timetolive', hex(id)]), `lease ${hex(id)} already expired\n`);
  });

  void it('errors: unknown lease on revoke, put and keep-alive; too large a TTL', async () => {
    const notFound = 'etcdserver: requested lease not found';
    const rv = await ctl.run(['lease', 'revoke', '1234']);
    assert.equal(rv.code, 1);
    assert.ok(rv.stderr.includes(`"error":"rpc error: code = NotFound desc = ${notFound}"`), rv.stderr);
    assert.ok(rv.stderr.endsWith(`Error: failed to revoke lease (${notFound})\n`), rv.stderr);
    await ctl.fails(['put', '--lease', '1234', 'nl/k', 'v'], 'NotFound', notFound);
    const big = await ctl.run(['lease', 'grant', '9000000001']);
    assert.equal(big.code, 1);
    assert.ok(
      big.stderr.includes('"error":"rpc error: code = OutOfRange desc = etcdserver: too large lease TTL"'),
    );
    assert.ok(
      big.stderr.endsWith('Error: failed to grant lease (etcdserver: too large lease TTL)\n'),
      big.stderr,
    );
    const once = await ctl.run(['lease', 'keep-alive', '--once', '1234']);
    assert.deepEqual([once.code, once.stdout, once.stderr], [2, '', `Error: ${notFound}\n`]);
    const stream = await ctl.run(['lease', 'keep-alive', '1234']);
    assert.deepEqual([stream.code, stream.stdout], [0, 'lease 0000000000001234 expired or revoked.\n']);
    assert.equal(await ctl.ok(['lease', 'timetolive', '1234']), 'lease 0000000000001234 already expired\n');
  });

  void it('leases and their keys survive a restart', async () => {
    const id = await grant(600);
    await ctl.ok(['put', '--lease', hex(id), 'rs/k', 'v']);
    await server.restart();
    const ttl = await ctl.ok(['lease', 'timetolive', '--keys', hex(id)]);
    assert.match(
      ttl,
      new RegExp(
        `^lease ${hex(id)} granted with TTL\\(600s\\), remaining\\(\\d+s\\), attached keys\\(\\[rs/k\\]\\)\\n$`,
      ),
    );
    assert.equal(await ctl.ok(['lease', 'revoke', hex(id)]), `lease ${hex(id)} revoked\n`);
    assert.equal(await ctl.ok(['get', 'rs/k']), '');
  });
});

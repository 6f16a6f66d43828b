// The backend quota through etcdctl: writes past --quota-backend-bytes raise NOSPACE and are refused
// with etcd's exact error; reads and deletes still work; after compaction (no defrag needed: LMDB
// reuses freed pages) and `alarm disarm`, writes succeed again.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { etcdctl, startServer, target, type ServerHandle } from './harness.js';

const QUOTA_BYTES = 1024 * 1024;

void describe(
  `backend quota on ${target()}`,
  { skip: target() === 'etcd' ? 'etcd needs a defrag to leave NOSPACE' : false },
  () => {
    let server: ServerHandle;
    const ctl = async (args: string[]) => etcdctl(server.clientUrl, args);

    before(async () => {
      server = await startServer(target(), { extraArgs: [`--quota-backend-bytes=${QUOTA_BYTES}`] });
    });
    after(async () => {
      await server.stop();
    });

    void it('refuses writes past the quota with NOSPACE, then accepts them after compaction and disarm', async () => {
      const value = 'v'.repeat(64 * 1024);
      let refused: { code: number; stderr: string } | undefined;
      let i = 0;
      for (; i < 64; i++) {
        const r = await ctl(['put', `big${i % 4}`, value]);
        if (r.code !== 0) {
          refused = r;
          break;
        }
      }
      assert.ok(refused !== undefined, 'a put was refused before 64 puts of 64 KiB into a 1 MiB quota');
      assert.match(refused.stderr, /Error: etcdserver: mvcc: database space exceeded/);
      const alarms = await ctl(['alarm', 'list']);
      assert.match(alarms.stdout, /^memberID:\d+ alarm:NOSPACE $/m);
      // Reads still work while the alarm is raised; writes stay refused.
      assert.equal((await ctl(['get', 'big0', '--print-value-only'])).stdout, `${value}\n`);
      assert.match((await ctl(['put', 'small', 'x'])).stderr, /database space exceeded/);

      const got = await ctl(['get', 'big0', '-w', 'json']);
      const rev = /"revision":(\d+)/.exec(got.stdout)?.[1];
      assert.ok(rev !== undefined, got.stdout + got.stderr);
      assert.equal((await ctl(['compaction', rev, '--physical'])).code, 0);
      assert.equal((await ctl(['alarm', 'disarm'])).code, 0);
      assert.equal((await ctl(['alarm', 'list'])).stdout, '');
      const again = await ctl(['put', 'small', 'x']);
      assert.equal(again.stdout, 'OK\n', again.stderr);
    });
  },
);

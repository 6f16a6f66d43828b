// Observe on a real member: the reports etcd's observe loop makes (the current leader, each
// proclaim, the next leader once the key is deleted, the first put when nobody leads), and its end
// when the caller gives up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Err, EtcdError, utf8 } from '../../base/index.js';
import { DeleteRangeRequest } from '../../generated/etcdserverpb.js';
import { campaign, proclaim, resign } from './election.js';
import { observe, type LeaderReport } from './observe.js';
import { eventually, grant, put, text, withMember } from './test-helpers.js';

const live = () => new AbortController().signal;

/** "key=value@headerRevision" for each report. */
const shown = (rs: LeaderReport[]): string[] =>
  rs.map((r) => `${text(r.kv.key)}=${text(r.kv.value)}@${r.header.revision}`);

test(
  'reports the first put when nobody leads, each proclaim, and the next leader once the key goes',
  withMember(async ({ server, client }) => {
    const reports: LeaderReport[] = [];
    const ac = new AbortController();
    const done = observe(client, utf8('e'), ac.signal, (r) => {
      reports.push(r);
      return Promise.resolve();
    });
    const [a, b] = [await grant(server, 60n), await grant(server, 60n)];
    const hexA = a.toString(16);
    const hexB = b.toString(16);
    const r1 = await put(server, 'e/zz', 'not a candidate');
    await eventually(() => Promise.resolve(reports.length === 1));
    await server.deleteRange(DeleteRangeRequest.create({ key: utf8('e/zz') }));
    const won = await campaign(client, utf8('e'), a, utf8('a'), live());
    await eventually(() => Promise.resolve(reports.length === 2));
    const next = campaign(client, utf8('e'), b, utf8('b'), live());
    await proclaim(client, won.leader, utf8('a2'), live());
    const r3 = server.revision;
    await eventually(() => Promise.resolve(reports.length === 3));
    await put(server, 'e/', 'latecomer'); // created after b: not the next leader
    await resign(client, won.leader, live());
    const r4 = server.revision;
    const elected = await next;
    await eventually(() => Promise.resolve(reports.length === 4));
    assert.deepEqual(shown(reports), [
      `e/zz=not a candidate@${r1}`,
      `e/${hexA}=a@${won.header.revision}`,
      `e/${hexA}=a2@${r3}`,
      `e/${hexB}=b@${r4}`,
    ]);
    assert.equal(reports[3]!.kv.createRevision, elected.leader.rev);
    ac.abort();
    await assert.rejects(done, new EtcdError(Err.contextCanceled));
  }),
);

test(
  'an observer that starts while someone leads reports that leader first',
  withMember(async ({ server, client }) => {
    const a = await grant(server, 60n);
    const won = await campaign(client, utf8('e'), a, utf8('a'), live());
    await put(server, 'unrelated', 'x');
    const reports: LeaderReport[] = [];
    const ac = new AbortController();
    const done = observe(client, utf8('e'), ac.signal, (r) => {
      reports.push(r);
      return Promise.resolve();
    });
    await eventually(() => Promise.resolve(reports.length === 1));
    assert.deepEqual(shown(reports), [`e/${a.toString(16)}=a@${server.revision}`]);
    assert.equal(reports[0]!.kv.createRevision, won.leader.rev);
    ac.abort();
    await assert.rejects(done, new EtcdError(Err.contextCanceled));
  }),
);

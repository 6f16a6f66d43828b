// The lock and election services' edge rules, on a real member (the recipes themselves are tested
// in src/server/concurrency, and against etcd 3.4 by test/e2e/differential-lock-election.test.ts):
// failures from inside answer Unknown with etcd's message, a learner refuses every method, and an
// Observe stream opened with `hasleader: true` ends with "etcdserver: no leader" once the member
// has known no leader for three election timeouts, while one without it carries on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Err, EtcdError, utf8 } from '../../base/index.js';
import type { LeaderResponse } from '../../generated/v3electionpb.js';
import { eventually, put, text, withMember } from '../../server/concurrency/test-helpers.js';
import type { CallContext, ServerStream } from './bind.js';
import { electionService } from './election-service.js';
import { Code, GrpcError } from './errors.js';
import { lockService } from './lock-service.js';

function fakeStream(
  metadata: Record<string, string>,
  signal: AbortSignal,
): ServerStream<LeaderResponse> & {
  sent: LeaderResponse[];
} {
  const sent: LeaderResponse[] = [];
  return {
    sent,
    path: '/v3electionpb.Election/Observe',
    metadata,
    binaryMetadata: {},
    timeoutMs: undefined,
    deadline: undefined,
    signal,
    peer: 'test',
    done: false,
    send: (m) => {
      sent.push(m);
      return true;
    },
    drain: () => Promise.resolve(),
    sendHeaders: () => undefined,
  };
}

const ctx = (signal = new AbortController().signal): CallContext => fakeStream({}, signal);

test(
  'failures from inside answer Unknown with etcd’s message',
  withMember(async ({ server, client }) => {
    const lock = lockService(server, client);
    await assert.rejects(
      lock.Lock({ name: utf8('l'), lease: 0x999n }, ctx()),
      new GrpcError(Code.UNKNOWN, Err.leaseNotFound),
    );
    await assert.rejects(
      lock.Unlock({ key: new Uint8Array(0) }, ctx()),
      new GrpcError(Code.UNKNOWN, Err.emptyKey),
    );
    const election = electionService(server, client);
    await assert.rejects(
      election.Leader({ name: utf8('e') }, ctx()),
      new GrpcError(Code.UNKNOWN, 'election: no leader'),
    );
  }),
);

test(
  'a learner refuses every method with "rpc not supported for learner"',
  withMember(async ({ client }) => {
    const learner = { isLearner: true, leaderId: 1n, electionMs: 100 };
    const refused = new EtcdError(Err.notSupportedForLearner);
    const lock = lockService(learner, client);
    await assert.rejects(lock.Lock({ name: utf8('l'), lease: 0n }, ctx()), refused);
    await assert.rejects(lock.Unlock({ key: utf8('l/1') }, ctx()), refused);
    const election = electionService(learner, client);
    await assert.rejects(election.Leader({ name: utf8('e') }, ctx()), refused);
    await assert.rejects(election.Campaign({ name: utf8('e'), lease: 0n, value: utf8('v') }, ctx()), refused);
    const ac = new AbortController();
    await assert.rejects(election.Observe({ name: utf8('e') }, fakeStream({}, ac.signal)), refused);
  }),
);

test(
  'Observe with hasleader ends with "no leader" after three leaderless election timeouts; without it, it carries on',
  withMember(async ({ server, client }) => {
    const leaderless = { isLearner: false, leaderId: 0n, electionMs: 20 };
    const election = electionService(leaderless, client);
    await put(server, 'e/1', 'v');
    const plain = new AbortController();
    const carriesOn = fakeStream({}, plain.signal);
    const observing = election.Observe({ name: utf8('e') }, carriesOn);
    const strict = fakeStream({ hasleader: 'true' }, new AbortController().signal);
    await assert.rejects(
      election.Observe({ name: utf8('e') }, strict),
      new GrpcError(Code.UNAVAILABLE, Err.noLeader),
    );
    await eventually(() => Promise.resolve(carriesOn.sent.length === 1));
    assert.equal(text(carriesOn.sent[0]!.kv!.key), 'e/1');
    plain.abort();
    await observing; // a client that went away gets no status
  }),
);

// The hasleader interceptor refuses calls that require a leader while there is none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Err } from '../../base/errors.js';
import type { CallContext } from './bind.js';
import { requireLeaderInterceptor } from './interceptors.js';

const call = (metadata: Record<string, string>) => ({ metadata }) as unknown as CallContext;

test('a call with hasleader=true fails with "no leader" only while there is no leader', () => {
  let lead = 0n;
  const check = requireLeaderInterceptor(() => lead);
  assert.throws(() => check(call({ hasleader: 'true' }), 'Put'), { message: Err.noLeader });
  check(call({}), 'Put');
  check(call({ hasleader: 'false' }), 'Put');
  lead = 5n;
  check(call({ hasleader: 'true' }), 'Put');
});

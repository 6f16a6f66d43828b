import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commands } from './run.js';

test('the command line is printed as typed, through npm or node, with shell quoting', () => {
  assert.deepEqual(commands(['--only', 'etcd'], true), {
    command: 'npm run bench -- --only etcd',
    nodeCommand: 'node dist/bench/run.js --only etcd',
  });
  assert.deepEqual(commands([], true), { command: 'npm run bench', nodeCommand: 'node dist/bench/run.js' });
  assert.equal(
    commands(['--ketch-bin', "/tmp/my ketch's"], false).command,
    `node dist/bench/run.js --ketch-bin '/tmp/my ketch'\\''s'`,
  );
});

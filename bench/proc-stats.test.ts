import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CpuSample,
  parseMachineBusySeconds,
  parseStatCpuSeconds,
  parseStatusKb,
  peakRssBytes,
  processCpuSeconds,
} from './proc-stats.js';

test('utime + stime are read after the last parenthesis, whatever the command name holds', () => {
  const fields = [
    'S',
    '1',
    '2',
    '3',
    '0',
    '-1',
    '4194560',
    '100',
    '0',
    '0',
    '0',
    '250',
    '50',
    '0',
    '0',
    '20',
    '0',
    '8',
  ];
  const stat = `1234 (we ird) (name)) ${fields.join(' ')}`;
  assert.equal(parseStatCpuSeconds(stat, 100), 3);
  assert.throws(() => parseStatCpuSeconds('1 (x) S 1', 100), /unreadable/);
});

test('VmHWM is read in kB and returned in bytes', () => {
  const status = 'Name:\tetcd\nVmPeak:\t  999 kB\nVmHWM:\t   132760 kB\nVmRSS:\t  100 kB\n';
  assert.equal(parseStatusKb(status, 'VmHWM'), 132760 * 1024);
  assert.throws(() => parseStatusKb('Name: x\n', 'VmHWM'), /no VmHWM/);
});

test('machine busy time excludes idle and iowait and the guest columns', () => {
  const stat = 'cpu  100 5 20 1000 30 1 2 3 7 0\ncpu0 1 2 3 4\n';
  assert.equal(parseMachineBusySeconds(stat, 100), (100 + 5 + 20 + 1 + 2 + 3) / 100);
});

test('live readings of this process are positive and CPU deltas are non-negative', () => {
  assert.ok(peakRssBytes(process.pid) > 1024 * 1024);
  assert.ok(processCpuSeconds(process.pid) > 0);
  const s = new CpuSample(process.pid);
  let x = 0;
  for (let i = 0; i < 1e6; i++) x += i;
  assert.ok(x > 0);
  const d = s.since();
  assert.ok(d.serverSec >= 0 && d.generatorSec >= 0 && d.otherSec >= 0 && d.wallSec >= 0);
});

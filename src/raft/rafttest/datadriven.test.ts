import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScript, runScript } from './datadriven.js';

const script = `# a comment
echo a b=1 c=(x, y)
some input
----
a
b=1

multi
----
----
one

two
----
----
`;

test('parses commands, arguments, input and both output forms', () => {
  const cases = parseScript(script);
  assert.equal(cases.length, 2);
  assert.deepEqual(cases[0]!.args, [
    { key: 'a', values: [] },
    { key: 'b', values: ['1'] },
    { key: 'c', values: ['x', 'y'] },
  ]);
  assert.equal(cases[0]!.input, 'some input');
  assert.equal(cases[0]!.expected, 'a\nb=1');
  assert.equal(cases[1]!.cmd, 'multi');
  assert.equal(cases[1]!.expected, 'one\n\ntwo');
});

test('a matching handler reproduces the script exactly; a different one is reported and rewritten', () => {
  const same = runScript(script, (c) => c.expected);
  assert.deepEqual(same.mismatches, []);
  assert.equal(same.rewritten, script);
  const changed = runScript(script, (c) => (c.cmd === 'echo' ? 'changed' : c.expected));
  assert.equal(changed.mismatches.length, 1);
  assert.equal(changed.mismatches[0]!.line, 2);
  assert.deepEqual(
    parseScript(changed.rewritten).map((c) => c.expected),
    ['changed', 'one\n\ntwo'],
  );
});

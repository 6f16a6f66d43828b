// Runs every data-driven interaction script in src/raft/testdata through the interaction env
// (rafttest/interaction-env.ts). A mismatch fails with the script's line, the expected and the
// actual output. KETCH_REWRITE=1 writes the actual output back into the script instead: read the
// diff and keep it only when it is what Raft should do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runScript } from './rafttest/datadriven.js';
import { InteractionEnv } from './rafttest/interaction-env.js';

// The compiled test runs from dist/src/raft; the scripts stay in the source tree.
const here = dirname(fileURLToPath(import.meta.url));
const testdata = join(here, '..', '..', '..', 'src', 'raft', 'testdata');

for (const file of readdirSync(testdata)
  .filter((f) => f.endsWith('.txt'))
  .sort()) {
  test(`interaction script ${file}`, () => {
    const path = join(testdata, file);
    const text = readFileSync(path, 'utf8');
    const env = new InteractionEnv();
    const result = runScript(text, (c) => env.handle(c));
    if (process.env['KETCH_REWRITE'] === '1') {
      writeFileSync(path, result.rewritten);
      return;
    }
    const report = result.mismatches
      .map((m) => `${file}:${m.line}: ${m.cmd}\n--- expected\n${m.expected}\n--- actual\n${m.actual}`)
      .join('\n\n');
    assert.equal(result.mismatches.length, 0, report);
  });
}

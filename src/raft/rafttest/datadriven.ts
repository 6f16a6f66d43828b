// Data-driven test scripts, in the style of cockroachdb/datadriven that etcd-io/raft uses:
//
//   command pos1 key=value key=(a,b)
//   optional input lines
//   ----
//   expected output
//   <blank line>
//
// When the expected output itself contains blank lines, it is written between `----\n----` and
// `----\n----`. Lines starting with `#` between cases are comments. This module is pure: the test
// files read scripts from disk, call `runScript`, and compare (or, with KETCH_REWRITE=1, rewrite).

export interface CmdArg {
  key: string;
  /** A bare word has key = the word and no values; `k=v` and `k=(a,b)` have values. */
  values: string[];
}

export interface TestCase {
  /** 1-based line of the command, for messages. */
  line: number;
  cmd: string;
  args: CmdArg[];
  input: string;
  expected: string;
}

export function parseArgs(words: string[]): CmdArg[] {
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq < 0) return { key: w, values: [] };
    const key = w.slice(0, eq);
    let v = w.slice(eq + 1);
    if (v.startsWith('(') && v.endsWith(')')) v = v.slice(1, -1);
    return { key, values: v === '' ? [] : v.split(',').map((s) => s.trim()) };
  });
}

/** Splits a command line into words, keeping `key=(a, b)` together. */
function splitWords(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let depth = 0;
  for (const ch of line) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (/\s/.test(ch) && depth === 0) {
      if (cur !== '') out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur !== '') out.push(cur);
  return out;
}

export function parseScript(text: string): TestCase[] {
  const lines = text.split('\n');
  const cases: TestCase[] = [];
  let i = 0;
  while (i < lines.length) {
    const l = lines[i]!;
    if (l.trim() === '' || l.startsWith('#')) {
      i++;
      continue;
    }
    const line = i + 1;
    const words = splitWords(l);
    i++;
    const input: string[] = [];
    while (i < lines.length && lines[i] !== '----') input.push(lines[i++]!);
    if (i >= lines.length) throw new Error(`line ${line}: command without a ---- separator`);
    i++;
    const out: string[] = [];
    if (lines[i] === '----') {
      i++;
      while (i < lines.length && !(lines[i] === '----' && lines[i + 1] === '----')) out.push(lines[i++]!);
      if (i >= lines.length) throw new Error(`line ${line}: unterminated ----/---- block`);
      i += 2;
    } else {
      while (i < lines.length && lines[i]!.trim() !== '') out.push(lines[i++]!);
    }
    cases.push({
      line,
      cmd: words[0]!,
      args: parseArgs(words.slice(1)),
      input: input.join('\n'),
      expected: out.join('\n'),
    });
  }
  return cases;
}

export interface ScriptResult {
  /** The script with every expected output replaced by the actual one. */
  rewritten: string;
  mismatches: { line: number; cmd: string; expected: string; actual: string }[];
}

function renderOutput(actual: string): string {
  const body = actual.replace(/\n+$/, '');
  if (body.split('\n').some((l) => l.trim() === '')) return `----\n----\n${body}\n----\n----\n`;
  return `----\n${body}${body === '' ? '' : '\n'}`;
}

/**
 * Runs every case through `handler` (which returns the actual output) and reports mismatches.
 * Comments and command lines are kept verbatim in the rewritten text.
 */
export function runScript(text: string, handler: (c: TestCase) => string): ScriptResult {
  const lines = text.split('\n');
  const cases = parseScript(text);
  const mismatches: ScriptResult['mismatches'] = [];
  const parts: string[] = [];
  let prevEnd = 0;
  for (const c of cases) {
    const actual = handler(c).replace(/\n+$/, '');
    if (actual !== c.expected) mismatches.push({ line: c.line, cmd: c.cmd, expected: c.expected, actual });
    const inputLines = c.input === '' ? 0 : c.input.split('\n').length;
    parts.push(lines.slice(prevEnd, c.line - 1 + 1 + inputLines).join('\n'));
    parts.push('\n' + renderOutput(actual));
    // skip the old output block
    let j = c.line + inputLines + 1;
    if (lines[j] === '----') {
      j++;
      while (j < lines.length && !(lines[j] === '----' && lines[j + 1] === '----')) j++;
      j += 2;
    } else {
      while (j < lines.length && lines[j]!.trim() !== '') j++;
    }
    prevEnd = j;
  }
  parts.push(lines.slice(prevEnd).join('\n'));
  return { rewritten: parts.join(''), mismatches };
}

/** Reads `key`'s values from a case; throws a clear error when it is required and missing. */
export function argValues(c: TestCase, key: string): string[] | undefined {
  return c.args.find((a) => a.key === key)?.values;
}

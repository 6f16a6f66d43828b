// Command-line parsing the way etcd 3.4's binary does it: Go's standard `flag` package rules
// (`-name`, `--name`, `--name=value`, `--name value`, bare booleans, `--` ends flags, the first
// non-flag argument ends parsing) and Go's value syntax for numbers, booleans and durations, so
// that every accepted spelling and every error message matches what an etcd user already knows.
// Nothing here knows etcd's flag list; src/cli/config.ts declares it.

/** Why a value was rejected, in the words Go's strconv reports ('parse error' / 'value out of range'). */
export class GoValueError extends Error {
  constructor(
    readonly reason: 'syntax' | 'range',
    message: string,
  ) {
    super(message);
  }
}

/** Go's strconv.Quote for the strings we print (ASCII-safe via JSON escaping). */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** Go's `%q` of a []string: `["a" "b"]`. */
export function goQuoteList(list: readonly string[]): string {
  return `[${list.map(goQuote).join(' ')}]`;
}

function lower(c: string): string {
  return c.toLowerCase();
}

/** Go's strconv.underscoreOK: underscores may only separate digits (a base prefix counts as one). */
function underscoreOK(text: string): boolean {
  let s = text;
  let saw = '^';
  let i = 0;
  if (s.length >= 1 && (s[0] === '-' || s[0] === '+')) s = s.slice(1);
  let hex = false;
  if (s.length >= 2 && s[0] === '0' && 'box'.includes(lower(s[1] ?? ''))) {
    i = 2;
    saw = '0';
    hex = lower(s[1] ?? '') === 'x';
  }
  for (; i < s.length; i++) {
    const c = s[i] ?? '';
    if ((c >= '0' && c <= '9') || (hex && lower(c) >= 'a' && lower(c) <= 'f')) {
      saw = '0';
      continue;
    }
    if (c === '_') {
      if (saw !== '0') return false;
      saw = '_';
      continue;
    }
    if (saw === '_') return false;
    saw = '!';
  }
  return saw !== '_';
}

function digitValue(c: string): number {
  const d = c.toLowerCase().charCodeAt(0);
  if (d >= 48 && d <= 57) return d - 48;
  if (d >= 97 && d <= 122) return d - 97 + 10;
  return 99;
}

/** Go's strconv.ParseUint(s, 0, bits): decimal, 0x / 0o / 0b / leading-0 octal, underscores. */
export function parseGoUint(s: string, bits: number): bigint {
  const fn = 'strconv.ParseUint';
  const syntax = () => new GoValueError('syntax', `${fn}: parsing ${goQuote(s)}: invalid syntax`);
  if (s === '') throw syntax();
  let base = 10;
  let body = s;
  if (s[0] === '0') {
    const p = lower(s[1] ?? '');
    if (s.length >= 3 && (p === 'b' || p === 'o' || p === 'x')) {
      base = p === 'b' ? 2 : p === 'o' ? 8 : 16;
      body = s.slice(2);
    } else {
      base = 8;
      body = s.slice(1);
    }
  }
  const max = (1n << BigInt(bits)) - 1n;
  let n = 0n;
  let underscores = false;
  let overflow = false;
  for (const c of body) {
    if (c === '_') {
      underscores = true;
      continue;
    }
    const d = digitValue(c);
    if (d >= base) throw syntax();
    n = n * BigInt(base) + BigInt(d);
    if (n > max) overflow = true;
  }
  if (underscores && !underscoreOK(s)) throw syntax();
  if (overflow) throw new GoValueError('range', `${fn}: parsing ${goQuote(s)}: value out of range`);
  return n;
}

/** Go's strconv.ParseInt(s, 0, bits). */
export function parseGoInt(s: string, bits: number): bigint {
  const neg = s.startsWith('-');
  const body = s.startsWith('-') || s.startsWith('+') ? s.slice(1) : s;
  let u: bigint;
  try {
    u = parseGoUint(body, 64);
  } catch (e) {
    if (!(e instanceof GoValueError)) throw e;
    const word = e.reason === 'syntax' ? 'invalid syntax' : 'value out of range';
    throw new GoValueError(e.reason, `strconv.ParseInt: parsing ${goQuote(s)}: ${word}`);
  }
  const limit = 1n << BigInt(bits - 1);
  if ((!neg && u >= limit) || (neg && u > limit)) {
    throw new GoValueError('range', `strconv.ParseInt: parsing ${goQuote(s)}: value out of range`);
  }
  return neg ? -u : u;
}

/** Go's strconv.ParseBool. */
export function parseGoBool(s: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  throw new GoValueError('syntax', `strconv.ParseBool: parsing ${goQuote(s)}: invalid syntax`);
}

const unitNanos: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n,
  μs: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

/** Go's time.ParseDuration, in nanoseconds; errors carry Go's `time: ...` text. */
export function parseGoDuration(orig: string): bigint {
  const invalid = () => new GoValueError('syntax', `time: invalid duration ${goQuote(orig)}`);
  let s = orig;
  let neg = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') throw invalid();
  let total = 0n;
  while (s !== '') {
    const m = /^([0-9]*)(?:\.([0-9]*))?/.exec(s);
    const whole = m?.[1] ?? '';
    const frac = m?.[2];
    if (whole === '' && (frac === undefined || frac === '')) throw invalid();
    s = s.slice(m?.[0].length ?? 0);
    const unitMatch = /^[^0-9.]*/.exec(s);
    const unit = unitMatch?.[0] ?? '';
    s = s.slice(unit.length);
    if (unit === '') throw new GoValueError('syntax', `time: missing unit in duration ${goQuote(orig)}`);
    const scale = unitNanos[unit];
    if (scale === undefined) {
      throw new GoValueError('syntax', `time: unknown unit ${goQuote(unit)} in duration ${goQuote(orig)}`);
    }
    let v = BigInt(whole === '' ? '0' : whole) * scale;
    if (frac !== undefined && frac !== '') {
      v += (BigInt(frac) * scale) / 10n ** BigInt(frac.length);
    }
    total += v;
    if (total > (1n << 63n) - 1n) throw invalid();
  }
  return neg ? -total : total;
}

/** Go's net.SplitHostPort, reduced to the accept/reject decision and the parts. */
export function splitHostPort(hostport: string): { host: string; port: string } | undefined {
  const i = hostport.lastIndexOf(':');
  if (i < 0) return undefined;
  let host: string;
  let j = 0;
  let k = 0;
  if (hostport[0] === '[') {
    const end = hostport.indexOf(']');
    if (end < 0 || end + 1 !== i) return undefined;
    host = hostport.slice(1, end);
    j = 1;
    k = end + 1;
  } else {
    host = hostport.slice(0, i);
    if (host.includes(':')) return undefined;
  }
  if (hostport.slice(j).includes('[') || hostport.slice(k).includes(']')) return undefined;
  return { host, port: hostport.slice(i + 1) };
}

/** One flag as Go's flag package sees it. `set` throws an Error whose message is the reason. */
export interface FlagSpec {
  name: string;
  isBool: boolean;
  set(value: string): void;
}

export type FlagParseOutcome =
  | { kind: 'ok'; setNames: string[]; positional: string[] }
  | { kind: 'help' }
  | { kind: 'error'; message: string };

/**
 * Go's FlagSet.Parse with ContinueOnError: returns which flags were set (in order), the
 * arguments left after parsing stopped, or the first error in Go's words.
 */
export function parseFlagArgs(
  args: readonly string[],
  lookup: (name: string) => FlagSpec | undefined,
): FlagParseOutcome {
  const setNames: string[] = [];
  let i = 0;
  while (i < args.length) {
    const s = args[i] ?? '';
    if (s.length < 2 || s[0] !== '-') break;
    let minuses = 1;
    if (s[1] === '-') {
      minuses = 2;
      if (s.length === 2) {
        i++;
        break;
      }
    }
    i++;
    let name = s.slice(minuses);
    if (name.length === 0 || name[0] === '-' || name[0] === '=') {
      return { kind: 'error', message: `bad flag syntax: ${s}` };
    }
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 1) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    const flag = lookup(name);
    if (flag === undefined) {
      if (name === 'help' || name === 'h') return { kind: 'help' };
      return { kind: 'error', message: `flag provided but not defined: -${name}` };
    }
    if (flag.isBool) {
      try {
        flag.set(value ?? 'true');
      } catch (e) {
        const why = (e as Error).message;
        if (value !== undefined)
          return { kind: 'error', message: `invalid boolean value ${goQuote(value)} for -${name}: ${why}` };
        return { kind: 'error', message: `invalid boolean flag ${name}: ${why}` };
      }
    } else {
      if (value === undefined) {
        if (i >= args.length) return { kind: 'error', message: `flag needs an argument: -${name}` };
        value = args[i] ?? '';
        i++;
      }
      try {
        flag.set(value);
      } catch (e) {
        return {
          kind: 'error',
          message: `invalid value ${goQuote(value)} for flag -${name}: ${(e as Error).message}`,
        };
      }
    }
    setNames.push(name);
  }
  return { kind: 'ok', setNames, positional: args.slice(i) };
}

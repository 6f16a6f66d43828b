// The real Logger: one line per entry, shaped like etcd 3.4's zap JSON logger
// (`{"level":"info","ts":"…","caller":"dir/file.js:12","msg":"…",…fields}`) or, for
// `--logger=capnslog`, like its capnslog text (`2026-11-22 04:30:00.123000 I | pkg: msg`). Each
// line is written with one synchronous write(2) on the output's file descriptor, so lines from
// different callers never interleave and the last lines before a crash are on disk or in the
// pipe, not in a Node stream buffer. int64 values (bigint) are printed as exact decimal numbers;
// byte strings as readable text.
import { closeSync, openSync, writeSync } from 'node:fs';
import type { LogFields, LogLevel, Logger } from '../base/log.js';

const levelRank: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, panic: 4, fatal: 5 };
const capnsChar: Record<LogLevel, string> = {
  debug: 'D',
  info: 'I',
  warn: 'W',
  error: 'E',
  panic: 'C',
  fatal: 'C',
};

export type LogFormat = 'json' | 'capnslog';

export interface LoggerOptions {
  /** Lines below this level are dropped. */
  level: LogLevel;
  /** 'json' (etcd's zap shape, the default) or 'capnslog' (etcd 3.4's default text shape). */
  format?: LogFormat;
  /** 'stderr' (the default), 'stdout', 'default' (= stderr), '/dev/null', or a file path (appended to). */
  output?: string | readonly string[];
  /** Clock for the `ts` field; tests pass a fixed one. */
  now?: () => Date;
  /** Include the `caller` field (file:line of the log call). Default true. */
  caller?: boolean;
  /** capnslog package name; default: the caller's directory. */
  pkg?: string;
  /** Fields added to every line. */
  fields?: LogFields;
  /** What `fatal` calls after writing; default process.exit. */
  exit?: (code: number) => never;
}

export interface PlatformLogger extends Logger {
  readonly level: LogLevel;
  enabled(level: LogLevel): boolean;
  /** Writes at panic level, then throws an Error with the message (zap's Panic). */
  panic(msg: string, fields?: LogFields): never;
  /** Writes at fatal level, then exits with status 1 (zap's Fatal). */
  fatal(msg: string, fields?: LogFields): never;
  /** A logger that adds these fields to every line and shares this one's outputs. */
  with(fields: LogFields): PlatformLogger;
  /** Close file outputs opened by createLogger. Idempotent. */
  close(): void;
}

const maxBytesShown = 256;
const maxDepth = 8;

/** Bytes as text: valid printable UTF-8 as is, anything else with `\\xNN` escapes; long values cut. */
export function readableBytes(b: Uint8Array): string {
  const shown = b.length > maxBytesShown ? b.subarray(0, maxBytesShown) : b;
  const suffix = b.length > maxBytesShown ? `...(${b.length} bytes)` : '';
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(shown);
    if (!/[\x00-\x1f\x7f\\]/.test(text)) return text + suffix;
  } catch {
    // not UTF-8: escape below
  }
  let out = '';
  for (const byte of shown) {
    if (byte === 0x5c) out += '\\\\';
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return out + suffix;
}

function encodeNumber(n: number): string {
  if (Number.isFinite(n)) return String(n);
  return Number.isNaN(n) ? '"NaN"' : n > 0 ? '"+Inf"' : '"-Inf"';
}

function encodeObject(v: object, seen: Set<object>, depth: number): string {
  if (v instanceof Uint8Array) return JSON.stringify(readableBytes(v));
  if (v instanceof Error) return JSON.stringify(v.message);
  if (v instanceof Date) return JSON.stringify(Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString());
  if (v instanceof URL)
    return JSON.stringify(
      v.pathname === '/' && v.search === '' && v.hash === '' ? `${v.protocol}//${v.host}` : v.href,
    );
  if (seen.has(v)) return '"[Circular]"';
  if (depth >= maxDepth) return '"[Object]"';
  seen.add(v);
  try {
    if (Array.isArray(v) || v instanceof Set)
      return `[${[...(v as Iterable<unknown>)].map((x) => encode(x, seen, depth + 1)).join(',')}]`;
    const entries: [string, unknown][] =
      v instanceof Map ? [...v].map(([k, x]) => [String(k), x]) : Object.entries(v);
    const toJSON = (v as { toJSON?: unknown }).toJSON;
    if (!(v instanceof Map) && typeof toJSON === 'function') return encode(toJSON.call(v), seen, depth + 1);
    const parts = entries.filter(([, x]) => x !== undefined && typeof x !== 'function');
    return `{${parts.map(([k, x]) => `${JSON.stringify(k)}:${encode(x, seen, depth + 1)}`).join(',')}}`;
  } finally {
    seen.delete(v);
  }
}

function encode(v: unknown, seen: Set<object>, depth: number): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return encodeNumber(v);
    case 'bigint':
      return v.toString();
    case 'boolean':
      return v ? 'true' : 'false';
    case 'undefined':
      return 'null';
    case 'object':
      return v === null ? 'null' : encodeObject(v, seen, depth);
    default:
      return JSON.stringify(String(v));
  }
}

/** A field value as JSON text: bigint as exact decimal, bytes readable, errors by message. */
export function encodeLogValue(v: unknown): string {
  return encode(v, new Set(), 0);
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** zap's ISO8601 encoder: local time, millisecond precision, `Z` or `+hhmm`. */
export function formatZapTime(d: Date): string {
  const off = -d.getTimezoneOffset();
  const zone =
    off === 0
      ? 'Z'
      : `${off > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(off) / 60))}${pad(Math.abs(off) % 60)}`;
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}${zone}`
  );
}

/** capnslog's time: local `2006-01-02 15:04:05.000000`. */
export function formatCapnslogTime(d: Date): string {
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds() * 1000, 6)}`
  );
}

/** One zap-shaped JSON line (with the trailing newline). */
export function formatJsonLine(
  level: LogLevel,
  msg: string,
  fields: LogFields,
  ts: Date,
  caller?: string,
): string {
  let line = `{"level":"${level}","ts":"${formatZapTime(ts)}"`;
  if (caller !== undefined) line += `,"caller":${JSON.stringify(caller)}`;
  line += `,"msg":${JSON.stringify(msg)}`;
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    line += `,${JSON.stringify(k)}:${encodeLogValue(v)}`;
  }
  return `${line}}\n`;
}

/** One capnslog-shaped text line; fields, if any, follow the message as a JSON object. */
export function formatCapnslogLine(
  level: LogLevel,
  pkg: string,
  msg: string,
  fields: LogFields,
  ts: Date,
): string {
  const present = Object.entries(fields).filter(([, v]) => v !== undefined);
  const tail =
    present.length === 0
      ? ''
      : ` {${present.map(([k, v]) => `${JSON.stringify(k)}:${encodeLogValue(v)}`).join(',')}}`;
  return `${formatCapnslogTime(ts)} ${capnsChar[level]} | ${pkg}: ${msg}${tail}\n`;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** write(2) the whole buffer; a non-blocking pipe that is full is waited on, not dropped. */
export function writeAllSync(fd: number, buf: Uint8Array): boolean {
  let off = 0;
  let spins = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN' || ++spins > 10_000) return false;
      Atomics.wait(sleepCell, 0, 0, 1);
    }
  }
  return true;
}

interface Sink {
  fd: number;
  owned: boolean;
}

function openSinks(output: string | readonly string[] | undefined): Sink[] {
  const names = [...new Set(typeof output === 'string' ? [output] : (output ?? ['stderr']))];
  if (names.includes('/dev/null')) return [];
  const sinks: Sink[] = [];
  for (const name of names.map((n) => (n === 'default' ? 'stderr' : n))) {
    if (name === 'stderr' && !sinks.some((s) => s.fd === 2)) sinks.push({ fd: 2, owned: false });
    else if (name === 'stdout' && !sinks.some((s) => s.fd === 1)) sinks.push({ fd: 1, owned: false });
    else if (name !== 'stderr' && name !== 'stdout')
      sinks.push({ fd: openSync(name, 'a', 0o666), owned: true });
  }
  return sinks;
}

interface Shared {
  sinks: Sink[];
  closed: boolean;
}

type Frames = NodeJS.CallSite[];

/** `dir/file.js:line` of the code that called the logger (zap's short caller). */
function callerOf(skipFn: (...args: never[]) => unknown): string {
  // Saved only to be put back; V8 calls it with `this` unbound anyway.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  const holder: { stack?: Frames } = {};
  try {
    Error.stackTraceLimit = 2;
    Error.prepareStackTrace = (_e, frames) => frames;
    Error.captureStackTrace(holder, skipFn);
    const frame = holder.stack?.[1];
    if (frame === undefined) return 'undefined';
    const file = (frame.getFileName() ?? '???').replace(/^file:\/\//, '');
    const parts = file.split('/');
    return `${parts.slice(-2).join('/')}:${frame.getLineNumber() ?? 0}`;
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
}

class LoggerImpl implements PlatformLogger {
  constructor(
    private readonly opts: LoggerOptions,
    private readonly shared: Shared,
    private readonly bound: LogFields,
  ) {}

  get level(): LogLevel {
    return this.opts.level;
  }
  enabled(level: LogLevel): boolean {
    return levelRank[level] >= levelRank[this.opts.level];
  }
  debug(msg: string, fields?: LogFields): void {
    if (this.enabled('debug')) this.emit('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    if (this.enabled('info')) this.emit('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    if (this.enabled('warn')) this.emit('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    if (this.enabled('error')) this.emit('error', msg, fields);
  }
  panic(msg: string, fields?: LogFields): never {
    this.emit('panic', msg, fields);
    throw new Error(msg);
  }
  fatal(msg: string, fields?: LogFields): never {
    this.emit('fatal', msg, fields);
    return (this.opts.exit ?? ((code: number) => process.exit(code)))(1);
  }
  with(fields: LogFields): PlatformLogger {
    return new LoggerImpl(this.opts, this.shared, { ...this.bound, ...fields });
  }
  close(): void {
    if (this.shared.closed) return;
    this.shared.closed = true;
    for (const s of this.shared.sinks) if (s.owned) closeSync(s.fd);
  }

  private emit(level: LogLevel, msg: string, fields: LogFields | undefined): void {
    if (this.shared.closed || this.shared.sinks.length === 0) return;
    const all = fields === undefined ? this.bound : { ...this.bound, ...fields };
    const ts = (this.opts.now ?? (() => new Date()))();
    // The method is only a stack-frame marker for captureStackTrace, never called through it.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    const caller = this.opts.caller === false ? undefined : callerOf(this.emit);
    const line =
      this.opts.format === 'capnslog'
        ? formatCapnslogLine(
            level,
            this.opts.pkg ?? (caller ?? 'ketch').split('/')[0] ?? 'ketch',
            msg,
            all,
            ts,
          )
        : formatJsonLine(level, msg, all, ts, caller);
    const buf = Buffer.from(line, 'utf8');
    for (const s of this.shared.sinks) writeAllSync(s.fd, buf);
  }
}

/** A logger writing etcd-shaped lines to stderr, stdout or files, filtered by level. */
export function createLogger(opts: LoggerOptions): PlatformLogger {
  return new LoggerImpl(opts, { sinks: openSinks(opts.output), closed: false }, opts.fields ?? {});
}

// Assertions are always on (DESIGN §5.4): a broken invariant crashes the process rather than
// letting it go on with state that is wrong.

export class AssertionError extends Error {
  override name = 'AssertionError';
}

export function assert(cond: unknown, message = 'assertion failed'): asserts cond {
  if (!cond) throw new AssertionError(message);
}

export function unreachable(value: never, what = 'value'): never {
  throw new AssertionError(`unreachable ${what}: ${String(value)}`);
}

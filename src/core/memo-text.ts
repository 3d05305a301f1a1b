/**
 * The longest text remembered: the period (`1403-07`), a province code (`IR-23`), a date
 * (`1403-08-20`) fit. Short on purpose: V8 keeps a substring of 13 or more characters as a view
 * of its parent string, and a remembered cell must not hold the reader's 1 MiB chunk alive.
 */
export const MEMO_TEXT_MAX_LENGTH = 12;

/**
 * A pure function of a short text, remembered: input columns repeat the same few values on every
 * row (the period, a province, a payment date), so each distinct text is parsed once. At most
 * `capacity` texts of at most {@link MEMO_TEXT_MAX_LENGTH} characters are kept (longer ones are
 * computed every time: hostile cells cannot fill memory); the table is emptied when full (a file
 * of all-distinct values then costs one map insertion per row, no unbounded growth).
 *
 * `fn` MUST be pure and its results MUST NOT be mutated by callers (they are shared).
 *
 * @example
 * const parse = memoText(parsePeriodUncached);
 * parse("1403-07") // parsed once, then looked up
 */
export function memoText<T>(fn: (text: string) => T, capacity = 1024): (text: string) => T {
  const seen = new Map<string, T>();
  return (text) => {
    if (text.length > MEMO_TEXT_MAX_LENGTH) return fn(text);
    const hit = seen.get(text);
    if (hit !== undefined || seen.has(text)) return hit as T;
    const value = fn(text);
    if (seen.size >= capacity) seen.clear();
    seen.set(text, value);
    return value;
  };
}

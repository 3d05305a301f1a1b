import { InvalidInputError } from "../core/errors.ts";

/**
 * The flat TOML subset that Besu's `--config-file` and `permissions_config.toml` use:
 * `key=value` lines where a value is a string, an integer, a boolean or an array of strings,
 * plus `#` comments and blank lines. No tables. Enough to write and re-read what `network init` emits.
 */
export type TomlValue = string | number | boolean | readonly string[];

/** Key → value, in file order; plus the 1-based line of each key for error messages. */
export interface TomlDocument {
  readonly values: ReadonlyMap<string, TomlValue>;
  readonly lines: ReadonlyMap<string, number>;
}

/**
 * Formats entries as flat TOML. Strings are JSON-quoted (a valid TOML basic string for the ASCII
 * values we write); arrays of strings are written on one line.
 *
 * @example
 * formatToml([["min-gas-price", 0], ["rpc-http-api", ["ETH", "NET"]]], ["comment"])
 */
export function formatToml(
  entries: readonly (readonly [string, TomlValue])[],
  comments: readonly string[] = [],
): string {
  const out = comments.map((c) => `# ${c}`);
  for (const [key, value] of entries) {
    if (!/^[A-Za-z0-9_-]+$/.test(key)) throw new Error(`TOML key ${key} is not a bare key`);
    out.push(`${key}=${formatValue(value)}`);
  }
  return out.join("\n") + "\n";
}

function formatValue(value: TomlValue): string {
  if (typeof value === "string") return quote(value);
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value))
      throw new Error(`TOML integer ${value} is not a safe integer`);
    return String(value);
  }
  if (typeof value === "boolean") return value ? "true" : "false";
  return "[" + value.map(quote).join(",") + "]";
}

function quote(s: string): string {
  if (!/^[\x20-\x7e]*$/.test(s))
    throw new Error("TOML strings written by Shafaf are printable ASCII");
  return JSON.stringify(s);
}

/**
 * Parses the flat subset back. Anything outside it (tables, floats, multi-line values, duplicate
 * keys) is an error naming `file:line`.
 *
 * @throws InvalidInputError
 */
export function parseToml(text: string, file: string): TomlDocument {
  const values = new Map<string, TomlValue>();
  const lines = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const eq = line.indexOf("=");
    const fail = (message: string): never => {
      throw new InvalidInputError(`${file}:${lineNo}: ${message}`, {
        field: `${file}:${lineNo}`,
        code: "network.toml.syntax",
        details:
          "Besu config and permissions files are flat key=value TOML (strings, integers, booleans, arrays of strings)",
      });
    };
    if (eq <= 0) fail("expected key=value");
    const key = line.slice(0, eq).trim();
    if (!/^[A-Za-z0-9_-]+$/.test(key)) fail(`"${key}" is not a bare TOML key`);
    if (values.has(key)) fail(`duplicate key ${key}`);
    const valueText = stripComment(line.slice(eq + 1).trim());
    let value: TomlValue;
    if (valueText === "true" || valueText === "false") value = valueText === "true";
    else if (/^-?\d+$/.test(valueText)) value = Number(valueText);
    else if (valueText.startsWith('"')) value = parseString(valueText, fail);
    else if (valueText.startsWith("[")) {
      if (!valueText.endsWith("]")) fail("arrays must close on the same line");
      const inner = valueText.slice(1, -1).trim();
      value = inner === "" ? [] : splitArray(inner).map((item) => parseString(item.trim(), fail));
    } else return fail(`unsupported value ${valueText}`);
    values.set(key, value);
    lines.set(key, lineNo);
  });
  return { values, lines };
}

function stripComment(value: string): string {
  let inString = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === "\\" && inString) i++;
    else if (c === '"') inString = !inString;
    else if (c === "#" && !inString) return value.slice(0, i).trim();
  }
  return value;
}

function splitArray(inner: string): string[] {
  const items: string[] = [];
  let start = 0;
  let inString = false;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if (c === "\\" && inString) i++;
    else if (c === '"') inString = !inString;
    else if (c === "," && !inString) {
      items.push(inner.slice(start, i));
      start = i + 1;
    }
  }
  const last = inner.slice(start);
  if (last.trim() !== "") items.push(last);
  return items;
}

function parseString(text: string, fail: (message: string) => never): string {
  if (!/^"(?:[^"\\]|\\.)*"$/.test(text)) return fail(`expected a quoted string, got ${text}`);
  try {
    return JSON.parse(text) as string;
  } catch {
    return fail(`bad escape in string ${text}`);
  }
}

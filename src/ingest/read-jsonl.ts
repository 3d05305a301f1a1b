/**
 * JSON Lines: one JSON object per line with the CSV column names as keys. Values are strings or
 * JSON integers; an integer beyond 2^53 − 1 cannot be read exactly, so amounts that large must be
 * strings. UTF-8 only (a BOM is accepted), LF or CRLF.
 */
import path from "node:path";
import { RECORD_COLUMNS, type RecordKind } from "../core/record.ts";
import {
  columnForMessage,
  IssueSink,
  looksLikeColumnName,
  type IngestIssue,
  type IssueOptions,
} from "./ingest-issue.ts";
import { finishing, flattenBatches } from "./flatten-batches.ts";
import type { RawRow } from "./raw-row.ts";
import { inferKind, recordColumnsHint, type ColumnSchema } from "./read-csv.ts";
import { Sha256Tap, type SourceInfo } from "./source-info.ts";
import { decodeTextFile, detectTextEncoding } from "./text-source.ts";

export interface ReadJsonlOptions extends IssueOptions {
  /** Expected kind; when absent it is inferred from the first object's keys. */
  kind?: RecordKind;
  /** Other keys than a record kind's; overrides `kind`. */
  schema?: ColumnSchema;
  name?: string;
  onSource?: (info: SourceInfo) => void;
}

type JsonParseWithSource = (
  text: string,
  reviver: (this: unknown, key: string, value: unknown, context?: { source?: string }) => unknown,
) => unknown;

/**
 * Streams the objects of a JSON Lines file as `RawRow`s. `source.line` is the 1-based line.
 * Blank lines are skipped. Unknown keys, non-object lines, floats, unsafe integers, booleans,
 * nested values and malformed JSON are issues (the row is skipped); `null` means absent.
 *
 * @example
 * for await (const row of readJsonl("pensions.jsonl", { kind: "pension", onIssue: report })) { … }
 */
export function readJsonl(
  file: string,
  options: ReadJsonlOptions = {},
): AsyncIterableIterator<RawRow> {
  const sink = new IssueSink(options.onIssue);
  return flattenBatches(finishing(readJsonlBatches(file, options, sink), sink));
}

/** `readJsonl` with a caller-owned sink. */
export function readJsonlInto(
  file: string,
  options: ReadJsonlOptions,
  sink: IssueSink,
): AsyncIterableIterator<RawRow> {
  return flattenBatches(readJsonlBatches(file, options, sink));
}

/** The rows of a JSON Lines file, one batch per decoded chunk. */
export async function* readJsonlBatches(
  file: string,
  options: ReadJsonlOptions,
  sink: IssueSink,
): AsyncGenerator<RawRow[]> {
  const name = options.name ?? path.basename(file);
  const detected = await detectTextEncoding(file, "auto");
  if (detected.encoding === "cp1256" || detected.problem !== undefined) {
    sink.add({
      source: { file: name },
      field: "",
      rule: "jsonl.encoding",
      value: "",
      message: "JSON Lines files must be UTF-8, and this one is not",
      hint: "save the file as UTF-8",
    });
    return;
  }
  const tap = new Sha256Tap();
  let kind = options.kind;
  let allowed: ReadonlySet<string> | undefined =
    options.schema !== undefined
      ? new Set(options.schema.columns)
      : kind === undefined
        ? undefined
        : new Set(RECORD_COLUMNS[kind]);
  const schemaName = options.schema?.name;
  /** Every allowed key, absent: each row starts as a copy (one shape for all rows). */
  let template: Record<string, undefined> | undefined;
  let rest = "";
  let line = 0;
  let rows = 0;
  const issue = (
    ln: number,
    field: string,
    rule: string,
    value: string,
    message: string,
    hint: string,
  ) => {
    const i: IngestIssue = { source: { file: name, line: ln }, field, rule, value, message, hint };
    sink.add(i);
  };

  const parseLine = (text: string, ln: number): RawRow | undefined => {
    const t = text.endsWith("\r") ? text.slice(0, -1) : text;
    if (t.trim() === "") return undefined;
    let obj: unknown;
    try {
      obj = JSON.parse(t);
    } catch (error) {
      // V8's message quotes the line's text: keep only the position.
      const at = /position (\d+)/.exec((error as Error).message);
      const where = at === null ? "" : ` (at character ${Number(at[1]) + 1})`;
      issue(
        ln,
        "",
        "jsonl.syntax",
        "",
        `not valid JSON${where}`,
        "each line must be one JSON object",
      );
      return undefined;
    }
    if (typeof obj !== "object" || obj === null || Array.isArray(obj)) {
      issue(
        ln,
        "",
        "jsonl.not-object",
        "",
        "the line is not a JSON object",
        'write one object per line: {"record_id": "…", …}',
      );
      return undefined;
    }
    const record = obj as Record<string, unknown>;
    if (allowed === undefined) {
      kind = inferKind(Object.keys(record));
      if (kind === undefined) {
        issue(
          ln,
          "",
          "jsonl.kind",
          "",
          "the keys match neither the premium nor the pension columns",
          recordColumnsHint(),
        );
        return undefined;
      }
      allowed = new Set(RECORD_COLUMNS[kind]);
    }
    // Number sources, only when a number might be a float in disguise (1.0, 1e3).
    let sources: Map<string, string> | undefined;
    template ??= Object.fromEntries([...allowed].map((c) => [c, undefined]));
    const fields: Record<string, string | undefined> = { ...template };
    let ok = true;
    for (const key in record) {
      const value = record[key];
      if (!allowed.has(key)) {
        const named = looksLikeColumnName(key);
        issue(
          ln,
          named ? key : "",
          "jsonl.unknown-key",
          columnForMessage(key),
          `unknown key ${named ? `"${key}"` : columnForMessage(key)}`,
          `allowed keys for ${schemaName ?? kind}: ${[...allowed].join(", ")}`,
        );
        ok = false;
        continue;
      }
      if (value === null) continue;
      if (typeof value === "string") {
        const v = value.trim();
        fields[key] = v === "" ? undefined : v;
        continue;
      }
      if (typeof value === "number") {
        if (!Number.isSafeInteger(value)) {
          const float = !Number.isInteger(value);
          issue(
            ln,
            key,
            float ? "jsonl.float" : "jsonl.unsafe-integer",
            "[number]",
            float
              ? `${key} is a fraction; amounts are whole Rials`
              : `${key} is larger than 2^53 − 1 and cannot be read exactly as a JSON number`,
            float ? "write whole Rials" : `write it as a string: "${key}": "…"`,
          );
          ok = false;
          continue;
        }
        if (/[.eE]/.test(t)) {
          sources ??= numberSources(t);
          const src = sources.get(key);
          if (src !== undefined && /[.eE]/.test(src)) {
            issue(
              ln,
              key,
              "jsonl.float",
              "[number]",
              `${key} is written as a fraction or with an exponent`,
              "write whole numbers without a decimal point or exponent",
            );
            ok = false;
            continue;
          }
        }
        fields[key] = String(value);
        continue;
      }
      issue(
        ln,
        key,
        "jsonl.type",
        typeof value,
        `${key} is ${Array.isArray(value) ? "an array" : `a ${typeof value}`}; values are strings or whole numbers`,
        "write the value as a string",
      );
      ok = false;
    }
    if (!ok) return undefined;
    rows++;
    return { source: { file: name, line: ln }, fields };
  };

  for await (const text of decodeTextFile(file, detected.encoding, tap)) {
    const chunk = rest + text;
    const batch: RawRow[] = [];
    let start = 0;
    for (let nl = chunk.indexOf("\n"); nl !== -1; nl = chunk.indexOf("\n", start)) {
      line++;
      const row = parseLine(chunk.slice(start, nl), line);
      start = nl + 1;
      if (row !== undefined) batch.push(row);
    }
    rest = chunk.slice(start);
    if (batch.length > 0) yield batch;
  }
  if (rest !== "") {
    line++;
    const row = parseLine(rest, line);
    if (row !== undefined) yield [row];
  }
  options.onSource?.({
    name,
    sha256: tap.digest(),
    format: "jsonl",
    encoding: detected.encoding,
    records: rows,
  });
}

/** The source text of each top-level number of a JSON object (V8's JSON.parse source access). */
function numberSources(text: string): Map<string, string> {
  const out = new Map<string, string>();
  (JSON.parse as JsonParseWithSource)(text, function (key, value, context) {
    if (this !== null && typeof value === "number" && context?.source !== undefined)
      out.set(key, context.source);
    return value;
  });
  return out;
}

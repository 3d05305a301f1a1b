/**
 * CSV as people really make it (RFC 4180 and Excel): UTF-8 with or without BOM or Windows-1256,
 * CRLF or LF, quoted fields with embedded delimiters, quotes ("") and newlines, and `,`, `;`
 * or tab as the delimiter (whichever the header line uses). Persian and Arabic digits are left
 * as they are: core's validation normalises them.
 */
import path from "node:path";
import { OPTIONAL_COLUMNS, RECORD_COLUMNS, type RecordKind } from "../core/record.ts";
import {
  columnForMessage,
  IssueSink,
  looksLikeColumnName,
  type IngestIssue,
  type IssueOptions,
} from "./ingest-issue.ts";
import { finishing, flattenBatches } from "./flatten-batches.ts";
import type { RawRow } from "./raw-row.ts";
import { Sha256Tap, type SourceInfo } from "./source-info.ts";
import { decodeTextFile, detectTextEncoding, type TextEncodingOption } from "./text-source.ts";

export interface ReadCsvOptions extends IssueOptions {
  /** Default `"auto"`: UTF-8 (BOM or not), else Windows-1256 when the bytes look like it. */
  encoding?: TextEncodingOption;
  /** Expected kind; when absent it is inferred from the header. */
  kind?: RecordKind;
  /** Other columns than a record kind's (e.g. `shafaf dbf write` input); overrides `kind`. */
  schema?: ColumnSchema;
  /** Name used in issues, rows and SourceInfo (default: the file's base name). */
  name?: string;
  /** Receives the file's SourceInfo once it has been read to its end. */
  onSource?: (info: SourceInfo) => void;
}

/** One parsed CSV record: its fields, how many lines it spans, and a syntax problem if any. */
interface CsvRecord {
  fields: string[];
  next: number;
  lines: number;
  problem?: string;
}

/** Longest record accepted (a bound on memory when a quote is never closed). */
const MAX_RECORD = 16 << 20;
const QUOTE = 34;
const LF = 10;
const CR = 13;

/**
 * Parses one record of `buf` starting at `pos`. Returns `undefined` when the record may continue
 * past the end of `buf` and more text is coming (`final` false).
 * `quoteAt` is the position of the next `"` at or after `pos` (or `Infinity`), so that quote-free
 * lines are split without scanning them twice.
 */
function parseRecord(
  buf: string,
  pos: number,
  delim: string,
  quoteAt: number,
  final: boolean,
): CsvRecord | undefined {
  const nl = buf.indexOf("\n", pos);
  if (nl === -1 && !final) return undefined;
  const end = nl === -1 ? buf.length : nl;
  if (quoteAt >= end) {
    let lineEnd = end;
    if (lineEnd > pos && buf.charCodeAt(lineEnd - 1) === CR) lineEnd--;
    return {
      fields: buf.slice(pos, lineEnd).split(delim),
      next: nl === -1 ? end : nl + 1,
      lines: 1,
    };
  }
  return parseQuoted(buf, pos, delim.charCodeAt(0), final);
}

function parseQuoted(
  buf: string,
  pos: number,
  delim: number,
  final: boolean,
): CsvRecord | undefined {
  const fields: string[] = [];
  let field = "";
  let i = pos;
  let lines = 1;
  let inQuotes = false;
  let afterQuote = false;
  let problem: string | undefined;
  for (;;) {
    if (i >= buf.length) {
      if (!final) return undefined;
      if (inQuotes) problem ??= "a quoted field is not closed before the end of the file";
      fields.push(field);
      return { fields, next: i, lines, ...(problem !== undefined ? { problem } : {}) };
    }
    const c = buf.charCodeAt(i);
    if (inQuotes) {
      if (c === QUOTE) {
        if (i + 1 >= buf.length && !final) return undefined;
        if (buf.charCodeAt(i + 1) === QUOTE) {
          field += '"';
          i += 2;
          continue;
        }
        inQuotes = false;
        afterQuote = true;
        i++;
        continue;
      }
      const next = buf.indexOf('"', i);
      const stop = next === -1 ? buf.length : next;
      for (let k = buf.indexOf("\n", i); k !== -1 && k < stop; k = buf.indexOf("\n", k + 1))
        lines++;
      field += buf.slice(i, stop);
      i = stop;
      continue;
    }
    if (c === delim) {
      fields.push(field);
      field = "";
      afterQuote = false;
      i++;
      continue;
    }
    if (c === CR && i + 1 >= buf.length && !final) return undefined;
    if (c === LF || (c === CR && buf.charCodeAt(i + 1) === LF)) {
      fields.push(field);
      return {
        fields,
        next: c === CR ? i + 2 : i + 1,
        lines,
        ...(problem !== undefined ? { problem } : {}),
      };
    }
    if (c === QUOTE && !afterQuote && field.trim() === "") {
      field = "";
      inQuotes = true;
      i++;
      continue;
    }
    if (afterQuote && c !== 32 && c !== 9) {
      problem ??=
        'text follows a closing quote (a quote inside a quoted field must be doubled: "")';
    }
    if (!afterQuote) field += buf[i];
    i++;
  }
}

/** The delimiter of a header line: the most frequent of `,` `;` tab outside quotes (ties: `,`). */
function detectDelimiter(headerLine: string): string {
  let inQuotes = false;
  const counts = new Map<string, number>([
    [",", 0],
    [";", 0],
    ["\t", 0],
  ]);
  for (const ch of headerLine) {
    if (ch === '"') inQuotes = !inQuotes;
    else if (!inQuotes && counts.has(ch)) counts.set(ch, counts.get(ch)! + 1);
  }
  let best = ",";
  for (const [d, n] of counts) if (n > counts.get(best)!) best = d;
  return best;
}

/**
 * The kind a header's columns describe: the one that names most of them, or undefined when no
 * single kind does (columns every kind has — record_id, period, national_id, province … — tie).
 */
export function inferKind(columns: readonly string[]): RecordKind | undefined {
  let best: RecordKind | undefined;
  let bestScore = -1;
  for (const [kind, names] of Object.entries(RECORD_COLUMNS) as [RecordKind, readonly string[]][]) {
    const score = columns.filter((c) => names.includes(c)).length;
    if (score > bestScore) [best, bestScore] = [kind, score];
    else if (score === bestScore) best = undefined;
  }
  return best;
}

/** Every kind's columns, for a hint: `premium: record_id,…; pension: record_id,…`. */
export function recordColumnsHint(): string {
  return Object.entries(RECORD_COLUMNS)
    .map(([kind, names]) => `${kind}: ${names.join(",")}`)
    .join("; ");
}

/** The columns a file may and must have. Names are lower case. */
export interface ColumnSchema {
  /** What the columns describe, for messages ("premium", "pension", "SSO list"). */
  name: string;
  columns: readonly string[];
  optional: readonly string[];
}

/** The column schema of a record kind (core's `RECORD_COLUMNS` and `OPTIONAL_COLUMNS`). */
export function recordSchema(kind: RecordKind): ColumnSchema {
  return { name: kind, columns: RECORD_COLUMNS[kind], optional: OPTIONAL_COLUMNS[kind] };
}

/**
 * Checks a header's columns against a schema; returns issues for unknown, missing and repeated
 * columns (all of them).
 */
export function checkColumns(
  file: string,
  schema: ColumnSchema,
  columns: readonly string[],
  line: number,
): IngestIssue[] {
  const allowed = schema.columns;
  const required = allowed.filter((c) => !schema.optional.includes(c));
  const expected = `expected columns for ${schema.name}: ${allowed.join(",")} (optional: ${schema.optional.join(", ")})`;
  const issues: IngestIssue[] = [];
  const unknown = columns.filter((c) => c !== "" && !allowed.includes(c));
  if (unknown.length * 2 > columns.length) {
    // Most cells name no column: a data row where the header should be. Show none of them.
    return [
      {
        source: { file, line },
        field: "",
        rule: "csv.header.not-a-header",
        value: `${columns.length} cells`,
        message: `the first line is not a header: ${unknown.length} of its ${columns.length} cells are not column names`,
        hint: `the first line names the columns; ${expected}`,
      },
    ];
  }
  const seen = new Set<string>();
  for (const c of columns) {
    if (!allowed.includes(c)) {
      const shown = columnForMessage(c);
      issues.push({
        source: { file, line },
        field: looksLikeColumnName(c) ? c : "",
        rule: "csv.header.unknown-column",
        value: shown,
        message:
          c === ""
            ? "a column has no name"
            : `unknown column ${looksLikeColumnName(c) ? `"${c}"` : shown}`,
        hint: `rename or remove it; ${expected}`,
      });
    } else if (seen.has(c)) {
      issues.push({
        source: { file, line },
        field: c,
        rule: "csv.header.repeated-column",
        value: c,
        message: `column "${c}" appears twice`,
        hint: "keep one of them",
      });
    }
    seen.add(c);
  }
  for (const c of required) {
    if (!seen.has(c)) {
      issues.push({
        source: { file, line },
        field: c,
        rule: "csv.header.missing-column",
        value: "",
        message: `missing column "${c}"`,
        hint: expected,
      });
    }
  }
  return issues;
}

/**
 * Streams the data rows of a CSV file as `RawRow`s (keys: the header's column names; empty cells
 * are `undefined`; values trimmed). `source.line` is the 1-based line where the row starts, as
 * an editor shows it (a quoted field with a newline spans lines). Blank lines and rows of empty
 * cells are skipped. Problems (bad header, ragged or malformed rows, bad encoding) are issues;
 * a file with a bad header yields no rows.
 *
 * @example
 * for await (const row of readCsv("premiums-1403-07.csv", { kind: "premium", onIssue: report })) { … }
 */
export function readCsv(file: string, options: ReadCsvOptions = {}): AsyncIterableIterator<RawRow> {
  const sink = new IssueSink(options.onIssue);
  return flattenBatches(finishing(readCsvBatches(file, options, sink), sink));
}

/** `readCsv` with a caller-owned sink (used by `openInputs` to pool issues of many files). */
export function readCsvInto(
  file: string,
  options: ReadCsvOptions,
  sink: IssueSink,
): AsyncIterableIterator<RawRow> {
  return flattenBatches(readCsvBatches(file, options, sink));
}

/** The rows of a CSV file, one batch per decoded chunk (about 1 MiB of text). */
export async function* readCsvBatches(
  file: string,
  options: ReadCsvOptions,
  sink: IssueSink,
): AsyncGenerator<RawRow[]> {
  const name = options.name ?? path.basename(file);
  const detected = await detectTextEncoding(file, options.encoding ?? "auto");
  if (detected.problem !== undefined) {
    sink.add({
      source: { file: name },
      field: "",
      rule: "csv.encoding",
      value: `byte ${detected.problem.byteOffset}`,
      message: `${detected.problem.message} (first bad byte near offset ${detected.problem.byteOffset})`,
      hint: 'save the file as "CSV UTF-8", or pass --encoding cp1256 if it is Windows Arabic/Persian',
    });
    return;
  }
  const tap = new Sha256Tap();
  let buf = "";
  let pos = 0;
  let quoteAt = -1;
  let line = 1;
  let columns: string[] | undefined;
  let delim = ",";
  let kind = options.kind;
  let rows = 0;
  let headerOk = true;

  const handle = (rec: CsvRecord, startLine: number): RawRow | undefined => {
    if (columns === undefined) {
      if (rec.fields.length === 1 && rec.fields[0]!.trim() === "") return undefined;
      columns = rec.fields.map((c) => c.trim().toLowerCase());
      if (columns.some((c) => c.includes("\r"))) {
        // Lines ended by CR alone (classic Mac OS): the whole file reads as one header line.
        headerOk = false;
        sink.add({
          source: { file: name, line: startLine },
          field: "",
          rule: "csv.line-ends",
          value: "",
          message: "the lines end with a carriage return (CR) alone, so the file reads as one line",
          hint: 'save the file again as "CSV UTF-8" (Windows CRLF or Unix LF line ends)',
        });
        return undefined;
      }
      kind ??= inferKind(columns);
      // Without a kind, judge the line against the premium columns (the larger set): a data row
      // is "not a header" whichever kind it would have been.
      const schema =
        options.schema ??
        (kind !== undefined
          ? recordSchema(kind)
          : columns.some((c) => c !== "" && !looksLikeColumnName(c))
            ? recordSchema("premium")
            : undefined);
      if (schema === undefined) {
        headerOk = false;
        sink.add({
          source: { file: name, line: startLine },
          field: "",
          rule: "csv.header.kind",
          value: "",
          message: "the header matches neither the premium nor the pension columns",
          hint: recordColumnsHint(),
        });
        return undefined;
      }
      const issues = checkColumns(name, schema, columns, startLine);
      for (const i of issues) sink.add(i);
      headerOk = issues.length === 0;
      return undefined;
    }
    const f = rec.fields;
    const width = columns.length;
    if (rec.problem !== undefined) {
      if (f.every((v) => v.trim() === "")) return undefined;
      sink.add({
        source: { file: name, line: startLine },
        field: "",
        rule: "csv.syntax",
        value: "",
        message: rec.problem,
        hint: "check the quotes on this row",
      });
      return undefined;
    }
    if (f.length < width || (f.length > width && f.slice(width).some((v) => v.trim() !== ""))) {
      if (f.every((v) => v.trim() === "")) return undefined;
      sink.add({
        source: { file: name, line: startLine },
        field: "",
        rule: "csv.ragged-row",
        value: `${f.length} fields`,
        message: `the row has ${f.length} fields; the header has ${width}`,
        hint: "every row needs one value per column (quote values that contain the delimiter)",
      });
      return undefined;
    }
    const fields: Record<string, string | undefined> = {};
    let any = false;
    for (let i = 0; i < width; i++) {
      let v = f[i]!;
      if (v.length > 0 && (v.charCodeAt(0) <= 32 || v.charCodeAt(v.length - 1) <= 32)) v = v.trim();
      if (v === "") fields[columns[i]!] = undefined;
      else {
        fields[columns[i]!] = v;
        any = true;
      }
    }
    if (!any) return undefined;
    rows++;
    return { source: { file: name, line: startLine }, fields };
  };

  /** Parses every complete record in `buf`; returns the rows. */
  const drain = (final: boolean): RawRow[] => {
    const out: RawRow[] = [];
    for (;;) {
      if (pos >= buf.length) return out;
      if (quoteAt !== Infinity && quoteAt < pos) {
        const q = buf.indexOf('"', pos);
        quoteAt = q === -1 ? Infinity : q;
      }
      if (columns === undefined)
        delim = detectDelimiter(
          buf.slice(pos, buf.indexOf("\n", pos) === -1 ? buf.length : buf.indexOf("\n", pos)),
        );
      const rec = parseRecord(buf, pos, delim, quoteAt, final);
      if (rec === undefined) {
        if (buf.length - pos > MAX_RECORD) {
          headerOk = false;
          sink.add({
            source: { file: name, line },
            field: "",
            rule: "csv.syntax",
            value: "",
            message: `the row starting here is longer than ${MAX_RECORD >> 20} MiB`,
            hint: "a quoted field is probably not closed: check the quotes on this line",
          });
        }
        return out;
      }
      const startLine = line;
      line += rec.lines;
      pos = rec.next;
      if (rec.fields.length === 1 && rec.fields[0] === "") continue;
      const row = handle(rec, startLine);
      if (!headerOk) return out;
      if (row !== undefined) out.push(row);
    }
  };

  for await (const text of decodeTextFile(file, detected.encoding, tap)) {
    buf = pos < buf.length ? buf.slice(pos) + text : text;
    pos = 0;
    quoteAt = -1;
    const batch = drain(false);
    if (batch.length > 0) yield batch;
    if (!headerOk) break;
  }
  if (headerOk) {
    const batch = drain(true);
    if (batch.length > 0) yield batch;
  }
  if (columns === undefined && headerOk) {
    sink.add({
      source: { file: name },
      field: "",
      rule: "csv.empty",
      value: "",
      message: "the file has no header line",
      hint: `the first line names the columns: ${RECORD_COLUMNS[options.kind ?? "premium"].join(",")}`,
    });
  }
  if (headerOk) {
    options.onSource?.({
      name,
      sha256: tap.digest(),
      format: "csv",
      encoding: detected.encoding,
      records: rows,
    });
  }
}

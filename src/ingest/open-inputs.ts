/**
 * One entry point for the anchor pipeline: any mix of CSV, JSON Lines and SSO DBF lists (pair
 * folders, folders of pairs, zips) becomes one stream of `RawRow`s, one list of issues and one
 * list of sources for the manifest.
 */
import { open, stat } from "node:fs/promises";
import path from "node:path";
import type { RateTable } from "../core/rates.ts";
import type { RecordKind } from "../core/record.ts";
import { IssueSink, type IngestIssue } from "./ingest-issue.ts";
import { flattenBatches } from "./flatten-batches.ts";
import type { RawRow } from "./raw-row.ts";
import { readCsvBatches } from "./read-csv.ts";
import { readJsonlBatches } from "./read-jsonl.ts";
import { readSsoListBatches } from "./read-sso-list.ts";
import type { SourceFormat, SourceInfo } from "./source-info.ts";
import type { TextEncodingOption } from "./text-source.ts";

export interface OpenInputsOptions {
  kind: RecordKind;
  /** CSV encoding (JSON Lines is always UTF-8; DBF lists are detected per file). Default auto. */
  encoding?: TextEncodingOption;
  /** Province of a workshop, for DBF lists (they carry none). */
  provinceOf?: (workshopCode: string) => string | undefined;
  /** Province for every DBF workshop `provinceOf` does not know. */
  province?: string;
  /** Two-digit year pivot for DBF lists (default 50). */
  yearPivot?: number;
  rates?: RateTable;
}

export interface OpenedInputs {
  /** Every input's rows, file after file in the order given. Iterate once. */
  rows: AsyncIterable<RawRow>;
  /**
   * The same rows in the batches they are read in (one promise per batch, not per row).
   * Iterate once, and either this or `rows`, not both.
   */
  rowBatches: AsyncIterable<readonly RawRow[]>;
  /** Every problem found while reading (complete once `rows` has been consumed). */
  issues(): readonly IngestIssue[];
  /** What was read, for the manifest (complete once `rows` has been consumed). */
  sources(): readonly SourceInfo[];
}

/** How an input will be read. */
export type InputFormat = SourceFormat;

/**
 * Decides an input's format: a folder, a .zip or a `.dbf` is an SSO list; `.csv`/`.tsv`/`.txt`
 * is CSV; `.jsonl`/`.ndjson` is JSON Lines; anything else is sniffed (`{` → JSON Lines, `PK` →
 * zip, 0x03 → DBF, otherwise CSV).
 */
export async function detectInputFormat(input: string): Promise<InputFormat> {
  const info = await stat(input);
  if (info.isDirectory()) return "sso-dbf";
  const ext = path.extname(input).toLowerCase();
  if (ext === ".zip" || ext === ".dbf") return "sso-dbf";
  if (ext === ".csv" || ext === ".tsv" || ext === ".txt") return "csv";
  if (ext === ".jsonl" || ext === ".ndjson") return "jsonl";
  const fh = await open(input, "r");
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(64), 0, 64, 0);
    const head = buffer.subarray(0, bytesRead);
    if (head[0] === 0x50 && head[1] === 0x4b) return "sso-dbf";
    if (head[0] === 0x03) return "sso-dbf";
    const text = head
      .toString("utf8")
      .replace(/^\uFEFF/, "")
      .trimStart();
    return text.startsWith("{") ? "jsonl" : "csv";
  } finally {
    await fh.close();
  }
}

/**
 * Opens the inputs for one batch. Nothing is read until `rows` is iterated; issues never throw:
 * they are collected (all of them, capped per rule and file) for the caller's report.
 *
 * @example
 * const inputs = openInputs(["lists.zip", "extra.csv"], { kind: "premium", province: "IR-23" });
 * for await (const row of inputs.rows) validateRecord("premium", row.fields);
 * if (inputs.issues().some((i) => i.severity !== "warning")) …
 */
export function openInputs(paths: readonly string[], options: OpenInputsOptions): OpenedInputs {
  const issues: IngestIssue[] = [];
  const sources: SourceInfo[] = [];
  const sink = new IssueSink((i) => issues.push(i));
  const onSource = (s: SourceInfo) => sources.push(s);
  async function* batches(): AsyncGenerator<RawRow[]> {
    const seenLists = new Set<string>();
    for (const input of paths) {
      let format: InputFormat;
      try {
        format = await detectInputFormat(input);
      } catch {
        sink.add({
          source: { file: input },
          field: "",
          rule: "input.missing",
          value: "",
          message: "no such file or folder",
          hint: "check the path",
        });
        continue;
      }
      if (format === "csv") {
        yield* readCsvBatches(
          input,
          {
            kind: options.kind,
            ...(options.encoding !== undefined ? { encoding: options.encoding } : {}),
            onSource,
          },
          sink,
        );
      } else if (format === "jsonl") {
        yield* readJsonlBatches(input, { kind: options.kind, onSource }, sink);
      } else {
        if (options.kind !== "premium") {
          sink.add({
            source: { file: path.basename(input) },
            field: "",
            rule: "input.kind",
            value: "",
            message: "SSO DBF lists hold premiums, not pensions",
            hint: "use --kind premium for DBF lists",
          });
          continue;
        }
        const key =
          (await stat(input)).isDirectory() || /\.zip$/i.test(input)
            ? path.resolve(input)
            : path.resolve(path.dirname(input));
        // A pair named by one of its files, or inside a folder already read, is read once.
        if ([...seenLists].some((seen) => key === seen || key.startsWith(seen + path.sep)))
          continue;
        seenLists.add(key);
        yield* readSsoListBatches(
          input,
          {
            onSource,
            ...(options.provinceOf !== undefined ? { provinceOf: options.provinceOf } : {}),
            ...(options.province !== undefined ? { province: options.province } : {}),
            ...(options.yearPivot !== undefined ? { yearPivot: options.yearPivot } : {}),
            ...(options.rates !== undefined ? { rates: options.rates } : {}),
          },
          sink,
        );
      }
    }
    sink.finish();
  }
  const read = batches();
  return {
    rows: flattenBatches(read),
    rowBatches: read,
    issues: () => issues,
    sources: () => sources,
  };
}

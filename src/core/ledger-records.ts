/**
 * `shafaf-ledger-records/1` (docs/spec/ledger-records-v1.md): every record of a data directory's
 * ledger store and person-key cache as UTF-8 JSON Lines, the private archive's copy of them (not a
 * LevelDB copy: any reader can parse it, and the next version of the store can import it).
 *
 *     {"format":"shafaf-ledger-records/1"}
 *     ["ledger","<key>",<value: any JSON>]            (ledger keys in ascending UTF-8 byte order)
 *     ["person-keys","<key hex>","<value hex>"]       (after every ledger line, keys ascending)
 *     {"end":{"records":N,"sha256":"<hex of every byte before this line>"}}
 *
 * Invariants: one table after the other, each key once, keys strictly ascending within a table;
 * nothing after the end line. A parser MUST refuse anything else, naming the line.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { ShafafError } from "./errors.ts";
import { bytesToHex, compareBytes } from "./hex.ts";

export const LEDGER_RECORDS_FORMAT = "shafaf-ledger-records/1";

/** The tables, in the order they are written. */
export const LEDGER_RECORD_TABLES = ["ledger", "person-keys"] as const;
export type LedgerRecordTable = (typeof LEDGER_RECORD_TABLES)[number];

/** One record: a ledger key and its JSON value, or a person-key cache entry (hex key and value). */
export type LedgerRecord =
  | { table: "ledger"; key: string; value: unknown }
  | { table: "person-keys"; key: string; value: string };

/** A records file that does not follow the format: `line` is 1-based. */
export class LedgerRecordsError extends ShafafError {
  override name = "LedgerRecordsError";
  constructor(file: string, line: number, problem: string) {
    super(`${file}:${line}: ${problem}`, {
      code: "ledger-records.format",
      details: `a ${LEDGER_RECORDS_FORMAT} file is damaged or not one; take it again from the archive's source (shafaf backup)`,
    });
  }
}

const utf8 = new TextEncoder();

const HEX = /^(?:[0-9a-f]{2})+$/;

/**
 * The file's bytes for `records`, which MUST be in table order with ascending keys (as LevelDB
 * iterates them); throws `LedgerRecordsError` otherwise.
 *
 * @example
 * formatLedgerRecords([{ table: "ledger", key: "meta!chain", value: { chainId: 31337 } }]);
 */
export function formatLedgerRecords(records: Iterable<LedgerRecord>): Uint8Array {
  const lines: string[] = [JSON.stringify({ format: LEDGER_RECORDS_FORMAT })];
  let count = 0;
  for (const r of records) {
    lines.push(JSON.stringify([r.table, r.key, r.value]));
    count++;
  }
  const body = utf8.encode(lines.join("\n") + "\n");
  // The writer's own output passes the reader's checks (order, hex, one key once).
  const end = JSON.stringify({
    end: { records: count, sha256: bytesToHex(sha256(body)).slice(2) },
  });
  const bytes = new Uint8Array(body.length + end.length + 1);
  bytes.set(body, 0);
  bytes.set(utf8.encode(end + "\n"), body.length);
  parseLedgerRecords(bytes, "(written)");
  return bytes;
}

/**
 * The records of a `shafaf-ledger-records/1` file, checked line by line.
 *
 * @throws {LedgerRecordsError} naming the first bad line.
 * @example
 * for (const r of parseLedgerRecords(bytes, "archive/ledger-records.jsonl")) …
 */
export function parseLedgerRecords(bytes: Uint8Array, file: string): LedgerRecord[] {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new LedgerRecordsError(file, 1, "not UTF-8");
  }
  if (!text.endsWith("\n")) throw new LedgerRecordsError(file, 1, "does not end with a newline");
  const lines = text.slice(0, -1).split("\n");
  const parse = (i: number): unknown => {
    try {
      return JSON.parse(lines[i]!);
    } catch {
      throw new LedgerRecordsError(file, i + 1, "not JSON");
    }
  };
  const head = parse(0) as { format?: unknown } | null;
  if (
    head === null ||
    typeof head !== "object" ||
    Object.keys(head).length !== 1 ||
    head.format !== LEDGER_RECORDS_FORMAT
  )
    throw new LedgerRecordsError(
      file,
      1,
      `the first line is not {"format":"${LEDGER_RECORDS_FORMAT}"}`,
    );
  const last = lines.length - 1;
  if (last < 1) throw new LedgerRecordsError(file, 1, "no end line");
  const end = (parse(last) as { end?: { records?: unknown; sha256?: unknown } } | null)?.end;
  if (end === undefined || typeof end !== "object" || end === null)
    throw new LedgerRecordsError(file, last + 1, 'the last line is not {"end":…}');
  const bodyLength = utf8.encode(lines.slice(0, last).join("\n") + "\n").length;
  const digest = bytesToHex(sha256(bytes.subarray(0, bodyLength))).slice(2);
  if (end.sha256 !== digest)
    throw new LedgerRecordsError(
      file,
      last + 1,
      `sha256 ${String(end.sha256)} is not that of the lines before it (${digest})`,
    );
  if (end.records !== last - 1)
    throw new LedgerRecordsError(
      file,
      last + 1,
      `records ${String(end.records)}, found ${last - 1}`,
    );

  const out: LedgerRecord[] = [];
  let table = 0;
  let previous: Uint8Array | undefined;
  for (let i = 1; i < last; i++) {
    const row = parse(i);
    if (!Array.isArray(row) || row.length !== 3 || typeof row[1] !== "string")
      throw new LedgerRecordsError(file, i + 1, "not [table, key, value]");
    const t = LEDGER_RECORD_TABLES.indexOf(row[0] as LedgerRecordTable);
    if (t < 0) throw new LedgerRecordsError(file, i + 1, `unknown table ${JSON.stringify(row[0])}`);
    if (t < table)
      throw new LedgerRecordsError(file, i + 1, `table ${String(row[0])} after a later table`);
    if (t > table) previous = undefined;
    table = t;
    const key = row[1];
    if (t === 1 && (!HEX.test(key) || typeof row[2] !== "string" || !HEX.test(row[2])))
      throw new LedgerRecordsError(file, i + 1, "a person-keys record is not lower-case hex");
    if (t === 0 && key.length === 0) throw new LedgerRecordsError(file, i + 1, "an empty key");
    const keyBytes = utf8.encode(key);
    if (previous !== undefined && compareBytes(previous, keyBytes) >= 0)
      throw new LedgerRecordsError(file, i + 1, "keys are not strictly ascending");
    previous = keyBytes;
    out.push(
      t === 0
        ? { table: "ledger", key, value: row[2] as unknown }
        : { table: "person-keys", key, value: row[2] as string },
    );
  }
  return out;
}

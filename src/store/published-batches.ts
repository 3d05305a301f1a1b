/**
 * The handoff from the anchor pipeline (one writer) to `shafaf serve` (any number of readers):
 * `<data-dir>/published.json` (`shafaf-published/1`, docs/spec/published-batches-v1.md) lists
 * the anchored batches whose files are complete — the artifact, its tiles (v2) and its locator
 * tables (`receipts.loc`, `subjects.loc`, docs/spec/locators-v1.md). The writer makes those files
 * durable first and replaces the list last (a temporary file, fsync, rename, fsync of the folder),
 * so a reader sees the old list or the new one, and every batch a list names is complete.
 * Readers never open the writer's LevelDB.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { ShafafError } from "../core/errors.ts";
import { replacePrivateFile } from "./private-files.ts";

export const PUBLISHED_FORMAT = "shafaf-published/1";
/** The list's version when it names merged locator tables (docs/spec/published-batches-v2.md). */
export const PUBLISHED_FORMAT_2 = "shafaf-published/2";
/** The list's file name in the data directory. */
export const PUBLISHED_FILE = "published.json";

/** One published batch: the facts its receipts are assembled from (a `BatchEntry`'s). */
export interface PublishedBatch {
  batchId: number;
  jobId: string;
  kind: "premium" | "pension";
  period: string;
  root: string;
  manifestHash: string;
  recordCount: number;
  total: string;
  supersedes: number | null;
  supersededBy: number | null;
  txHash: string;
  blockNumber: number;
  blockHash: string;
  anchoredAt: number;
  /** `shafaf-tree/2` for a v2 batch; absent for a v1 one. */
  scheme?: "shafaf-tree/2";
}

/**
 * A merged locator table pair (docs/spec/locator-merge-v1.md) covering the listed batches whose
 * ids are in `first … last`; file paths relative to the data directory.
 */
export interface LocatorMerge {
  first: number;
  last: number;
  /** `locators/<name>.receipts.lm` */
  receipts: string;
  /** `locators/<name>.subjects.lm` */
  subjects: string;
}

export interface PublishedBatches {
  /** `shafaf-published/2` exactly when `merged` is not empty (written so; both are read). */
  format: typeof PUBLISHED_FORMAT | typeof PUBLISHED_FORMAT_2;
  chainId: number;
  contract: string;
  /** Strictly increasing batch ids. */
  batches: PublishedBatch[];
  /** Merged locator tables, ranges in increasing order, not overlapping (version 2 only). */
  merged?: LocatorMerge[];
}

/** A list that is not a `shafaf-published/1` (code `store.published`); names no personal data. */
export class PublishedListError extends ShafafError {
  override name = "PublishedListError";
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`, {
      code: "store.published",
      details:
        "the list of published batches is damaged: run `shafaf data publish --data-dir DIR` to write it again from the ledger store",
    });
  }
}

const HEX32 = /^0x[0-9a-f]{64}$/;
const ADDRESS = /^0x[0-9a-f]{40}$/;
const JOB_ID = /^[0-9a-f]{64}$/;
const PERIOD = /^\d{4}-\d{2}$/;
const AMOUNT = /^(0|[1-9]\d{0,77})$/;

const isId = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * Parses and checks a list; `file` names it in errors.
 *
 * @throws {PublishedListError} not JSON, another format, a missing or ill-typed field, batch ids
 * not strictly increasing, or a field the format does not know.
 * @example
 * const list = parsePublishedBatches(await readFile(file, "utf8"), file);
 */
export function parsePublishedBatches(text: string, file: string): PublishedBatches {
  const fail = (problem: string): never => {
    throw new PublishedListError(file, problem);
  };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return fail("not JSON");
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return fail("not an object");
  const d = doc as Record<string, unknown>;
  const format = d["format"];
  if (format !== PUBLISHED_FORMAT && format !== PUBLISHED_FORMAT_2)
    fail(`format is not ${PUBLISHED_FORMAT} or ${PUBLISHED_FORMAT_2}`);
  const v2 = format === PUBLISHED_FORMAT_2;
  onlyKeys(
    d,
    ["format", "chainId", "contract", "batches", ...(v2 ? ["merged"] : [])],
    "the list",
    fail,
  );
  if (!isId(d["chainId"])) fail("chainId is not a positive integer");
  if (typeof d["contract"] !== "string" || !ADDRESS.test(d["contract"]))
    fail("contract is not a lower-case 0x address");
  if (!Array.isArray(d["batches"])) return fail("batches is not an array");
  let previous = 0;
  const batches = (d["batches"] as unknown[]).map((b, i): PublishedBatch => {
    const where = `batches[${i}]`;
    if (typeof b !== "object" || b === null || Array.isArray(b))
      return fail(`${where} is not an object`);
    const e = b as Record<string, unknown>;
    onlyKeys(e, [...BATCH_KEYS, "scheme"], where, fail);
    const bad = (field: string, what: string): never => fail(`${where}.${field} is not ${what}`);
    if (!isId(e["batchId"])) bad("batchId", "a positive integer");
    if ((e["batchId"] as number) <= previous) fail(`${where}.batchId does not increase`);
    previous = e["batchId"] as number;
    if (typeof e["jobId"] !== "string" || !JOB_ID.test(e["jobId"])) bad("jobId", "64 hex digits");
    if (e["kind"] !== "premium" && e["kind"] !== "pension") bad("kind", "premium or pension");
    if (typeof e["period"] !== "string" || !PERIOD.test(e["period"])) bad("period", "YYYY-MM");
    for (const f of ["root", "manifestHash", "txHash", "blockHash"])
      if (typeof e[f] !== "string" || !HEX32.test(e[f])) bad(f, "0x and 64 lower-case hex digits");
    if (!isCount(e["recordCount"]) || e["recordCount"] > 0xffffffff)
      bad("recordCount", "a whole number below 2^32");
    if (typeof e["total"] !== "string" || !AMOUNT.test(e["total"]))
      bad("total", "a decimal string");
    for (const f of ["supersedes", "supersededBy"])
      if (e[f] !== null && !isId(e[f])) bad(f, "null or a batch id");
    if (!isCount(e["blockNumber"])) bad("blockNumber", "a whole number");
    if (!isCount(e["anchoredAt"])) bad("anchoredAt", "a whole number");
    if (e["scheme"] !== undefined && e["scheme"] !== "shafaf-tree/2")
      bad("scheme", "absent or shafaf-tree/2");
    return e as unknown as PublishedBatch;
  });
  if (!v2)
    return {
      format: PUBLISHED_FORMAT,
      chainId: d["chainId"] as number,
      contract: d["contract"] as string,
      batches,
    };
  if (!Array.isArray(d["merged"])) return fail("merged is not an array");
  let after = 0;
  const merged = (d["merged"] as unknown[]).map((x, i): LocatorMerge => {
    const where = `merged[${i}]`;
    if (typeof x !== "object" || x === null || Array.isArray(x))
      return fail(`${where} is not an object`);
    const e = x as Record<string, unknown>;
    onlyKeys(e, ["first", "last", "receipts", "subjects"], where, fail);
    if (!isId(e["first"]) || !isId(e["last"]) || e["last"] < e["first"])
      fail(`${where}: first and last are not batch ids with first ≤ last`);
    if ((e["first"] as number) <= after) fail(`${where} overlaps or precedes the range before`);
    after = e["last"] as number;
    if (!batches.some((b) => b.batchId >= (e["first"] as number) && b.batchId <= after))
      fail(`${where} covers no listed batch`);
    for (const [f, suffix] of [
      ["receipts", ".receipts.lm"],
      ["subjects", ".subjects.lm"],
    ] as const)
      if (typeof e[f] !== "string" || !MERGED_FILE.test(e[f]) || !e[f].endsWith(suffix))
        fail(`${where}.${f} is not locators/<name>${suffix}`);
    return e as unknown as LocatorMerge;
  });
  if (merged.length === 0)
    fail(`merged is empty (a list without merged tables is ${PUBLISHED_FORMAT})`);
  return {
    format: PUBLISHED_FORMAT_2,
    chainId: d["chainId"] as number,
    contract: d["contract"] as string,
    batches,
    merged,
  };
}

const MERGED_FILE = /^locators\/[0-9A-Za-z][0-9A-Za-z._-]{0,127}$/;

const BATCH_KEYS = [
  "batchId",
  "jobId",
  "kind",
  "period",
  "root",
  "manifestHash",
  "recordCount",
  "total",
  "supersedes",
  "supersededBy",
  "txHash",
  "blockNumber",
  "blockHash",
  "anchoredAt",
] as const;

function onlyKeys(
  o: Record<string, unknown>,
  allowed: readonly string[],
  where: string,
  fail: (problem: string) => never,
): void {
  for (const key of Object.keys(o))
    if (!allowed.includes(key)) fail(`${where} has an unknown field ${JSON.stringify(key)}`);
}

/**
 * The list's canonical text: one batch per line, in batch order; version 2 (and its `merged`,
 * one range per line) exactly when `merged` is not empty.
 */
export function formatPublishedBatches(list: PublishedBatches): string {
  const batches = list.batches.map((b) => {
    const o: Record<string, unknown> = {};
    for (const key of BATCH_KEYS) o[key] = b[key];
    if (b.scheme !== undefined) o["scheme"] = b.scheme;
    return "    " + JSON.stringify(o);
  });
  const merged = (list.merged ?? []).map(
    (m) =>
      "    " +
      JSON.stringify({ first: m.first, last: m.last, receipts: m.receipts, subjects: m.subjects }),
  );
  return (
    `{\n  "format": "${merged.length === 0 ? PUBLISHED_FORMAT : PUBLISHED_FORMAT_2}",\n` +
    `  "chainId": ${list.chainId},\n` +
    `  "contract": ${JSON.stringify(list.contract.toLowerCase())},\n` +
    `  "batches": [${batches.length === 0 ? "" : `\n${batches.join(",\n")}\n  `}]` +
    (merged.length === 0 ? "" : `,\n  "merged": [\n${merged.join(",\n")}\n  ]`) +
    "\n}\n"
  );
}

/**
 * Replaces `<dataDir>/published.json` atomically and durably (0600): a temporary file fsync'ed,
 * renamed over the list, the folder fsync'ed. The caller MUST have made every file the list
 * names durable before.
 *
 * @example
 * await writePublishedBatches(dataDir, { format: PUBLISHED_FORMAT, chainId, contract, batches });
 */
export async function writePublishedBatches(
  dataDir: string,
  list: PublishedBatches,
): Promise<void> {
  const file = path.join(dataDir, PUBLISHED_FILE);
  const text = formatPublishedBatches(list);
  parsePublishedBatches(text, file); // never publish a list a reader would refuse
  await replacePrivateFile(file, text);
}

/** The list of `dataDir`, or undefined when none was published yet. */
export async function readPublishedBatches(dataDir: string): Promise<PublishedBatches | undefined> {
  const file = path.join(dataDir, PUBLISHED_FILE);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return undefined;
    throw error;
  }
  return parsePublishedBatches(text, file);
}

/**
 * The ledger log's entry (docs/spec/log-entry-v1.md): one canonical batch summary per anchored
 * batch, committing to the batch as the chain holds it. The bytes are the UTF-8 of the canonical
 * JSON (src/core/manifest.ts `canonicalJson`: keys sorted, no whitespace) of fourteen fields.
 */
import { InvalidInputError } from "./errors.ts";
import { isRecordKind } from "./kinds/record-kinds.ts";
import { canonicalJson } from "./manifest.ts";
import type { RecordKind } from "./record.ts";

export const LOG_ENTRY_FORMAT = "shafaf-log-entry/1";

/** The facts of one anchored batch that its log entry commits to. */
export interface LedgerLogBatch {
  chainId: number;
  /** The ledger contract, 0x + 40 hex (any case; lower-cased in the entry). */
  contract: string;
  batchId: number;
  scheme: "shafaf-tree/1" | "shafaf-tree/2";
  kind: RecordKind;
  /** Jalali year-month, "1403-07". */
  period: string;
  root: string;
  manifestHash: string;
  idempotencyKey: string;
  recordCount: number;
  /** Σ amounts in Rials, decimal string. */
  total: string;
  supersedes: number | null;
  /** The anchoring transaction. */
  txHash: string;
}

/** The entry as parsed: the batch plus its format tag. */
export type LedgerLogEntry = LedgerLogBatch & { format: typeof LOG_ENTRY_FORMAT };

const FIELDS = [
  "batchId",
  "chainId",
  "contract",
  "format",
  "idempotencyKey",
  "kind",
  "manifestHash",
  "period",
  "recordCount",
  "root",
  "scheme",
  "supersedes",
  "total",
  "txHash",
] as const;

function fail(field: string, message: string): never {
  throw new InvalidInputError(`log entry field ${field} ${message}`, {
    field,
    code: "log-entry.invalid",
    details: "see docs/spec/log-entry-v1.md for every field",
  });
}

const isId = (v: unknown, min: number): v is number =>
  typeof v === "number" && Number.isSafeInteger(v) && v >= min;
const HEX32 = /^0x[0-9a-f]{64}$/;

function checked(b: Record<string, unknown>): LedgerLogEntry {
  if (!isId(b.chainId, 1)) fail("chainId", "must be a whole number ≥ 1");
  if (typeof b.contract !== "string" || !/^0x[0-9a-f]{40}$/.test(b.contract))
    fail("contract", "must be 0x and 40 lower-case hex digits");
  if (!isId(b.batchId, 1)) fail("batchId", "must be a whole number ≥ 1");
  if (b.scheme !== "shafaf-tree/1" && b.scheme !== "shafaf-tree/2")
    fail("scheme", "must be shafaf-tree/1 or shafaf-tree/2");
  if (!isRecordKind(b.kind)) fail("kind", "must be premium or pension");
  if (typeof b.period !== "string" || !/^\d{4}-(0[1-9]|1[0-2])$/.test(b.period))
    fail("period", 'must be a Jalali year-month such as "1403-07"');
  for (const f of ["root", "manifestHash", "idempotencyKey", "txHash"] as const) {
    if (typeof b[f] !== "string" || !HEX32.test(b[f])) fail(f, "must be 0x and 64 lower-case hex");
  }
  if (!isId(b.recordCount, 0)) fail("recordCount", "must be a whole number ≥ 0");
  if (typeof b.total !== "string" || !/^(0|[1-9]\d*)$/.test(b.total))
    fail("total", "must be a decimal string of Rials without leading zeros");
  if (b.supersedes !== null && !(isId(b.supersedes, 1) && b.supersedes < b.batchId))
    fail("supersedes", "must be null or an earlier batch id");
  return b as unknown as LedgerLogEntry;
}

/**
 * The log entry bytes of an anchored batch. Hex fields are lower-cased; anything else that is not
 * as the spec says is an `InvalidInputError` naming the field.
 *
 * @example
 * await log.append([ledgerLogEntry({ chainId: 31337, contract, batchId: 1, scheme: "shafaf-tree/1", … })]);
 */
export function ledgerLogEntry(batch: LedgerLogBatch): Uint8Array {
  const lower = (v: unknown) => (typeof v === "string" ? v.toLowerCase() : v);
  const entry = checked({
    format: LOG_ENTRY_FORMAT,
    chainId: batch.chainId,
    contract: lower(batch.contract),
    batchId: batch.batchId,
    scheme: batch.scheme,
    kind: batch.kind,
    period: batch.period,
    root: lower(batch.root),
    manifestHash: lower(batch.manifestHash),
    idempotencyKey: lower(batch.idempotencyKey),
    recordCount: batch.recordCount,
    total: batch.total,
    supersedes: batch.supersedes,
    txHash: lower(batch.txHash),
  });
  return new TextEncoder().encode(canonicalJson(entry));
}

/**
 * Reads entry bytes back; they must be exactly the canonical bytes of a valid entry (any other
 * spelling of the same facts is refused, so one batch has one entry).
 *
 * @example
 * const { batchId, root } = parseLedgerLogEntry(log.entry(0));
 */
export function parseLedgerLogEntry(bytes: Uint8Array): LedgerLogEntry {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    fail("(bytes)", "are not UTF-8 JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    fail("(bytes)", "are not a JSON object");
  const keys = Object.keys(value).sort();
  if (keys.join() !== [...FIELDS].join())
    fail("(keys)", `must be exactly ${FIELDS.join(", ")}; got ${keys.join(", ")}`);
  const entry = value as Record<string, unknown>;
  if (entry.format !== LOG_ENTRY_FORMAT) fail("format", `must be ${LOG_ENTRY_FORMAT}`);
  const parsed = checked(entry);
  const canonical = new TextEncoder().encode(canonicalJson(parsed));
  if (canonical.length !== bytes.length || canonical.some((c, i) => c !== bytes[i]))
    fail("(bytes)", "are not in canonical form (sorted keys, no whitespace)");
  return parsed;
}

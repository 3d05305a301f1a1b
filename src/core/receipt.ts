import { InvariantError } from "./errors.ts";
import { bytesToHex, type Hex } from "./hex.ts";
import { LEAF_ENCODING, leafHash, type LeafValues } from "./leaf.ts";
import { verifyProof, type MerkleTree } from "./merkle-tree.ts";
import { isRecordKind, recordKindRules } from "./kinds/record-kinds.ts";
import type { LedgerRecord } from "./record.ts";

export const RECEIPT_FORMAT = "shafaf-receipt/1";

/** A record as JSON: amounts as decimal strings, `days` a number, every other field a string. */
export type ReceiptRecord = LedgerRecord extends infer R
  ? R extends LedgerRecord
    ? { [K in keyof R]: R[K] extends bigint ? string : R[K] }
    : never
  : never;

/**
 * What a person holds: the opening of one leaf, its proof, and where the root is anchored.
 * JSON Schema: `schemas/receipt-1.schema.json`. Contains personal data (the record): hand it
 * only to the person it is about.
 */
export interface Receipt {
  format: typeof RECEIPT_FORMAT;
  /** Short code for print and SMS (see receipt-code.ts); the key the API serves it under. */
  code: string;
  chainId: number;
  /** The TransparencyLedger contract address, lowercase `0x…`. */
  contract: Hex;
  batchId: number;
  root: Hex;
  leafEncoding: string[];
  /** The leaf tuple: bytes32 as `0x…`, uint values as decimal strings. */
  values: string[];
  proof: Hex[];
  /** The human-readable opening of the leaf. */
  record: ReceiptRecord;
  anchor: { txHash: Hex; blockNumber: number };
}

/** The JSON form of a record (bigint → decimal string). */
export function recordToJson(record: LedgerRecord): ReceiptRecord {
  const out: Record<string, unknown> = {};
  const fields = record as unknown as Record<string, unknown>;
  // Own keys in insertion order, as Object.entries gives them, without an array per field.
  for (const k of Object.keys(fields)) {
    const v = fields[k];
    if (v !== undefined) out[k] = typeof v === "bigint" ? v.toString() : v;
  }
  return out as ReceiptRecord;
}

/**
 * The record of a receipt's JSON opening, or `undefined` when a field is missing, mistyped or
 * not canonical, or when a key is not one of the record's (an extra key is not bound by the leaf:
 * a receipt must not carry unverified text next to verified fields). Does not re-apply business
 * rules (rates change; the leaf commits to what was anchored).
 */
export function recordFromJson(json: unknown): LedgerRecord | undefined {
  const record = recordFromJsonFields(json);
  if (record === undefined) return undefined;
  const known = new Set(Object.keys(recordToJson(record)));
  return Object.keys(json as object).every((k) => known.has(k)) ? record : undefined;
}

function recordFromJsonFields(json: unknown): LedgerRecord | undefined {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return undefined;
  const o = json as Record<string, unknown>;
  const str = (k: string, optional = false): string | undefined | null => {
    const v = o[k];
    if (v === undefined && optional) return undefined;
    return typeof v === "string" && v.length <= 256 ? v : null;
  };
  const amount = (k: string): bigint | null => {
    const v = o[k];
    return typeof v === "string" && /^(0|[1-9][0-9]{0,76})$/.test(v) ? BigInt(v) : null;
  };
  const common = {
    recordId: str("recordId"),
    period: str("period"),
    nationalId: str("nationalId"),
    province: str("province"),
  };
  const supersedes = str("supersedes", true);
  const reason = str("reason", true);
  if (
    Object.values(common).some((v) => typeof v !== "string") ||
    supersedes === null ||
    reason === null
  )
    return undefined;
  const tail = {
    ...(supersedes === undefined ? {} : { supersedes }),
    ...(reason === undefined ? {} : { reason }),
  };
  const base = common as { recordId: string; period: string; nationalId: string; province: string };
  if (!isRecordKind(o.kind)) return undefined;
  return recordKindRules(o.kind).fromJson({ json: o, str, amount }, base, tail);
}

/** The leaf tuple as a receipt carries it: uint values as decimal strings. */
export function valuesToJson(values: LeafValues): string[] {
  return values.map((v) => (typeof v === "bigint" ? v.toString() : v));
}

export interface BuildReceiptParams {
  chainId: number;
  contract: string;
  batchId: number;
  tree: MerkleTree;
  /** The record's position in the tree's input order. */
  index: number;
  record: LedgerRecord;
  values: LeafValues;
  anchor: { txHash: string; blockNumber: number };
  /** From `newReceiptCode`. */
  code: string;
}

/**
 * Assembles a receipt and checks it before it leaves: the values' leaf hash MUST be the tree's
 * leaf at `index` and the proof MUST lead to the root; otherwise throws InvariantError (a bug
 * or a mismatched artifact, never bad user input).
 *
 * @example
 * const receipt = buildReceipt({ chainId, contract, batchId, tree, index: 0, record, values, anchor, code });
 */
export function buildReceipt(p: BuildReceiptParams): Receipt {
  const leaf = bytesToHex(leafHash(p.values));
  if (leaf !== p.tree.leafHash(p.index)) {
    throw new InvariantError("receipt values do not hash to the tree's leaf", {
      details: `batch ${p.batchId}, leaf index ${p.index}`,
      code: "core.receipt.leaf-mismatch",
    });
  }
  const proof = p.tree.getProof(p.index);
  if (!verifyProof(p.tree.root, leaf, proof)) {
    throw new InvariantError("receipt proof does not verify", {
      details: `batch ${p.batchId}, leaf index ${p.index}`,
      code: "core.receipt.proof",
    });
  }
  return {
    format: RECEIPT_FORMAT,
    code: p.code,
    chainId: p.chainId,
    contract: p.contract.toLowerCase() as Hex,
    batchId: p.batchId,
    root: p.tree.root,
    leafEncoding: [...LEAF_ENCODING],
    values: valuesToJson(p.values),
    proof,
    record: recordToJson(p.record),
    anchor: { txHash: p.anchor.txHash.toLowerCase() as Hex, blockNumber: p.anchor.blockNumber },
  };
}

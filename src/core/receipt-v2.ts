import type { SumTree } from "./build-sum-tree.ts";
import { InvariantError } from "./errors.ts";
import { bytesToHex, type Hex } from "./hex.ts";
import { recordToJson, type ReceiptRecord } from "./receipt.ts";
import type { LedgerRecord } from "./record.ts";
import { sumTreeRecordFields } from "./sum-tree-record.ts";
import type { SumTreeProof } from "./sum-tree-proof.ts";
import { verifyDocumentOffline } from "./verify-document.ts";

export const RECEIPT_V2_FORMAT = "shafaf-receipt/2";

/**
 * A `shafaf-receipt/2` (docs/spec/receipt-v2.md, schemas/receipt-2.schema.json): the opening of
 * one leaf of a `shafaf-tree/2` batch (the record and its salt) and the leaf's inclusion proof,
 * which carries the scheme, batch id, province, indices, sizes, the leaf's k_b and seq. Contains
 * personal data (the record): hand it only to the person it is about.
 */
export interface ReceiptV2 {
  format: typeof RECEIPT_V2_FORMAT;
  /** Short code for print and SMS (receipt-code.ts). */
  code: string;
  chainId: number;
  /** The ledger contract, lowercase `0x…`. */
  contract: Hex;
  batchId: number;
  /** The record as anchored (the receipt form of `shafaf-receipt/1`). */
  record: ReceiptRecord;
  /** The 32-byte salt of the record's commitment (tree-v2.md §3.1). */
  salt: Hex;
  /** The `shafaf-tree/2` inclusion proof of the record's leaf. */
  proof: SumTreeProof;
}

export interface BuildReceiptV2Params {
  chainId: number;
  contract: string;
  batchId: number;
  code: string;
  tree: SumTree;
  /** The leaf's batch index in `tree`. */
  index: number;
  record: LedgerRecord;
  salt: Uint8Array;
  /**
   * false: the caller verifies the whole receipt itself before it leaves (the API's receipt
   * route, against the chain-indexed root) and this one verification is skipped; the record and
   * salt are still checked against the leaf. Default true.
   */
  verify?: boolean;
}

/**
 * Assembles a `shafaf-receipt/2` and verifies it (against `tree.root`) before it is returned.
 *
 * @throws {InvariantError} `core.receipt-v2.unverified` when the record and salt do not open the
 * leaf at `index`, or the receipt does not verify (a bug or a mismatched artifact, never user input).
 * @example
 * const receipt = buildReceiptV2({ chainId, contract, batchId: 7, code, tree, index: 3, record, salt });
 */
export function buildReceiptV2(p: BuildReceiptV2Params): ReceiptV2 {
  const leaf = p.tree.leaf(p.index);
  const fields = sumTreeRecordFields(p.record, p.salt);
  if (bytesToHex(fields.commitment) !== bytesToHex(leaf.commitment))
    throw new InvariantError("the record and salt do not open the tree's leaf", {
      details: `batch ${p.batchId}, leaf index ${p.index}`,
      code: "core.receipt-v2.unverified",
    });
  // What a verifier compares between the opening and the proven leaf (verify-document.ts
  // compareOpening), checked here whether or not the whole receipt is verified below.
  const proof = p.tree.inclusionProof(p.index, p.batchId);
  const amounts = leaf.lanes.slice(2);
  if (
    p.record.kind !== p.tree.kind ||
    p.record.province !== proof.windows[0]?.province ||
    amounts.length !== fields.amounts.length ||
    amounts.some((v, k) => v !== fields.amounts[k])
  )
    throw new InvariantError("the record's kind, province or amounts are not its leaf's", {
      details: `batch ${p.batchId}, leaf index ${p.index}`,
      code: "core.receipt-v2.unverified",
    });
  const receipt: ReceiptV2 = {
    format: RECEIPT_V2_FORMAT,
    code: p.code,
    chainId: p.chainId,
    contract: p.contract.toLowerCase() as Hex,
    batchId: p.batchId,
    record: recordToJson(p.record),
    salt: bytesToHex(p.salt),
    proof,
  };
  if (p.verify === false) return receipt;
  const r = verifyDocumentOffline(receipt, { root: p.tree.root });
  if (r.status !== "verified")
    throw new InvariantError("a receipt built from the tree does not verify", {
      details: `batch ${p.batchId}, leaf index ${p.index}: ${r.checks
        .filter((c) => !c.ok)
        .map((c) => c.name)
        .join(", ")}`,
      code: "core.receipt-v2.unverified",
    });
  return receipt;
}

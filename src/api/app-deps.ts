/**
 * What the API needs from the other modules, as structural types. They mirror docs/DESIGN.md
 * ("Index store views", "Store", core's `verifyReceipt`); the real `IndexStore`, `LedgerStore` and
 * `verifyReceipt` satisfy them. The API only reads: nothing here writes a store, drives the
 * indexer or signs a transaction (the upload endpoint calls an injected pipeline function).
 */

import { InvalidInputError, type ShafafError } from "../core/errors.ts";
import type { IndexStore } from "../store/index-store.ts";
import type { LedgerStore } from "../store/ledger-store.ts";

export type {
  BatchKind as Kind,
  BatchStatus,
  BatchView,
  Breakdown,
  ChainInfo,
  ListBatchesOptions as ListBatchesQuery,
  PeriodStat,
  ProvinceStat,
} from "../store/index-store.ts";
export type { StoredReceipt } from "../store/ledger-store.ts";

/** The indexer's views (`src/store/index-store.ts`), read side only. */
export type IndexReader = Pick<
  IndexStore,
  "getChainInfo" | "listBatches" | "getBatch" | "getStats" | "listEvents" | "listVrfKeys"
>;

/** The anchor pipeline's store (`src/store/ledger-store.ts`), read side only. */
export type LedgerReader = Pick<LedgerStore, "getReceiptByCode" | "listReceiptsBySubject"> &
  Partial<Pick<LedgerStore, "getPersonBatch" | "getPublicBatchFile">>;

/** One check of a verification, as the API reports it. */
export interface VerifyCheck {
  name: string;
  ok: boolean;
  /** From core: `fail` is evidence against the receipt, `inconclusive` missing evidence. */
  outcome?: "pass" | "fail" | "inconclusive";
  expected?: string;
  computed?: string;
  detail: string;
}

export interface VerifyResult {
  status: "verified" | "failed" | "inconclusive";
  checks: VerifyCheck[];
}

/** A trusted root (from the index or the chain), and the chain and contract it belongs to. */
export interface VerifyTrust {
  root: string;
  chainId?: number;
  contract?: string;
}

/**
 * Core's `verifyReceipt(receipt, { root, chainId, contract })`: recomputes the leaf and the root from the proof and
 * compares with the trusted root. MUST NOT throw on hostile input.
 */
export type VerifyReceiptFn = (
  receipt: unknown,
  trust: VerifyTrust,
) => VerifyResult | Promise<VerifyResult>;

/** A live read of the contract (`eth_call` through `src/chain`), for the "root on chain" check. */
export interface ChainBatchReader {
  /** The batch as the contract stores it now, or undefined when the id is unknown on chain. */
  readBatch(batchId: number): Promise<{ root: string; supersededBy: number } | undefined>;
}

/** An upload handed to the anchor pipeline by `POST /api/v1/batches`. */
export interface AnchorUpload {
  kind: "premium" | "pension";
  period: string;
  format: "csv" | "jsonl" | "sso-zip";
  /** The exact bytes received; the pipeline records their sha256 in the manifest. */
  bytes: Uint8Array;
  /** The id of the current batch this upload corrects, if any. */
  supersedes?: number;
  reason?: string;
  /** Province (ISO 3166-2:IR) for inputs that carry none: SSO DBF lists. */
  province?: string;
  /** The staff key that uploaded it (its id, never the secret). */
  uploadedBy: string;
}

export interface AnchorOutcome {
  batchId: number;
  txHash: string;
  root: string;
  recordCount: number;
  total: string;
}

/** One problem of a rejected upload: where and which rule, with how to fix it; never a value. */
export interface UploadIssue {
  /** 1-based line (CSV, JSON Lines) or record number (DBF); absent for a whole-file problem. */
  line?: number | undefined;
  field: string;
  rule: string;
  message: string;
  hint: string;
}

/**
 * The upload's records are invalid: the staff fix the file and upload it again; sending the same
 * bytes again never helps. Carries the issues (at most what the pipeline reported) for the
 * `upload-rejected` problem.
 */
export class UploadRejectedError extends InvalidInputError {
  override name = "UploadRejectedError";
  readonly issues: readonly UploadIssue[];
  constructor(issues: readonly UploadIssue[]) {
    super(`${issues.length} invalid record(s)`, { code: "api.upload.rejected" });
    this.issues = issues;
  }
}

/**
 * The anchor pipeline (`runAnchorJob`, wired in src/cli). Throws {@link UploadRejectedError} when
 * records are invalid, another {@link ShafafError} when anchoring failed (uploading the same file
 * again resumes the job).
 */
export type AnchorJobFn = (upload: AnchorUpload) => Promise<AnchorOutcome>;

/** What an {@link AnchorJobFn} throws. */
export type AnchorJobErrorType = UploadRejectedError | ShafafError;

/** Structured log lines; fields MUST NOT carry personal data or secrets. */
export interface ApiLog {
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
}

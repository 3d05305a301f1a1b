/**
 * The public API's wire types (`/api/v1`, the OpenAPI document's schemas): defined once here and
 * shared by the API's projections (src/api) and the portal's reads (src/web). Types only.
 * test/api/openapi.test.ts checks that the projections' values match the OpenAPI schemas.
 */

import type { RecordKind } from "./record.ts";

/** A record kind's name (`src/core/kinds/`). */
export type Kind = RecordKind;
export type BatchStatus = "anchored" | "attested" | "disputed" | "superseded";

/** A figure, or `{ suppressed: true }` where it covers fewer than 10 people. */
export interface Cell {
  count?: number;
  total?: string;
  suppressed?: boolean;
}

/**
 * A batch's manifest as checked by the indexer; cells are `Breakdown`s in the store and
 * {@link Cell}s (small ones suppressed) in the public view.
 */
export interface ManifestSummary<C> {
  /** `verified`: keccak256 of the manifest bytes equals the anchored manifestHash. */
  status: "verified" | "mismatch" | "missing";
  byProvince?: Record<string, C>;
  byCategory?: Record<string, C>;
  onTime?: number;
  late?: number;
  reason?: string;
}

/** An auditor's on-ledger verdict on a batch (OpenAPI `Attestation`; stored as is). */
export interface Attestation {
  auditor: string;
  verdict: "confirmed" | "disputed";
  reportHash: string;
  txHash: string;
  blockNumber: number;
}

/**
 * What the ledger says of an anchored batch: the members the index store's `BatchView` and the
 * public {@link PublicBatch} share, with the same meaning and encoding.
 */
export interface AnchoredBatch {
  batchId: number;
  kind: Kind;
  /** Jalali year-month, "1403-07". */
  period: string;
  root: string;
  recordCount: number;
  /** Σ amounts in Rials, decimal string. */
  total: string;
  manifestHash: string;
  idempotencyKey: string;
  headAfter: string;
  anchorer: string;
  /** Block timestamp, unix seconds. */
  anchoredAt: number;
  txHash: string;
  blockNumber: number;
  blockHash: string;
  supersedes: number | null;
  supersededBy: number | null;
  /** superseded > disputed (any current dispute) > attested (≥ 1 confirmation) > anchored. */
  status: BatchStatus;
  attestations: Attestation[];
  /** QBFT validators at the anchoring block, when the node offers qbft_getValidatorsByBlockNumber. */
  sealedBy?: string[];
  /** v2: keccak256 of the VRF public key the batch's person keys were derived under. */
  vrfKeyId?: string;
}

/**
 * OpenAPI `Batch`: the public projection of an anchored batch (src/api/public-batch.ts), small
 * cells suppressed.
 */
export interface PublicBatch extends AnchoredBatch {
  manifest: ManifestSummary<Cell>;
  /** Absent from servers older than the scheme field: read as "shafaf-tree/1". */
  scheme?: "shafaf-tree/1" | "shafaf-tree/2";
  /** shafaf-tree/2 only. */
  persons?: number;
  lanes?: Record<string, string> | { suppressed: true };
}

/**
 * One (period, kind) row, as the portal reads it. The API sends a row covering fewer than
 * `minCellPeople` as period, kind and `suppressed` only (no `batches`, no `corrections`).
 */
/**
 * One (period, kind) row of `/stats`. A row covering fewer than `minCellPeople` people is
 * `{ period, kind, suppressed: true }` and carries none of the counts: readers MUST NOT assume
 * `batches` or `corrections` are present.
 */
export interface PeriodStat {
  period: string;
  kind: Kind;
  /** Absent when the row is suppressed. */
  batches?: number;
  recordCount?: number;
  total?: string;
  people?: number;
  onTime?: number;
  late?: number;
  /** Absent when the row is suppressed. */
  corrections?: number;
  suppressed?: boolean;
}

export interface ProvinceStat extends Cell {
  period: string;
  kind: Kind;
  province: string;
}

/** OpenAPI `Stats`. */
export interface Stats {
  /** Cells covering fewer people than this are `{ suppressed: true }` (DOMAIN.md, Privacy). */
  minCellPeople: number;
  periods: PeriodStat[];
  provinces: ProvinceStat[];
}

export interface PublicChainInfo {
  chainId: number;
  contract: string;
  batchCount: number;
  lastIndexedBlock: number;
  headBlock?: number;
  paused?: boolean;
  rpcUrl?: string;
  /** Governance's names of accounts: lower-case address → `{ fa, en }`. */
  names?: Record<string, { fa: string; en: string }>;
  headCheck?: { status: "ok" | "mismatch" | "pending"; onChain?: string; recomputed?: string };
}

/** OpenAPI `BatchPage` (`GET /batches`): one page, newest first; `nextCursor` null (or absent) on the last page. */
export interface PublicBatchesPage {
  items: PublicBatch[];
  nextCursor?: string | null;
}

/** What an auditor's report found (`shafaf-findings/1`): names, positions and counts only. */
export interface Findings {
  format: "shafaf-findings/1";
  batchId: number;
  index: number;
  auditor: string;
  verdict: "confirmed" | "disputed";
  reportHash: string;
  report: "published" | "unpublished" | "unreadable";
  findings?: {
    reportVerdict: "match" | "mismatch";
    failedChecks: string[];
    recordCount: number;
    records: { position: number | null; problem: string; field: string | null }[];
    anomalyCount: number;
  };
}

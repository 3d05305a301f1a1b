/**
 * The audit report, `shafaf-audit/1`: the types the audit writes and its renderers and the
 * attestation read. Kept apart from `audit-batch.ts` so that readers of a report never import
 * the audit itself.
 */
import type { Anomaly, AnomalyCheckRun } from "./find-anomalies.ts";
import type { RecordKind } from "../core/record.ts";

export const AUDIT_REPORT_FORMAT = "shafaf-audit/1";

/** What is audited. */
export type AuditedExport =
  | { type: "batch-artifact"; dir: string }
  | {
      type: "inputs";
      paths: readonly string[];
      /** JSON Lines: `{recordId, salt, subject}` per line, or the artifact's records.jsonl. */
      salts: string;
      encoding?: "utf8" | "cp1256" | "auto" | undefined;
      province?: string | undefined;
    };

export interface AuditCheck {
  name: string;
  ok: boolean;
  anchored: string | null;
  recomputed: string | null;
  detail: string;
}

/** One record-level difference between the anchored batch and the export. */
export interface RecordMismatch {
  problem: "changed" | "missing" | "added" | "duplicate" | "invalid" | "no-salt" | "leaf";
  recordId: string | null;
  /** Leaf index in the anchored batch (reference records.jsonl order), when known. */
  anchoredIndex: number | null;
  /** Where the audited record comes from: `file:line`, base names only. */
  source: string | null;
  field: string | null;
  anchored: string | null;
  recomputed: string | null;
  detail: string;
}

export interface AuditReport {
  format: typeof AUDIT_REPORT_FORMAT;
  /** A `shafaf-tree/2` batch; absent for a v1 batch (whose report is as it always was). */
  scheme?: "shafaf-tree/2";
  batchId: number;
  kind: RecordKind;
  period: string;
  generatedAt: string | null;
  verdict: "match" | "mismatch";
  anchored: {
    source: "chain" | "artifact";
    chainId: number | null;
    contract: string | null;
    root: string;
    recordCount: number;
    total: string;
    manifestHash: string;
    supersedes: number | null;
    supersededBy: number | null;
    confirmations: number | null;
    disputes: number | null;
    /** v2: the VRF key the batch's person keys derive from, and the root's lanes by name. */
    vrfKeyId?: string;
    lanes?: Record<string, string>;
  };
  reference: {
    jobId: string;
    /** v2: null when no tree can be recomputed from the reference's records and keys. */
    root: string | null;
    records: "used" | "unavailable";
    detail: string;
  } | null;
  audited: {
    type: AuditedExport["type"];
    files: { name: string; sha256: string }[];
    root: string | null;
    recordCount: number;
    total: string;
    manifestHash: string | null;
    /** v2: the recomputed root's lanes by name (null: no tree could be recomputed). */
    lanes?: Record<string, string> | null;
  };
  checks: AuditCheck[];
  mismatches: RecordMismatch[];
  anomalies: Anomaly[];
  anomalyChecks: AnomalyCheckRun[];
  indicators: { pensionsOnTime: { onTime: number; late: number; rate: string } | null };
  settings: {
    lateDays: number;
    jumpThresholdPercent: number;
    jumpMinHeadcount: number;
    rulesVersion: string;
  };
}

export interface AuditBatchResult {
  report: AuditReport;
  /** The report as JSON, UTF-8, 2-space indented, trailing newline: the bytes whose keccak256 is attested. */
  json: Uint8Array;
  /** The self-contained HTML page (Persian and English headings). */
  html: Uint8Array;
  /** keccak256 of `json`. */
  reportHash: string;
}

/**
 * The validation report of an anchoring run: a readable table for the terminal and a versioned
 * JSON document (`shafaf-validation-report/1`) for `--report file.json`. Values are already
 * masked by the validators; nothing personal is added here.
 */
import type { AnchorJobResult, QuarantinedList, ValidationIssue } from "./run-anchor-job.ts";

export const VALIDATION_REPORT_FORMAT = "shafaf-validation-report/1";

export interface ValidationReport {
  format: typeof VALIDATION_REPORT_FORMAT;
  status: "invalid" | "valid";
  kind: string;
  period: string;
  jobId: string;
  rowsRead?: number;
  validRows?: number;
  recordCount?: number;
  total?: string;
  batchId?: number;
  dryRun: boolean;
  issues: ValidationIssue[];
  warnings: ValidationIssue[];
  /** Lists left out of the batch (per-list mode), with their problems. */
  quarantined?: QuarantinedList[];
  /** Discrepancies recorded in the manifest that refused nothing. */
  findings?: ValidationIssue[];
}

/** The JSON report of a run's result. */
export function validationReport(result: AnchorJobResult): ValidationReport {
  if (result.status === "invalid") {
    return {
      format: VALIDATION_REPORT_FORMAT,
      status: "invalid",
      kind: result.kind,
      period: result.period,
      jobId: result.jobId,
      rowsRead: result.rowsRead,
      validRows: result.validRows,
      dryRun: false,
      issues: result.issues,
      warnings: [],
      ...(result.quarantined !== undefined ? { quarantined: result.quarantined } : {}),
    };
  }
  return {
    format: VALIDATION_REPORT_FORMAT,
    status: "valid",
    kind: result.kind,
    period: result.period,
    jobId: result.jobId,
    recordCount: result.recordCount,
    total: result.total.toString(),
    ...(result.status === "anchored" ? { batchId: result.batchId } : {}),
    dryRun: result.status === "dry-run",
    issues: [],
    warnings: result.warnings,
    ...(result.quarantined.length > 0 ? { quarantined: result.quarantined } : {}),
    ...(result.findings.length > 0 ? { findings: result.findings } : {}),
  };
}

function where(i: ValidationIssue): string {
  const file = i.entry === undefined ? i.file : `${i.file}!${i.entry}`;
  return i.line === undefined ? file : `${file}:${i.line}`;
}

const clip = (s: string, n: number): string =>
  Array.from(s).length > n
    ? Array.from(s)
        .slice(0, n - 1)
        .join("") + "…"
    : s;

/**
 * A plain-text table, one issue per row: where (file:line), field, rule, value, message — hint.
 * Shows the first `limit` issues and says how many more the JSON report has.
 */
export function formatIssueTable(issues: readonly ValidationIssue[], limit = 50): string {
  const shown = issues.slice(0, limit);
  const rows = shown.map((i) => [
    clip(where(i), 40),
    i.field,
    i.rule,
    clip(i.value, 24),
    `${i.message} — ${i.hint}`,
  ]);
  const head = ["where", "field", "rule", "value", "problem — how to fix"];
  const widths = head.map((h, c) =>
    Math.max(h.length, ...rows.map((r) => Array.from(r[c]!).length)),
  );
  const line = (cells: string[]): string =>
    cells
      .map((cell, c) =>
        c === cells.length - 1 ? cell : cell + " ".repeat(widths[c]! - Array.from(cell).length),
      )
      .join("  ");
  const out = [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)];
  if (issues.length > shown.length) {
    out.push(`… and ${issues.length - shown.length} more (write them all with --report FILE.json)`);
  }
  return out.join("\n");
}

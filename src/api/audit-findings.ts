/**
 * The public findings of an auditor's report: what a dispute is about, without personal data.
 *
 * An auditor's `shafaf-audit/1` report names records with their values (a person's amounts, a
 * subject pseudonym, file lines), so the report itself is not public. The API reads a report
 * only when its keccak256 equals the `reportHash` the auditor attested on-chain, and publishes
 * this projection of it (docs/spec/audit-findings-1.md): the checks that failed (names only),
 * and per differing record its position in the anchored batch, the kind of problem and the
 * field's NAME — never a value, a record id, a subject or a source line.
 */

export const AUDIT_FINDINGS_FORMAT = "shafaf-findings/1";

/** At most this many record findings are listed (the count is always exact). */
export const MAX_LISTED_RECORDS = 50;

export interface RecordFinding {
  /** 0-based leaf index in the anchored batch; null for a record the batch does not have. */
  position: number | null;
  problem: "changed" | "missing" | "added" | "duplicate" | "invalid" | "no-salt" | "leaf";
  /** The name of the differing field (`deductions`, `salt`), never its value. */
  field: string | null;
}

export interface AuditFindings {
  /** The report's own verdict. */
  reportVerdict: "match" | "mismatch";
  /** Names of the report's checks that failed (`root`, `total`, `province IR-23`, …). */
  failedChecks: string[];
  /** How many distinct anchored positions (plus records without one) the report names. */
  recordCount: number;
  records: RecordFinding[];
  /** How many anomalies the report lists (their details stay in the report). */
  anomalyCount: number;
}

const PROBLEMS = new Set<RecordFinding["problem"]>([
  "changed",
  "missing",
  "added",
  "duplicate",
  "invalid",
  "no-salt",
  "leaf",
]);

/** A record field's name as published (`deductions`, `wageBase`), else null. */
function fieldName(value: unknown): string | null {
  return typeof value === "string" && /^[A-Za-z][A-Za-z0-9]{0,39}$/.test(value) ? value : null;
}

/**
 * A check's name as published: `audit-batch.ts`'s names (`root`, `record-count`,
 * `province IR-23`, `manifest.byProvince`), else null. Long digit runs never pass (an id).
 */
function checkName(value: unknown): string | null {
  return typeof value === "string" &&
    /^([a-z]+(-[a-z]+)*( IR-\d{2})?|manifest\.[A-Za-z]+)$/.test(value) &&
    value.length <= 40
    ? value
    : null;
}

/**
 * The public projection of a `shafaf-audit/1` report's bytes, or undefined when the bytes are
 * not such a report. MUST NOT copy any value of the report beyond names, positions and counts.
 *
 * @example
 * const findings = auditFindings(reportBytes); // { failedChecks: ["root"], recordCount: 1, … }
 */
export function auditFindings(bytes: Uint8Array): AuditFindings | undefined {
  let report: Record<string, unknown>;
  try {
    const parsed = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
    report = parsed as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (report.format !== "shafaf-audit/1") return undefined;
  if (report.verdict !== "match" && report.verdict !== "mismatch") return undefined;
  const failedChecks: string[] = [];
  for (const c of Array.isArray(report.checks) ? report.checks : []) {
    const check = (c ?? {}) as Record<string, unknown>;
    const name = checkName(check.name);
    if (check.ok === false && name !== null) failedChecks.push(name);
  }
  const records: RecordFinding[] = [];
  const positions = new Set<number>();
  let unplaced = 0;
  for (const m of Array.isArray(report.mismatches) ? report.mismatches : []) {
    const mismatch = (m ?? {}) as Record<string, unknown>;
    const problem = mismatch.problem as RecordFinding["problem"];
    if (!PROBLEMS.has(problem)) continue;
    const index = mismatch.anchoredIndex;
    const position =
      typeof index === "number" && Number.isSafeInteger(index) && index >= 0 ? index : null;
    if (position === null) unplaced++;
    else positions.add(position);
    if (records.length < MAX_LISTED_RECORDS)
      records.push({ position, problem, field: fieldName(mismatch.field) });
  }
  return {
    reportVerdict: report.verdict,
    failedChecks,
    recordCount: positions.size + unplaced,
    records,
    anomalyCount: Array.isArray(report.anomalies) ? report.anomalies.length : 0,
  };
}

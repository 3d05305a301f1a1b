/**
 * The problems of one reading of the inputs, sorted as the pipeline treats them: errors refuse
 * (a list, or the batch), warnings are reported, findings are recorded in the manifest (or are
 * errors under `--strict`). Issues of excluded lists are dropped; each (file, entry, field, rule)
 * keeps its first `ISSUES_PER_RULE` errors and counts the rest in one summary issue.
 */
import type { IngestIssue } from "../ingest/ingest-issue.ts";

/**
 * One problem that keeps the batch from being anchored: a reader's issue or a record's, where it
 * is. `value` is masked when personal; a `finding` is recorded in the manifest and refuses nothing.
 */
export interface ValidationIssue extends Pick<
  IngestIssue,
  "field" | "rule" | "value" | "message" | "hint" | "severity"
> {
  file: string;
  /** 1-based line (CSV, JSON Lines) or record number (DBF); absent for a whole-file problem. */
  line?: number;
  entry?: string;
  /** The employer's list (a DBF pair's folder) when it is not the file itself. */
  list?: string;
}

/** Record issues kept per (file, field, rule); the rest are counted in one summary issue. */
export const ISSUES_PER_RULE = 1000;

export interface IssueCollector {
  /** Errors so far (MUST be read after `finish` for the summaries). */
  readonly issues: ValidationIssue[];
  readonly warnings: ValidationIssue[];
  readonly findings: ValidationIssue[];
  add(issue: ValidationIssue): void;
  /** A reader's issue, in the pipeline's form. */
  addIngest(issue: IngestIssue): void;
  /** Appends one "N more" summary per rule that went over `ISSUES_PER_RULE`. */
  finish(): void;
}

/** A reader's issue as a `ValidationIssue` (a DBF record number stands for the line). */
export function fromIngestIssue(i: IngestIssue): ValidationIssue {
  const line = i.source.line ?? i.source.record;
  return {
    file: i.source.file,
    ...(line !== undefined ? { line } : {}),
    ...(i.source.entry !== undefined ? { entry: i.source.entry } : {}),
    field: i.field,
    rule: i.rule,
    value: i.value,
    message: i.message,
    hint: i.hint,
    ...(i.severity !== undefined ? { severity: i.severity } : {}),
    ...(i.source.list !== undefined ? { list: i.source.list } : {}),
  };
}

/**
 * @example
 * const collected = createIssueCollector({ strict: false, excluded: () => false });
 * collected.add(issue); collected.finish();
 * if (collected.issues.length > 0) …
 */
export function createIssueCollector(options: {
  strict: boolean;
  /** True for an issue of a list or file this reading leaves out. */
  excluded: (list: string | undefined, file: string) => boolean;
}): IssueCollector {
  const issues: ValidationIssue[] = [];
  const warnings: ValidationIssue[] = [];
  const findings: ValidationIssue[] = [];
  const ruleCounts = new Map<string, { first: ValidationIssue; n: number }>();
  const add = (issue: ValidationIssue): void => {
    if (options.excluded(issue.list, issue.file)) return;
    if (issue.severity === "warning") {
      warnings.push(issue);
      return;
    }
    if (issue.severity === "finding") {
      if (!options.strict) {
        findings.push(issue);
        return;
      }
      delete issue.severity;
    }
    const key = `${issue.file}\0${issue.entry ?? ""}\0${issue.field}\0${issue.rule}`;
    const c = ruleCounts.get(key);
    if (c === undefined) ruleCounts.set(key, { first: issue, n: 1 });
    else if (++c.n > ISSUES_PER_RULE) return;
    issues.push(issue);
  };
  const finish = (): void => {
    for (const { first, n } of ruleCounts.values()) {
      if (n <= ISSUES_PER_RULE) continue;
      issues.push({
        file: first.file,
        field: first.field,
        rule: first.rule,
        value: "",
        message: `${n - ISSUES_PER_RULE} more problems of this kind (${n} in all) are not listed`,
        hint: "fix the ones listed first; the rest are usually the same mistake",
      });
    }
  };
  return { issues, warnings, findings, add, addIngest: (i) => add(fromIngestIssue(i)), finish };
}

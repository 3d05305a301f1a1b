import { InvalidInputError } from "../core/errors.ts";

/**
 * A problem found while reading a file (not a validation rule of a record, which core reports).
 * `value` is masked: personal text (names, IDs, amounts) never appears in an issue.
 * Issues without `severity` are errors; `"warning"` ones (e.g. deleted DBF records skipped) are
 * reported but do not make the input invalid. `"finding"` ones are discrepancies that change no
 * worker's record (a header total off by a Rial): an error for `--strict` and for every reader
 * used alone, a finding recorded in the manifest for the anchor pipeline's per-list mode.
 */
export interface IngestIssue {
  /** `list`: the employer's list (see `RowSource.list`) the issue belongs to, when known. */
  source: { file: string; line?: number; record?: number; entry?: string; list?: string };
  /** Column or DBF field name, or `""` for the file as a whole. */
  field: string;
  /** Stable rule id, e.g. `csv.header.unknown-column`, `sso.header-total`. */
  rule: string;
  value: string;
  message: string;
  hint: string;
  severity?: "warning" | "finding";
}

/** Thrown by a reader used without `onIssue`: every issue of the input, all at once. */
export class IngestError extends InvalidInputError {
  override name = "IngestError";
  readonly issues: readonly IngestIssue[];
  constructor(issues: readonly IngestIssue[]) {
    const first = issues[0];
    super(
      issues.length === 1 && first !== undefined
        ? first.message
        : `${issues.length} problems in the input files`,
      {
        details: issues.slice(0, 20).map(formatIssue).join("\n"),
        code: "ingest",
        ...(first !== undefined ? { field: first.field, rule: first.rule } : {}),
      },
    );
    this.issues = issues;
  }
}

/** `file:line:field: message (hint)` — the form used in errors and terminal reports. */
export function formatIssue(issue: IngestIssue): string {
  const s = issue.source;
  const where = [
    s.entry === undefined ? s.file : `${s.file}!${s.entry}`,
    s.line ?? (s.record === undefined ? undefined : `record ${s.record}`),
    issue.field === "" ? undefined : issue.field,
  ]
    .filter((p) => p !== undefined)
    .join(":");
  const warn =
    issue.severity === "warning" ? "warning: " : issue.severity === "finding" ? "finding: " : "";
  return `${where}: ${warn}${issue.message} (${issue.hint})`;
}

/** Options every reader takes for its issues. */
export interface IssueOptions {
  /**
   * Receives each issue as it is found. Without it the reader collects them and throws one
   * `IngestError` with all of them when the input ends (warnings alone never throw).
   */
  onIssue?: (issue: IngestIssue) => void;
}

/** Per-rule cap on issues kept per file, so a systematically bad 1M-row file stays reportable. */
export const ISSUES_PER_RULE = 1000;

/**
 * Collects a reader's issues: forwards them to `onIssue`, or keeps them to throw at the end.
 * After `ISSUES_PER_RULE` issues of one rule in one file, further ones are counted and reported
 * as one summary issue by `flush`.
 */
export class IssueSink {
  readonly #onIssue: ((issue: IngestIssue) => void) | undefined;
  readonly #kept: IngestIssue[] = [];
  readonly #counts = new Map<string, { first: IngestIssue; n: number }>();

  constructor(onIssue?: (issue: IngestIssue) => void) {
    this.#onIssue = onIssue;
  }

  add(issue: IngestIssue): void {
    const key = `${issue.source.file}\0${issue.source.entry ?? ""}\0${issue.rule}`;
    const c = this.#counts.get(key);
    if (c === undefined) this.#counts.set(key, { first: issue, n: 1 });
    else if (++c.n > ISSUES_PER_RULE) return;
    this.#emit(issue);
  }

  #emit(issue: IngestIssue): void {
    if (this.#onIssue !== undefined) this.#onIssue(issue);
    else this.#kept.push(issue);
  }

  /** Emits the "N more" summaries; then, without `onIssue`, throws if any error was collected. */
  finish(): void {
    for (const { first, n } of this.#counts.values()) {
      if (n <= ISSUES_PER_RULE) continue;
      this.#emit({
        source: {
          file: first.source.file,
          ...(first.source.entry !== undefined ? { entry: first.source.entry } : {}),
        },
        field: first.field,
        rule: first.rule,
        value: "",
        message: `${n - ISSUES_PER_RULE} more problems of this kind (${n} in all) are not listed`,
        hint: "fix the ones listed first; the rest are usually the same mistake",
        ...(first.severity !== undefined ? { severity: first.severity } : {}),
      });
    }
    this.#counts.clear();
    const errors = this.#kept.filter((i) => i.severity !== "warning");
    if (errors.length > 0) throw new IngestError(this.#kept);
  }
}

/** A masked rendering for issues: the shape of a value, never its content. */
export function maskValue(text: string): string {
  const t = text.trim();
  if (t === "") return "";
  const digits = /^[0-9]+$/.test(t);
  return `[${digits ? "number" : "text"}, ${Array.from(t).length} chars]`;
}

/**
 * True when a header cell or key may be shown in a message: it has the shape of a column name
 * (ASCII letters first, then letters, digits, `_ . -` and spaces, at most 40 characters, no run of
 * three digits). Anything else may be a value from a data row — a national ID, an insurance
 * number, an amount, a name — and is shown masked.
 */
export function looksLikeColumnName(text: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_ .-]{0,39}$/.test(text) && !/[0-9]{3}/.test(text);
}

/** A header cell or key for a message: itself when it looks like a column name, else masked. */
export function columnForMessage(text: string): string {
  return looksLikeColumnName(text) ? text : maskValue(text);
}

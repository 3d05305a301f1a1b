/**
 * Per-list outcome of an anchoring run: which employers' lists a first reading found faulty, what
 * the second reading leaves out, and what the manifest records of them (`run-anchor-job.ts`;
 * `docs/unemployment-coverage.md`, section 3).
 */
import type { ValidationIssue } from "./issue-collector.ts";

/** One employer's list (a DBF pair, or a CSV / JSON Lines file) left out of the batch. */
export interface QuarantinedList {
  /** The list's label: a DBF pair's folder (`lists/w1`, `a.zip!w1`) or the file. */
  list: string;
  /** Rows the list held (read before the problem was found). */
  rows: number;
  /** Workshop codes of its rows (usually one). */
  workshops: string[];
  /** Every problem of the list, masked. */
  issues: ValidationIssue[];
}

/** Lists and files a pass leaves out. */
export interface Exclusion {
  lists: ReadonlySet<string>;
  files: ReadonlySet<string>;
  /** What the manifest records of them. */
  summary: ManifestQuarantined[];
}

/** A quarantined list as the manifest records it. */
export interface ManifestQuarantined {
  list: string;
  rows: number;
  rules: string[];
}

/**
 * The lists an invalid first pass leaves out: each issue's list (its `list`, else its file);
 * an issue of a container (a zip's own problem) takes every list of that file with it.
 */
export function quarantineLists(
  issues: readonly ValidationIssue[],
  lists: ReadonlyMap<string, { rows: number; workshops: Set<string> }>,
): { quarantined: QuarantinedList[]; exclude: Exclusion } {
  const byList = new Map<string, ValidationIssue[]>();
  const files = new Set<string>();
  for (const i of issues) {
    const key = i.list ?? i.file;
    if (i.list === undefined) files.add(i.file);
    const l = byList.get(key);
    if (l === undefined) byList.set(key, [i]);
    else l.push(i);
  }
  // Lists read from a file with a file-level problem (e.g. rows of `a.zip!w1` when `a.zip` fails).
  for (const key of lists.keys()) {
    if (byList.has(key)) continue;
    for (const f of files)
      if (key.startsWith(f + "!") || key.startsWith(f + "/")) byList.set(key, []);
  }
  const quarantined = [...byList.entries()]
    .map(([list, listIssues]) => ({
      list,
      rows: lists.get(list)?.rows ?? 0,
      workshops: [...(lists.get(list)?.workshops ?? [])].sort(),
      issues: listIssues,
    }))
    .sort((a, b) => (a.list < b.list ? -1 : a.list > b.list ? 1 : 0));
  return {
    quarantined,
    exclude: {
      lists: new Set(byList.keys()),
      files,
      summary: quarantined.map((q) => ({
        list: q.list,
        rows: q.rows,
        rules: [...new Set(q.issues.map((i) => i.rule))].sort(),
      })),
    },
  };
}

/** A finding as the manifest records it (masked value; no message prose, which may change). */
export function manifestFinding(i: ValidationIssue): {
  file: string;
  line?: number;
  field: string;
  rule: string;
  list?: string;
} {
  return {
    file: i.entry === undefined ? i.file : `${i.file}!${i.entry}`,
    ...(i.line !== undefined ? { line: i.line } : {}),
    field: i.field,
    rule: i.rule,
    ...(i.list !== undefined ? { list: i.list } : {}),
  };
}

/**
 * Anomaly checks on one batch's records: findings that do not block anything and do not change
 * the audit's verdict, but that an auditor must look at. Every finding names records by record
 * id and people only by their subject pseudonym (never a national ID or a name).
 */
import path from "node:path";
import { jalaliToGregorianDate } from "../core/jalali.ts";
import { periodYear } from "../core/period.ts";
import { DEFAULT_RATE_TABLE, premiumShares, type RateTable } from "../core/rates.ts";
import type { LedgerRecord, RecordKind } from "../core/record.ts";
import type { IngestIssue } from "../ingest/ingest-issue.ts";
import { createPersonGroups } from "../core/subject-columns.ts";

/** One finding. `subject` is what it is about: a workshop code, a pension file, a pseudonym, a file. */
export interface Anomaly {
  check: AnomalyCheckName;
  subject: string;
  recordIds: string[];
  field: string | null;
  expected: string | null;
  found: string | null;
  detail: string;
}

export type AnomalyCheckName =
  | "duplicate-person"
  | "correction-target"
  | "statutory-rates"
  | "late-pension"
  | "header-totals"
  | "headcount-jump"
  | "wage-base-jump";

/** Whether a check ran, and if not, why. */
export interface AnomalyCheckRun {
  check: AnomalyCheckName;
  status: "run" | "skipped";
  found: number;
  detail: string;
}

export interface AnomalyRecord {
  record: LedgerRecord;
  /** The leaf's subject pseudonym (HMAC of the national ID), `0x…`. */
  subject: string;
}

export interface AnomalySettings {
  /** A pension paid more than this many days after its due date is late. */
  lateDays: number;
  /** A workshop's headcount or wage base changing by more than this percentage is a jump. */
  jumpThresholdPercent: number;
  /** Jumps are reported only for workshops with at least this many workers in one of the two periods. */
  jumpMinHeadcount: number;
  rates: RateTable;
}

export const DEFAULT_ANOMALY_SETTINGS: AnomalySettings = {
  lateDays: 5,
  jumpThresholdPercent: 50,
  jumpMinHeadcount: 5,
  rates: DEFAULT_RATE_TABLE,
};

export interface FindAnomaliesInput {
  kind: RecordKind;
  period: string;
  records: readonly AnomalyRecord[];
  /** The readers' issues (DBF header checks); undefined when the inputs were not read (artifact audit). */
  ingestIssues?: readonly IngestIssue[] | undefined;
  /** True when some input was an SSO DBF list. */
  hadDbfInputs?: boolean | undefined;
  /**
   * Record id → periods it was anchored in (same kind), from earlier batches; undefined when no
   * earlier batches were given. Only the corrections' targets need to be in it (`resolveTargets`).
   */
  history?: ReadonlyMap<string, readonly string[]> | undefined;
  /** The previous period's batch of the same kind, when known: its records, or their tally per workshop. */
  previous?: PreviousPeriod | undefined;
  settings: AnomalySettings;
}

/** The previous period for the jump checks: its records, or (streamed) their {@link WorkshopTally}. */
export type PreviousPeriod =
  | { period: string; records: readonly LedgerRecord[] }
  | { period: string; workshops: ReadonlyMap<string, WorkshopFigures> };

/** Earlier batches as the correction and jump checks need them, known once the records are added. */
export interface AnomalyContext {
  history: FindAnomaliesInput["history"];
  previous: FindAnomaliesInput["previous"];
}

/** One correction: only what the correction-target check reads of it. */
interface Correction {
  recordId: string;
  period: string;
  target: string;
}

export interface AnomalyResult {
  anomalies: Anomaly[];
  checks: AnomalyCheckRun[];
  /** Pensions: paid within `lateDays` of due, late, and the on-time rate in basis points of 100 %. */
  pensionsOnTime: { onTime: number; late: number; rate: string } | null;
}

const DAY_MS = 86_400_000;

/** "97.50%" from a ratio of integers, exact to two decimals (rounded down). */
export function percentString(part: number, whole: number): string {
  if (whole === 0) return "n/a";
  const bp = Math.floor((part * 10_000) / whole);
  return `${Math.floor(bp / 100)}.${String(bp % 100).padStart(2, "0")}%`;
}

const shortPseudonym = (s: string): string => `person ${s.slice(0, 12)}…`;

/** {@link findAnomalies} folded one record at a time: memory holds groups, not records. */
export interface AnomalyFinder {
  /** Folds the next record (export order) with its leaf's subject pseudonym. */
  add(record: LedgerRecord, subject: string): void;
  /** The distinct subjects added so far (the batch's people), counted from the finder's column. */
  distinctSubjects(): number;
  /** The record ids the corrections added so far point at (`supersedes`): what the history must resolve. */
  correctionTargets(): ReadonlySet<string>;
  /**
   * The findings of the records added; call once. `context`, when given, stands for the input's
   * `history` and `previous` (read after the records, when the correction targets are known).
   */
  finish(context?: AnomalyContext): AnomalyResult;
}

/**
 * Runs every anomaly check that its inputs allow; the others are listed as skipped with the reason.
 * Deterministic: findings are ordered by check, then subject, then record ids.
 *
 * @example
 * const { anomalies, pensionsOnTime } = findAnomalies({ kind, period, records, settings: DEFAULT_ANOMALY_SETTINGS });
 */
export function findAnomalies(input: FindAnomaliesInput): AnomalyResult {
  const finder = createAnomalyFinder(input);
  for (const { record, subject } of input.records) finder.add(record, subject);
  return finder.finish();
}

/**
 * The anomaly checks as a fold over the records (the streaming audit's form). Per record it keeps
 * only what a check needs: per record its list, subject and id in fixed-size columns
 * (`subject-columns.ts`), the corrections, and one tally per workshop.
 *
 * @example
 * const finder = createAnomalyFinder({ kind, period, settings });
 * for (const { record, subject } of records) finder.add(record, subject);
 * const { anomalies } = finder.finish();
 */
export function createAnomalyFinder(
  input: Omit<FindAnomaliesInput, "records"> & {
    /** How many records will be added (columns sized once); more still fit. */
    expectedRecords?: number | undefined;
  },
): AnomalyFinder {
  const s = input.settings;
  const groups = createPersonGroups(input.expectedRecords);
  const corrections: Correction[] = [];
  const targets = new Set<string>();
  const year = periodYear(input.period);
  let rateProblem: string | undefined;
  if (input.kind === "premium") {
    try {
      premiumShares(0n, year, { unemployment: false, hazardous: false }, s.rates);
    } catch (e) {
      rateProblem = e instanceof Error ? e.message : String(e);
    }
  }
  const rateFindings: Anomaly[] = [];
  const lateFindings: Anomaly[] = [];
  let onTime = 0;
  let late = 0;
  const tallyNow: WorkshopTally = new Map();
  return {
    add(record, subject) {
      // ── the same person twice in one workshop's list (premiums) or one pension file (pensions) ──
      const owner = record.kind === "premium" ? record.workshopCode : record.pensionFile;
      groups.add(owner, subject, record.recordId);
      if (record.supersedes !== undefined) {
        corrections.push({
          recordId: record.recordId,
          period: record.period,
          target: record.supersedes,
        });
        targets.add(record.supersedes);
      }
      if (input.kind === "premium" && rateProblem === undefined && record.kind === "premium")
        checkRates(record, year, s, rateFindings);
      if (input.kind === "pension" && record.kind === "pension") {
        const days = Math.round(
          (jalaliToGregorianDate(record.paidOn).getTime() -
            jalaliToGregorianDate(record.dueOn).getTime()) /
            DAY_MS,
        );
        if (days <= s.lateDays) onTime++;
        else {
          late++;
          lateFindings.push({
            check: "late-pension",
            subject: `pension file ${record.pensionFile}`,
            recordIds: [record.recordId],
            field: "paid_on",
            expected: `≤ ${s.lateDays} days after ${record.dueOn}`,
            found: `${days} days (${record.paidOn})`,
            detail: `paid ${days} days after it was due`,
          });
        }
      }
      if (input.kind === "premium") tally(tallyNow, record);
    },
    distinctSubjects: () => groups.distinctSubjects(),
    correctionTargets: () => targets,
    finish: (context) =>
      finishAnomalies(context === undefined ? input : { ...input, ...context }, {
        groups,
        corrections,
        year,
        rateProblem,
        rateFindings,
        lateFindings,
        onTime,
        late,
        tallyNow,
      }),
  };
}

/** A workshop's headcount and total wage base in one batch. */
export interface WorkshopFigures {
  people: number;
  wages: bigint;
}

/** Workshop code → its figures: what the jump checks compare, tallied one record at a time. */
export type WorkshopTally = Map<string, WorkshopFigures>;

/**
 * Adds one record to a workshop tally (premium records only; others are ignored).
 *
 * @example
 * const m: WorkshopTally = new Map();
 * for (const r of records) tally(m, r);
 */
export function tally(m: WorkshopTally, r: LedgerRecord): void {
  if (r.kind !== "premium") return;
  const t = m.get(r.workshopCode);
  if (t === undefined) m.set(r.workshopCode, { people: 1, wages: r.wageBase });
  else {
    t.people++;
    t.wages += r.wageBase;
  }
}

/** Premium shares of one record against the statutory rates of the year. */
function checkRates(
  record: Extract<LedgerRecord, { kind: "premium" }>,
  year: number,
  s: AnomalySettings,
  out: Anomaly[],
): void {
  const want = premiumShares(
    record.wageBase,
    year,
    { unemployment: record.unemploymentShare > 0n, hazardous: record.hazardShare > 0n },
    s.rates,
  );
  const pairs: [string, bigint, bigint][] = [
    ["worker_share", want.worker, record.workerShare],
    ["employer_share", want.employer, record.employerShare],
    ["unemployment_share", want.unemployment, record.unemploymentShare],
    ["hazard_share", want.hazard, record.hazardShare],
    ["total", want.total, record.total],
  ];
  for (const [field, expected, found] of pairs) {
    if (expected === found) continue;
    out.push({
      check: "statutory-rates",
      subject: `record ${record.recordId}`,
      recordIds: [record.recordId],
      field,
      expected: expected.toString(),
      found: found.toString(),
      detail: `${field} is not the statutory share of wage_base for ${year} (${s.rates.rounding} rounding)`,
    });
  }
}

function finishAnomalies(
  input: Omit<FindAnomaliesInput, "records">,
  f: {
    groups: ReturnType<typeof createPersonGroups>;
    corrections: Correction[];
    year: number;
    rateProblem: string | undefined;
    rateFindings: Anomaly[];
    lateFindings: Anomaly[];
    onTime: number;
    late: number;
    tallyNow: WorkshopTally;
  },
): AnomalyResult {
  const out: Anomaly[] = [];
  const checks: AnomalyCheckRun[] = [];
  const add = (a: Anomaly): void => void out.push(a);
  const ran = (check: AnomalyCheckName, detail: string, before: number): void =>
    void checks.push({ check, status: "run", found: out.length - before, detail });
  const skip = (check: AnomalyCheckName, detail: string): void =>
    void checks.push({ check, status: "skipped", found: 0, detail });
  const s = input.settings;

  // ── the same person twice in one workshop's list (premiums) or one pension file (pensions) ──
  {
    const before = out.length;
    for (const g of f.groups.groups()) {
      if (g.ids.length < 2) continue;
      const where = input.kind === "premium" ? `workshop ${g.owner}` : `pension file ${g.owner}`;
      add({
        check: "duplicate-person",
        subject: `${where}, ${shortPseudonym(g.subject)}`,
        recordIds: [...g.ids].sort(),
        field: "national_id",
        expected: "1",
        found: String(g.ids.length),
        detail: `the same person appears ${g.ids.length} times in ${where}'s list for ${input.period}`,
      });
    }
    ran(
      "duplicate-person",
      input.kind === "premium"
        ? "one row per person per workshop and month"
        : "one payment per beneficiary per pension file and month",
      before,
    );
  }

  // ── corrections that point at unknown records or another period ──
  {
    const corrections = f.corrections;
    if (corrections.length === 0)
      skip("correction-target", "no record in this batch is a correction");
    else if (input.history === undefined)
      skip(
        "correction-target",
        `${corrections.length} correction(s), but no earlier batches were given (--history DIR or --data-dir)`,
      );
    else {
      const before = out.length;
      for (const record of corrections) {
        const target = record.target;
        const periods = input.history.get(target);
        if (periods === undefined || periods.length === 0) {
          add({
            check: "correction-target",
            subject: `record ${record.recordId}`,
            recordIds: [record.recordId],
            field: "supersedes",
            expected: "a record anchored earlier",
            found: target,
            detail: `the correction points at record ${target}, which no earlier ${input.kind} batch holds`,
          });
        } else if (!periods.includes(record.period)) {
          add({
            check: "correction-target",
            subject: `record ${record.recordId}`,
            recordIds: [record.recordId],
            field: "supersedes",
            expected: record.period,
            found: [...periods].sort().join(", "),
            detail: `the correction points at record ${target}, anchored for another period`,
          });
        }
      }
      ran(
        "correction-target",
        `${corrections.length} correction(s) checked against earlier batches`,
        before,
      );
    }
  }

  // ── premium shares against the statutory rates ──
  if (input.kind === "premium") {
    const before = out.length;
    if (f.rateProblem !== undefined)
      skip("statutory-rates", `no rates for ${f.year}: ${f.rateProblem}`);
    else {
      out.push(...f.rateFindings);
      ran("statutory-rates", `rate table: ${s.rates.version}`, before);
    }
  } else skip("statutory-rates", "premium batches only");

  // ── pensions paid late ──
  let pensionsOnTime: AnomalyResult["pensionsOnTime"] = null;
  if (input.kind === "pension") {
    const before = out.length;
    const { onTime, late } = f;
    out.push(...f.lateFindings);
    pensionsOnTime = { onTime, late, rate: percentString(onTime, onTime + late) };
    ran(
      "late-pension",
      `${onTime} of ${onTime + late} paid within ${s.lateDays} days of due (${pensionsOnTime.rate})`,
      before,
    );
  } else skip("late-pension", "pension batches only");

  // ── DBF workshop header totals against their rows ──
  if (input.ingestIssues === undefined || input.hadDbfInputs !== true)
    skip("header-totals", "needs the original SSO DBF lists as inputs");
  else {
    const before = out.length;
    for (const i of input.ingestIssues) {
      if (i.rule !== "sso.header-total" && i.rule !== "sso.header-count") continue;
      const file = path.basename(i.source.file);
      const where = i.source.entry === undefined ? file : `${file}!${i.source.entry}`;
      add({
        check: "header-totals",
        subject: where,
        recordIds: [],
        field: i.field,
        expected: null,
        found: i.value,
        detail: i.message,
      });
    }
    ran("header-totals", "DSK_NUM and the DSK_T* totals against the worker rows", before);
  }

  // ── sudden jumps against the previous period ──
  if (input.kind !== "premium") {
    skip("headcount-jump", "premium batches only");
    skip("wage-base-jump", "premium batches only");
  } else if (input.previous === undefined) {
    skip(
      "headcount-jump",
      "no batch of the previous period was found (--previous DIR or --data-dir)",
    );
    skip(
      "wage-base-jump",
      "no batch of the previous period was found (--previous DIR or --data-dir)",
    );
  } else {
    const now = f.tallyNow;
    const previous = input.previous;
    let then: ReadonlyMap<string, WorkshopFigures>;
    if ("workshops" in previous) then = previous.workshops;
    else {
      const m: WorkshopTally = new Map();
      for (const r of previous.records) tally(m, r);
      then = m;
    }
    const t = BigInt(s.jumpThresholdPercent);
    const jumped = (a: bigint, b: bigint): boolean =>
      a === 0n ? b !== 0n : (b > a ? b - a : a - b) * 100n > t * a;
    for (const check of ["headcount-jump", "wage-base-jump"] as const) {
      const before = out.length;
      for (const [code, cur] of [...now].sort(([a], [b]) => (a < b ? -1 : 1))) {
        const prev = then.get(code);
        if (prev === undefined) continue;
        if (Math.max(prev.people, cur.people) < s.jumpMinHeadcount) continue;
        const [a, b] =
          check === "headcount-jump"
            ? [BigInt(prev.people), BigInt(cur.people)]
            : [prev.wages, cur.wages];
        if (!jumped(a, b)) continue;
        add({
          check,
          subject: `workshop ${code}`,
          recordIds: [],
          field: check === "headcount-jump" ? "headcount" : "wage_base",
          expected: `within ${s.jumpThresholdPercent}% of ${a.toString()} (${input.previous.period})`,
          found: b.toString(),
          detail: `workshop ${code}'s ${check === "headcount-jump" ? "headcount" : "total wage base"} went from ${a.toString()} in ${input.previous.period} to ${b.toString()}`,
        });
      }
      ran(
        check,
        `against ${input.previous.period}; threshold ${s.jumpThresholdPercent}%, workshops with ≥ ${s.jumpMinHeadcount} workers`,
        before,
      );
    }
  }

  out.sort((x, y) =>
    x.check !== y.check
      ? x.check < y.check
        ? -1
        : 1
      : x.subject !== y.subject
        ? x.subject < y.subject
          ? -1
          : 1
        : (x.field ?? "") < (y.field ?? "")
          ? -1
          : (x.field ?? "") > (y.field ?? "")
            ? 1
            : 0,
  );
  return { anomalies: out, checks, pensionsOnTime };
}

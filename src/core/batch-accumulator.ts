/**
 * The batch fold: the figures of a batch that its manifest publishes, computed one record at a
 * time. The anchor pipeline and the audit both fold their records through this one module, so a
 * figure the audit recomputes is, by construction, the figure the pipeline anchored.
 */
import { recordKindRules } from "./kinds/record-kinds.ts";
import { recordAmount } from "./record-amount.ts";
import type { LedgerRecord } from "./record.ts";

/** One cell of a breakdown: how many records, and the Σ of their amounts in Rials. */
export interface BatchCell {
  count: number;
  total: bigint;
}

/** What a manifest says of its records (`ManifestInput` fields of the same names). */
export interface BatchFigures {
  recordCount: number;
  /** Σ amounts in Rials: premium `total`, pension `net` (`recordAmount`). */
  total: bigint;
  byProvince: ReadonlyMap<string, BatchCell>;
  /** By the kind's `category` (pensions); empty for a kind without one (premiums). */
  byCategory: ReadonlyMap<string, BatchCell>;
  /** Distinct subject pseudonyms. */
  people: number;
  /** By the kind's `onTime` (pensions: paid by the due date, or after); zeros for a kind without one. */
  timeliness: { onTime: number; late: number };
}

export interface BatchAccumulator {
  /** Folds one record, with the subject pseudonym its leaf carries. */
  add(record: LedgerRecord, subject: string): void;
  /** The figures of the records added so far (a snapshot: later `add`s do not change it). */
  figures(): BatchFigures;
}

function addTo(map: Map<string, BatchCell>, key: string, amount: bigint): void {
  const cell = map.get(key);
  if (cell === undefined) map.set(key, { count: 1, total: amount });
  else {
    cell.count++;
    cell.total += amount;
  }
}

const copy = (map: ReadonlyMap<string, BatchCell>): Map<string, BatchCell> =>
  new Map([...map].map(([k, c]) => [k, { ...c }]));

/**
 * @example
 * const acc = createBatchAccumulator();
 * for (const { record, subject } of records) acc.add(record, subject);
 * const { recordCount, total, byProvince } = acc.figures();
 */
export function createBatchAccumulator(
  options: {
    /**
     * Where the distinct subjects are counted (default a `Set`): the streaming audit passes a
     * column of 32-byte pseudonyms, to hold a million people in 32 MB.
     */
    people?: { add(subject: string): void; readonly size: number };
  } = {},
): BatchAccumulator {
  let recordCount = 0;
  let total = 0n;
  const byProvince = new Map<string, BatchCell>();
  const byCategory = new Map<string, BatchCell>();
  const people = options.people ?? new Set<string>();
  const timeliness = { onTime: 0, late: 0 };
  return {
    add(record, subject) {
      const amount = recordAmount(record);
      recordCount++;
      total += amount;
      addTo(byProvince, record.province, amount);
      people.add(subject);
      const rules = recordKindRules(record.kind);
      if (rules.category !== undefined) addTo(byCategory, rules.category(record), amount);
      if (rules.onTime !== undefined) {
        if (rules.onTime(record)) timeliness.onTime++;
        else timeliness.late++;
      }
    },
    figures: () => ({
      recordCount,
      total,
      byProvince: copy(byProvince),
      byCategory: copy(byCategory),
      people: people.size,
      timeliness: { ...timeliness },
    }),
  };
}

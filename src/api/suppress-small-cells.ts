import type { Breakdown, PeriodStat, ProvinceStat } from "./app-deps.ts";

/** Cells covering fewer people than this are never published (DOMAIN.md, Privacy). */
export const MIN_CELL_PEOPLE = 10;

export interface SuppressedCell {
  suppressed: true;
}

/**
 * Which cells of one row to suppress, given that the row's total is published.
 *
 * Primary suppression: every cell with `count < min`. Complementary suppression: while the
 * suppressed group has exactly one cell, or covers fewer than `min` people in all, the smallest
 * published cell joins it. Guarantees (when the row total covers ≥ `min` people):
 * - no suppressed cell can be recovered by subtracting the published cells from the row total
 *   (at least two cells are suppressed whenever any is), and
 * - what subtraction does reveal — the sum of the suppressed group — covers ≥ `min` people.
 * When the row itself covers fewer than `min` people every cell is suppressed (the caller
 * suppresses the row total too).
 *
 * @example
 * suppressionMask([{ count: 3 }, { count: 40 }, { count: 12 }]) // [true, false, true]
 */
export function suppressionMask(
  cells: readonly { count: number }[],
  min: number = MIN_CELL_PEOPLE,
): boolean[] {
  const mask = cells.map((c) => c.count < min);
  let groupSize = 0;
  let groupPeople = 0;
  cells.forEach((c, i) => {
    if (mask[i]) {
      groupSize++;
      groupPeople += c.count;
    }
  });
  if (groupSize === 0) return mask;
  const rest = cells
    .map((c, i) => ({ count: c.count, i }))
    .filter(({ i }) => !mask[i])
    .sort((a, b) => a.count - b.count || a.i - b.i);
  for (const cell of rest) {
    if (groupSize >= 2 && groupPeople >= min) break;
    mask[cell.i] = true;
    groupSize++;
    groupPeople += cell.count;
  }
  return mask;
}

/**
 * A manifest breakdown (`{ "IR-23": { count, total } }`) with small cells suppressed, for a
 * batch whose total is public.
 */
export function suppressBreakdown(
  breakdown: Readonly<Record<string, Breakdown>>,
  min: number = MIN_CELL_PEOPLE,
): Record<string, Breakdown | SuppressedCell> {
  const keys = Object.keys(breakdown).sort();
  const cells = keys.map((k) => breakdown[k]!);
  const mask = suppressionMask(cells, min);
  const out: Record<string, Breakdown | SuppressedCell> = {};
  keys.forEach((k, i) => {
    const cell = cells[i]!;
    out[k] = mask[i] ? { suppressed: true } : { count: cell.count, total: cell.total };
  });
  return out;
}

export type PublicPeriodStat =
  PeriodStat | { period: string; kind: PeriodStat["kind"]; suppressed: true };
export type PublicProvinceStat =
  ProvinceStat | { period: string; kind: ProvinceStat["kind"]; province: string; suppressed: true };

/**
 * The public statistics: a (period, kind) row covering fewer than `min` people is suppressed with
 * all its provinces; within a published row, provinces are suppressed by `suppressionMask`, so
 * that the row total minus the published provinces never isolates a small cell.
 */
export function suppressStats(
  stats: { periods: readonly PeriodStat[]; provinces: readonly ProvinceStat[] },
  min: number = MIN_CELL_PEOPLE,
): { periods: PublicPeriodStat[]; provinces: PublicProvinceStat[] } {
  const rowKey = (s: { period: string; kind: string }) => `${s.period}|${s.kind}`;
  const smallRows = new Set<string>();
  const periods: PublicPeriodStat[] = stats.periods.map((p) => {
    const people = p.people ?? p.recordCount;
    if (people < min) {
      smallRows.add(rowKey(p));
      return { period: p.period, kind: p.kind, suppressed: true };
    }
    return { ...p };
  });
  const rows = new Map<string, ProvinceStat[]>();
  for (const cell of stats.provinces) {
    const list = rows.get(rowKey(cell)) ?? [];
    list.push(cell);
    rows.set(rowKey(cell), list);
  }
  const provinces: PublicProvinceStat[] = [];
  for (const [key, cells] of rows) {
    const mask = smallRows.has(key) ? cells.map(() => true) : suppressionMask(cells, min);
    cells.forEach((c, i) => {
      provinces.push(
        mask[i]
          ? { period: c.period, kind: c.kind, province: c.province, suppressed: true }
          : { ...c },
      );
    });
  }
  return { periods, provinces };
}

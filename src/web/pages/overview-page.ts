/**
 * Overview: premiums collected and pensions paid per month (charts with a text description and a
 * data table), the on-time pension rate and corrections per 10,000 records, over current batches.
 */
import { getStats, type Kind, type PeriodStat } from "../api-client.ts";
import { barChart } from "../bar-chart.ts";
import { h, uid } from "../dom.ts";
import {
  formatCompact,
  formatDecimal,
  formatInteger,
  formatPercent,
  formatPeriod,
  parseDecimal,
} from "../format.ts";
import { t } from "../i18n.ts";
import { dataTable, loadError, pageHeading, suppressedCell } from "../ui.ts";
import type { PageContext, PageResult } from "./page.ts";

/** Per-month figures of one kind, in period order; suppressed months have `total: null`. */
interface MonthRow {
  period: string;
  total: bigint | null;
  records: number | null;
  people: number | null;
  batches: number;
  corrections: number;
}

function monthRows(periods: readonly PeriodStat[], kind: Kind): MonthRow[] {
  return periods
    .filter((p) => p.kind === kind)
    .sort((a, b) => a.period.localeCompare(b.period))
    .map((p) => ({
      period: p.period,
      total:
        p.suppressed === true || p.total === undefined ? null : (parseDecimal(p.total) ?? null),
      records: p.suppressed === true ? null : (p.recordCount ?? null),
      people: p.suppressed === true ? null : (p.people ?? null),
      batches: p.batches,
      corrections: p.corrections,
    }));
}

function monthFigure(ctx: PageContext, title: string, rows: readonly MonthRow[]): HTMLElement {
  if (rows.length === 0) {
    return h("section", {}, h("h2", {}, title), h("p", {}, t("chartEmpty")));
  }
  let max: MonthRow | undefined;
  for (const row of rows) if (row.total !== null && (max?.total ?? -1n) < row.total) max = row;
  const first = rows[0];
  const last = rows[rows.length - 1];
  const desc = t("chartDesc", {
    count: formatInteger(rows.length, ctx.lang),
    first: first === undefined ? "" : formatPeriod(first.period, ctx.lang),
    last: last === undefined ? "" : formatPeriod(last.period, ctx.lang),
    max: max?.total == null ? "" : t("rialsUnit", { amount: formatInteger(max.total, ctx.lang) }),
    maxMonth: max === undefined ? "" : formatPeriod(max.period, ctx.lang),
  });
  const chart = barChart({
    title,
    desc,
    dir: ctx.dir,
    bars: rows.map((row) => ({
      label: formatPeriod(row.period, ctx.lang),
      value: row.total,
      valueText: row.total === null ? t("suppressed") : formatCompact(row.total, ctx.lang),
    })),
  });
  const headingId = uid("overview-h");
  return h(
    "section",
    { "aria-labelledby": headingId },
    h("h2", { id: headingId }, title),
    h("figure", {}, chart, h("figcaption", { class: "muted" }, desc)),
    h(
      "details",
      {},
      h("summary", {}, t("showTable")),
      dataTable(
        title,
        [
          { label: t("colMonth") },
          { label: t("colAmount"), numeric: true },
          { label: t("colRecords"), numeric: true },
          { label: t("colBatches"), numeric: true },
          { label: t("colCorrections"), numeric: true },
        ],
        rows.map((row) => [
          formatPeriod(row.period, ctx.lang),
          row.total === null ? suppressedCell() : formatInteger(row.total, ctx.lang),
          row.records === null ? suppressedCell() : formatInteger(row.records, ctx.lang),
          formatInteger(row.batches, ctx.lang),
          formatInteger(row.corrections, ctx.lang),
        ]),
      ),
    ),
  );
}

function card(label: string, value: string, note: string): HTMLElement {
  return h(
    "li",
    { class: "card" },
    h("span", { class: "card-label" }, label),
    h("span", { class: "card-value" }, value),
    h("span", { class: "card-note" }, note),
  );
}

export async function renderOverviewPage(ctx: PageContext): Promise<PageResult> {
  const title = t("overviewTitle");
  let stats;
  try {
    stats = await getStats();
  } catch {
    return { title, content: h("div", {}, pageHeading(title), loadError(ctx.rerender)) };
  }
  const premiums = monthRows(stats.periods, "premium");
  const pensions = monthRows(stats.periods, "pension");
  const sum = (rows: readonly MonthRow[]): bigint =>
    rows.reduce((acc, r) => acc + (r.total ?? 0n), 0n);

  let onTime = 0;
  let late = 0;
  for (const p of stats.periods) {
    if (p.kind !== "pension") continue;
    onTime += p.onTime ?? 0;
    late += p.late ?? 0;
  }
  let records = 0;
  let corrections = 0;
  for (const p of stats.periods) {
    records += p.recordCount ?? 0;
    corrections += p.corrections;
  }
  const perTenThousand = records === 0 ? 0 : (corrections * 10_000) / records;

  const cards = h(
    "ul",
    { class: "cards" },
    card(
      t("totalPremiums"),
      formatCompact(sum(premiums), ctx.lang),
      t("rialsUnit", { amount: formatInteger(sum(premiums), ctx.lang) }),
    ),
    card(
      t("totalPensions"),
      formatCompact(sum(pensions), ctx.lang),
      t("rialsUnit", { amount: formatInteger(sum(pensions), ctx.lang) }),
    ),
    card(
      t("onTimeTitle"),
      onTime + late === 0 ? "—" : formatPercent(onTime / (onTime + late), ctx.lang),
      onTime + late === 0
        ? t("onTimeNone")
        : t("onTimeNote", {
            onTime: formatInteger(onTime, ctx.lang),
            all: formatInteger(onTime + late, ctx.lang),
          }),
    ),
    card(
      t("correctionsTitle"),
      formatDecimal(perTenThousand, ctx.lang, 2),
      t("correctionsNote", {
        corrections: formatInteger(corrections, ctx.lang),
        records: formatInteger(records, ctx.lang),
      }),
    ),
  );
  return {
    title,
    content: h(
      "div",
      {},
      pageHeading(title),
      h("p", { class: "lead" }, t("overviewLead")),
      cards,
      monthFigure(ctx, t("premiumsChartTitle"), premiums),
      monthFigure(ctx, t("pensionsChartTitle"), pensions),
    ),
  };
}

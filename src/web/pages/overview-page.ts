/**
 * Overview: premiums collected and pensions paid per month (charts with a text description and a
 * data table), the on-time pension rate and corrections per 10,000 records, over current batches.
 */
import {
  getStats,
  listBatches,
  type BatchView,
  type Kind,
  type PeriodStat,
} from "../api-client.ts";
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
import { banner, dataTable, kindLabel, loadError, pageHeading, suppressedCell } from "../ui.ts";
import type { PageContext, PageResult } from "./page.ts";

/** Per-month figures of one kind, in period order; suppressed months have `total: null`. */
interface MonthRow {
  kind: Kind;
  period: string;
  total: bigint | null;
  records: number | null;
  people: number | null;
  /** null when the month is suppressed (fewer than 10 people): its counts are not published. */
  batches: number | null;
  corrections: number | null;
  /** Current batches of this month that an auditor disputes. */
  disputed: BatchView[];
}

function monthRows(
  periods: readonly PeriodStat[],
  kind: Kind,
  disputed: readonly BatchView[],
): MonthRow[] {
  return periods
    .filter((p) => p.kind === kind)
    .sort((a, b) => a.period.localeCompare(b.period))
    .map((p) => ({
      kind,
      period: p.period,
      total:
        p.suppressed === true || p.total === undefined ? null : (parseDecimal(p.total) ?? null),
      records: p.suppressed === true ? null : (p.recordCount ?? null),
      people: p.suppressed === true ? null : (p.people ?? null),
      batches: p.suppressed === true ? null : (p.batches ?? null),
      corrections: p.suppressed === true ? null : (p.corrections ?? null),
      disputed: disputed.filter((b) => b.kind === kind && b.period === p.period),
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
      marks: marks(row),
      flagged: row.disputed.length > 0,
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
          { label: t("colAudit") },
        ],
        rows.map((row) => [
          formatPeriod(row.period, ctx.lang),
          row.total === null ? suppressedCell() : formatInteger(row.total, ctx.lang),
          row.records === null ? suppressedCell() : formatInteger(row.records, ctx.lang),
          row.batches === null ? suppressedCell() : formatInteger(row.batches, ctx.lang),
          row.corrections === null ? suppressedCell() : formatInteger(row.corrections, ctx.lang),
          row.disputed.length === 0
            ? ""
            : row.disputed.map((b) =>
                h(
                  "a",
                  { href: `#/batches/${b.batchId}`, class: "badge status-disputed" },
                  t("markDisputed"),
                ),
              ),
        ]),
      ),
    ),
  );
}

/** Words shown beside a month wherever its figure appears (chart and table). */
function marks(row: MonthRow): string[] {
  const out: string[] = [];
  if (row.disputed.length > 0) out.push(t("markDisputed"));
  if ((row.corrections ?? 0) > 0) out.push(t("markCorrected"));
  return out;
}

function card(label: string, value: string, note: string, warning?: string): HTMLElement {
  return h(
    "li",
    { class: warning === undefined ? "card" : "card card-warn" },
    h("span", { class: "card-label" }, label),
    h("span", { class: "card-value" }, value),
    h("span", { class: "card-note" }, note),
    warning !== undefined && h("span", { class: "card-warning" }, warning),
  );
}

/** The months a note lists, each a link to its batch: "Shahrivar 1403 — Pensions, Batch 12". */
function monthLinks(ctx: PageContext, batches: readonly BatchView[]): Node[] {
  const comma = ctx.lang === "fa" ? "، " : ", ";
  const out: Node[] = [];
  batches.forEach((b, i) => {
    if (i > 0) out.push(document.createTextNode(comma));
    const id = t("batchTitle", { id: formatInteger(b.batchId, ctx.lang) });
    out.push(
      h(
        "a",
        { href: `#/batches/${b.batchId}` },
        `${formatPeriod(b.period, ctx.lang)} — ${kindLabel(b.kind)}${comma}${id}`,
      ),
    );
  });
  return out;
}

/** `text` with its one "\u0000" placeholder replaced by `nodes`. */
function splitAround(text: string, nodes: Node[]): (string | Node)[] {
  const [before = "", after = ""] = text.split("\u0000");
  return [before, ...nodes, after];
}

export async function renderOverviewPage(ctx: PageContext): Promise<PageResult> {
  const title = t("overviewTitle");
  let stats;
  let disputed: BatchView[];
  try {
    [stats, disputed] = await Promise.all([
      getStats(),
      listBatches({ status: "disputed", limit: 100 }).then((page) => page.items),
    ]);
  } catch {
    return { title, content: h("div", {}, pageHeading(title), loadError(ctx.rerender)) };
  }
  disputed.sort((a, b) => a.period.localeCompare(b.period) || a.batchId - b.batchId);
  const premiums = monthRows(stats.periods, "premium", disputed);
  const pensions = monthRows(stats.periods, "pension", disputed);
  const disputedSum = (kind: Kind): bigint =>
    disputed
      .filter((b) => b.kind === kind)
      .reduce((acc, b) => acc + (parseDecimal(b.total) ?? 0n), 0n);
  const disputedPart = (kind: Kind): string | undefined => {
    const part = disputedSum(kind);
    return part === 0n
      ? undefined
      : t(kind === "premium" ? "premiumsDisputedPart" : "pensionsDisputedPart", {
          amount: formatInteger(part, ctx.lang),
        });
  };
  const corrected = [...premiums, ...pensions]
    .filter((r) => (r.corrections ?? 0) > 0)
    .map((r) => `${formatPeriod(r.period, ctx.lang)} (${kindLabel(r.kind)})`);
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
    // A suppressed month publishes neither: it counts in neither side of the rate.
    records += p.recordCount ?? 0;
    corrections += p.corrections ?? 0;
  }
  const perTenThousand = records === 0 ? 0 : (corrections * 10_000) / records;

  const cards = h(
    "ul",
    { class: "cards" },
    card(
      t("totalPremiums"),
      formatCompact(sum(premiums), ctx.lang),
      t("rialsUnit", { amount: formatInteger(sum(premiums), ctx.lang) }),
      disputedPart("premium"),
    ),
    card(
      t("totalPensions"),
      formatCompact(sum(pensions), ctx.lang),
      t("rialsUnit", { amount: formatInteger(sum(pensions), ctx.lang) }),
      disputedPart("pension"),
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
      disputed.length > 0 &&
        banner(
          "warn",
          ...splitAround(
            t("overviewDisputedNote", { months: "\u0000" }),
            monthLinks(ctx, disputed),
          ),
        ),
      cards,
      corrected.length > 0 &&
        h(
          "p",
          { class: "muted" },
          t("overviewCorrectedNote", {
            months: corrected.join(ctx.lang === "fa" ? "، " : ", "),
          }),
        ),
      monthFigure(ctx, t("premiumsChartTitle"), premiums),
      monthFigure(ctx, t("pensionsChartTitle"), pensions),
    ),
  };
}

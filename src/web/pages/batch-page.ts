/**
 * One batch: summary, chain coordinates (transaction, block, root), totals by province as a
 * table and a chart (suppressed cells shown as "fewer than 10 people"), totals by pension
 * category, and the auditors' verdicts. The breakdown is shown only when the indexer found that
 * the published manifest matches the hash on the chain.
 */
import { ApiError, getBatch, getChainInfo, type BatchView, type Cell } from "../api-client.ts";
import { barChart } from "../bar-chart.ts";
import { disputeFindings } from "../findings-view.ts";
import { h, type Child } from "../dom.ts";
import {
  formatCompact,
  formatInteger,
  formatPeriod,
  formatTimestamp,
  parseDecimal,
  provinceName,
} from "../format.ts";
import { t } from "../i18n.ts";
import type { MessageKey } from "../messages.ts";
import {
  accountName,
  banner,
  dataTable,
  fieldList,
  hashText,
  kindLabel,
  loadError,
  pageHeading,
  reasonLabel,
  statusBadge,
  suppressedCell,
  technicalDetails,
  type AccountNames,
} from "../ui.ts";
import type { PageContext, PageResult } from "./page.ts";

/** Fewer people than this in a cell: not shown, whatever the server sent (defence in depth). */
const MIN_CELL = 10;

function visible(cell: Cell): { count: number; total: bigint } | undefined {
  if (cell.suppressed === true || cell.count === undefined || cell.total === undefined)
    return undefined;
  if (cell.count < MIN_CELL) return undefined;
  const total = parseDecimal(cell.total);
  return total === undefined ? undefined : { count: cell.count, total };
}

function batchLink(id: number | null, lang: PageContext["lang"]): Child {
  if (id === null || id === 0) return undefined;
  return h("a", { href: `#/batches/${id}` }, t("batchTitle", { id: formatInteger(id, lang) }));
}

function provinces(ctx: PageContext, byProvince: Record<string, Cell>): HTMLElement {
  const codes = Object.keys(byProvince).sort();
  const rows = codes.map((code) => ({
    code,
    cell: visible(byProvince[code] ?? { suppressed: true }),
  }));
  const shown = rows
    .filter((r) => r.cell !== undefined)
    .sort((a, b) => (b.cell!.total > a.cell!.total ? 1 : b.cell!.total < a.cell!.total ? -1 : 0));
  const top = shown[0];
  const chart = barChart({
    title: t("provincesChartTitle"),
    desc: t("provincesChartDesc", {
      count: formatInteger(rows.length, ctx.lang),
      max:
        top === undefined
          ? ""
          : t("rialsUnit", { amount: formatInteger(top.cell!.total, ctx.lang) }),
      maxName: top === undefined ? "" : provinceName(top.code, ctx.lang),
    }),
    dir: ctx.dir,
    bars: [...shown, ...rows.filter((r) => r.cell === undefined)].map((r) => ({
      label: provinceName(r.code, ctx.lang),
      value: r.cell?.total ?? null,
      valueText: r.cell === undefined ? t("suppressed") : formatCompact(r.cell.total, ctx.lang),
    })),
  });
  return h(
    "section",
    { "aria-labelledby": "provinces-h" },
    h("h2", { id: "provinces-h" }, t("provincesTitle")),
    h("p", { class: "muted" }, t("suppressedNote")),
    dataTable(
      t("provincesTitle"),
      [
        { label: t("colProvince") },
        { label: t("colPeople"), numeric: true },
        { label: t("colAmount"), numeric: true },
      ],
      rows.map((r) => [
        provinceName(r.code, ctx.lang),
        r.cell === undefined ? suppressedCell() : formatInteger(r.cell.count, ctx.lang),
        r.cell === undefined ? suppressedCell() : formatInteger(r.cell.total, ctx.lang),
      ]),
      { hideCaption: true },
    ),
    h("figure", {}, h("figcaption", {}, t("provincesChartTitle")), chart),
  );
}

const CATEGORY_KEYS: Record<string, MessageKey> = {
  retirement: "categoryRetirement",
  disability: "categoryDisability",
  survivors: "categorySurvivors",
};

function categories(ctx: PageContext, byCategory: Record<string, Cell>): HTMLElement {
  const keys = Object.keys(byCategory).sort();
  return h(
    "section",
    {},
    h("h2", {}, t("categoriesTitle")),
    dataTable(
      t("categoriesTitle"),
      [
        { label: t("colCategory") },
        { label: t("colPeople"), numeric: true },
        { label: t("colAmount"), numeric: true },
      ],
      keys.map((key) => {
        const cell = visible(byCategory[key] ?? { suppressed: true });
        const labelKey = CATEGORY_KEYS[key];
        return [
          labelKey === undefined ? key : t(labelKey),
          cell === undefined ? suppressedCell() : formatInteger(cell.count, ctx.lang),
          cell === undefined ? suppressedCell() : formatInteger(cell.total, ctx.lang),
        ];
      }),
      { hideCaption: true },
    ),
  );
}

function audits(ctx: PageContext, batch: BatchView, names: AccountNames): HTMLElement {
  return h(
    "section",
    {},
    h("h2", {}, t("auditTitle")),
    batch.attestations.length === 0
      ? h("p", {}, t("auditNone"))
      : [
          dataTable(
            t("auditTitle"),
            [{ label: t("colAuditor") }, { label: t("colVerdict") }],
            batch.attestations.map((a) => [
              accountName(a.auditor, names, ctx.lang),
              h(
                "span",
                { class: `badge status-${a.verdict === "confirmed" ? "attested" : "disputed"}` },
                t(a.verdict === "confirmed" ? "verdictConfirmed" : "verdictDisputed"),
              ),
            ]),
            { hideCaption: true },
          ),
          technicalDetails(
            dataTable(
              t("auditTitle"),
              [
                { label: t("colAuditor") },
                { label: t("colReport") },
                { label: t("fieldTx") },
                { label: t("fieldBlock"), numeric: true },
              ],
              batch.attestations.map((a) => [
                hashText(a.auditor),
                hashText(a.reportHash),
                hashText(a.txHash),
                formatInteger(a.blockNumber, ctx.lang),
              ]),
              { hideCaption: true, cards: true },
            ),
          ),
        ],
  );
}

export async function renderBatchPage(ctx: PageContext): Promise<PageResult> {
  const id = Number(ctx.params["id"]);
  const idText = formatInteger(id, ctx.lang);
  let batch: BatchView;
  try {
    batch = await getBatch(id);
  } catch (error) {
    const title = t("batchTitle", { id: idText });
    if (error instanceof ApiError && error.status === 404) {
      return {
        title,
        content: h(
          "div",
          {},
          pageHeading(title),
          h("p", {}, t("batchNotFound", { id: idText })),
          h("p", {}, h("a", { href: "#/batches" }, t("backToBatches"))),
        ),
      };
    }
    return { title, content: h("div", {}, pageHeading(title), loadError(ctx.rerender)) };
  }
  const title = t("batchTitle", { id: idText });
  // Without the names, accounts are shown as unnamed, with their addresses.
  const names: AccountNames = await getChainInfo().then(
    (info) => info.names ?? {},
    () => ({}),
  );
  const manifest = batch.manifest;
  const manifestKey: MessageKey =
    manifest.status === "verified"
      ? "manifestVerified"
      : manifest.status === "mismatch"
        ? "manifestMismatch"
        : "manifestMissing";
  const summary: [string, Child][] = [
    [t("fieldStatus"), statusBadge(batch.status)],
    [t("fieldRecords"), formatInteger(batch.recordCount, ctx.lang)],
    ...(batch.persons === undefined
      ? []
      : [[t("fieldPersons"), formatInteger(batch.persons, ctx.lang)] as [string, Child]]),
    [t("fieldTotal"), t("rialsUnit", { amount: formatInteger(batch.total, ctx.lang) })],
    [t("fieldAnchoredAt"), formatTimestamp(batch.anchoredAt, ctx.lang)],
  ];
  if (batch.supersedes !== null && batch.supersedes !== 0)
    summary.push([t("fieldSupersedes"), batchLink(batch.supersedes, ctx.lang)]);
  if (batch.supersededBy !== null && batch.supersededBy !== 0)
    summary.push([t("fieldSupersededBy"), batchLink(batch.supersededBy, ctx.lang)]);
  if (manifest.status === "verified" && manifest.reason !== undefined)
    summary.push([t("fieldReason"), reasonLabel(manifest.reason)]);
  if (
    manifest.status === "verified" &&
    manifest.onTime !== undefined &&
    manifest.late !== undefined
  ) {
    summary.push([
      t("onTimeTitle"),
      t("onTimeBatch", {
        onTime: formatInteger(manifest.onTime, ctx.lang),
        late: formatInteger(manifest.late, ctx.lang),
      }),
    ]);
  }
  summary.push([t("manifestStatus"), t(manifestKey)]);

  const chainFields: [string, Child][] = [
    [t("fieldScheme"), h("code", { dir: "ltr" }, batch.scheme ?? "shafaf-tree/1")],
    [t("fieldTx"), hashText(batch.txHash)],
    [t("fieldBlock"), formatInteger(batch.blockNumber, ctx.lang)],
    [t("fieldBlockHash"), hashText(batch.blockHash)],
    [t("fieldRoot"), hashText(batch.root)],
    [t("fieldManifestHash"), hashText(batch.manifestHash)],
    [t("fieldHeadAfter"), hashText(batch.headAfter)],
    [
      t("fieldAnchorer"),
      h(
        "span",
        {},
        h("span", { class: "block" }, accountName(batch.anchorer, names, ctx.lang)),
        hashText(batch.anchorer),
      ),
    ],
  ];
  if (batch.vrfKeyId !== undefined) chainFields.push([t("fieldVrfKey"), hashText(batch.vrfKeyId)]);
  if (batch.sealedBy !== undefined && batch.sealedBy.length > 0) {
    chainFields.push([
      t("fieldSealedBy"),
      h("ul", {}, ...batch.sealedBy.map((v) => h("li", {}, hashText(v)))),
    ]);
  }
  return {
    title,
    content: h(
      "div",
      {},
      pageHeading(title),
      h(
        "p",
        { class: "lead" },
        t("batchLead", {
          kind: kindLabel(batch.kind),
          period: formatPeriod(batch.period, ctx.lang),
        }),
      ),
      batch.status === "disputed" && banner("warn", t("batchDisputedBanner")),
      batch.supersededBy !== null &&
        batch.supersededBy !== 0 &&
        banner(
          "warn",
          t("batchSupersededBanner", { id: formatInteger(batch.supersededBy, ctx.lang) }),
          " ",
          batchLink(batch.supersededBy, ctx.lang),
        ),
      batch.supersedes !== null &&
        batch.supersedes !== 0 &&
        banner(
          "info",
          t("batchCorrectionBanner", {
            id: formatInteger(batch.supersedes, ctx.lang),
            reason:
              manifest.status === "verified" && manifest.reason !== undefined
                ? reasonLabel(manifest.reason)
                : "—",
          }),
          " ",
          batchLink(batch.supersedes, ctx.lang),
        ),
      h("h2", {}, t("summaryTitle")),
      fieldList(summary),
      await disputeFindings(batch, names, ctx.lang),
      manifest.status === "verified" &&
        manifest.byProvince !== undefined &&
        provinces(ctx, manifest.byProvince),
      manifest.status === "verified" &&
        manifest.byCategory !== undefined &&
        categories(ctx, manifest.byCategory),
      audits(ctx, batch, names),
      h("h2", {}, t("chainSectionTitle")),
      technicalDetails(fieldList(chainFields)),
      h("p", {}, h("a", { href: "#/batches" }, t("backToBatches"))),
    ),
  };
}

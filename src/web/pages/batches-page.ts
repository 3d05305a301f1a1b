/**
 * Batches: every anchored batch, newest first, with its status; filters by kind, status and
 * month range; cursor pagination. The filters live in the hash (`#/batches?kind=pension&from=1403-01`)
 * so a filtered list can be bookmarked; `pages` holds the cursors that led to the current page.
 */
import { listBatches, type BatchQuery, type BatchStatus, type Kind } from "../api-client.ts";
import { h, uid } from "../dom.ts";
import {
  formatInteger,
  formatPeriod,
  formatTimestamp,
  localDigits,
  parsePeriodInput,
} from "../format.ts";
import { t } from "../i18n.ts";
import type { MessageKey } from "../messages.ts";
import { dataTable, kindLabel, loadError, pageHeading, statusBadge } from "../ui.ts";
import type { PageContext, PageResult } from "./page.ts";

const PAGE_SIZE = 20;
const KINDS: readonly Kind[] = ["premium", "pension"];
const STATUSES: readonly [BatchStatus, MessageKey][] = [
  ["anchored", "statusAnchored"],
  ["attested", "statusAttested"],
  ["disputed", "statusDisputed"],
  ["superseded", "statusSuperseded"],
];

interface Filters {
  kind?: Kind;
  status?: BatchStatus;
  from?: string;
  to?: string;
}

function readFilters(query: URLSearchParams): Filters {
  const filters: Filters = {};
  const kind = query.get("kind");
  if (kind === "premium" || kind === "pension") filters.kind = kind;
  const status = query.get("status");
  if (STATUSES.some(([s]) => s === status)) filters.status = status as BatchStatus;
  const from = parsePeriodInput(query.get("from") ?? "");
  if (from !== undefined) filters.from = from;
  const to = parsePeriodInput(query.get("to") ?? "");
  if (to !== undefined) filters.to = to;
  return filters;
}

function hashFor(filters: Filters, pages: readonly string[]): string {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(filters))
    if (value !== undefined) q.set(key, value as string);
  if (pages.length > 0) q.set("pages", pages.map(encodeURIComponent).join(","));
  const qs = q.toString();
  return `#/batches${qs === "" ? "" : `?${qs}`}`;
}

function select(
  label: string,
  name: string,
  options: readonly [string, string][],
  value: string | undefined,
): HTMLElement {
  const id = uid(`f-${name}`);
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    h(
      "select",
      { id, name },
      h("option", { value: "" }, t("filterAny")),
      ...options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)),
    ),
  );
}

function periodField(
  label: string,
  name: string,
  value: string | undefined,
  lang: PageContext["lang"],
): HTMLElement {
  const id = uid(`f-${name}`);
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    h("input", {
      id,
      name,
      type: "text",
      inputmode: "numeric",
      autocomplete: "off",
      size: 10,
      value: value === undefined ? "" : localDigits(value, lang),
      "aria-describedby": `${hintId} ${errorId}`,
    }),
    h("span", { id: hintId, class: "hint" }, t("periodHint")),
    h("span", { id: errorId, class: "error-text", hidden: true }),
  );
}

function filterForm(ctx: PageContext, filters: Filters): HTMLFormElement {
  const form = h(
    "form",
    { class: "filters", novalidate: true },
    h(
      "fieldset",
      {},
      h("legend", {}, t("filterLegend")),
      select(
        t("filterKind"),
        "kind",
        KINDS.map((k) => [k, kindLabel(k)]),
        filters.kind,
      ),
      select(
        t("filterStatus"),
        "status",
        STATUSES.map(([s, key]) => [s, t(key)]),
        filters.status,
      ),
      periodField(t("filterFrom"), "from", filters.from, ctx.lang),
      periodField(t("filterTo"), "to", filters.to, ctx.lang),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "submit", class: "button" }, t("filterApply")),
        h("a", { href: "#/batches", class: "button button-secondary" }, t("filterReset")),
      ),
    ),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const next: Filters = {};
    const kind = data.get("kind");
    if (kind === "premium" || kind === "pension") next.kind = kind;
    const status = data.get("status");
    if (typeof status === "string" && status !== "") next.status = status as BatchStatus;
    let firstInvalid: HTMLInputElement | undefined;
    for (const name of ["from", "to"] as const) {
      const input = form.elements.namedItem(name) as HTMLInputElement;
      const error = form.querySelector<HTMLElement>(`#${input.id}-error`);
      const text = input.value.trim();
      const period = text === "" ? undefined : parsePeriodInput(text);
      const bad = text !== "" && period === undefined;
      input.setAttribute("aria-invalid", String(bad));
      if (error !== null) {
        error.hidden = !bad;
        error.textContent = bad ? t("periodInvalid") : "";
      }
      if (bad) firstInvalid ??= input;
      if (period !== undefined) next[name] = period;
    }
    if (firstInvalid !== undefined) {
      firstInvalid.focus();
      return;
    }
    ctx.navigate(hashFor(next, []));
  });
  return form;
}

export async function renderBatchesPage(ctx: PageContext): Promise<PageResult> {
  const title = t("batchesTitle");
  const filters = readFilters(ctx.query);
  const pages = (ctx.query.get("pages") ?? "")
    .split(",")
    .filter((p) => p !== "")
    .map((p) => decodeURIComponent(p));
  const query: BatchQuery = { ...filters, limit: PAGE_SIZE, cursor: pages[pages.length - 1] };
  const head = [
    pageHeading(title),
    h("p", { class: "lead" }, t("batchesLead")),
    filterForm(ctx, filters),
  ];
  let answer;
  try {
    answer = await listBatches(query);
  } catch {
    return { title, content: h("div", {}, ...head, loadError(ctx.rerender)) };
  }
  const pageNo = pages.length + 1;
  const table =
    answer.items.length === 0
      ? h("p", { role: "status" }, t("batchesEmpty"))
      : dataTable(
          `${title} — ${t("pageN", { n: formatInteger(pageNo, ctx.lang) })}`,
          [
            { label: t("colBatch") },
            { label: t("colKind") },
            { label: t("colPeriod") },
            { label: t("colRecords"), numeric: true },
            { label: t("colTotal"), numeric: true },
            { label: t("colStatus") },
            { label: t("colAnchoredAt") },
          ],
          answer.items.map((b) => [
            h(
              "a",
              { href: `#/batches/${b.batchId}` },
              t("batchTitle", { id: formatInteger(b.batchId, ctx.lang) }),
            ),
            kindLabel(b.kind),
            formatPeriod(b.period, ctx.lang),
            formatInteger(b.recordCount, ctx.lang),
            formatInteger(b.total, ctx.lang),
            statusBadge(b.status),
            formatTimestamp(b.anchoredAt, ctx.lang),
          ]),
          { cards: true },
        );
  const next = answer.nextCursor ?? undefined;
  const pager = h(
    "nav",
    { class: "pager", "aria-label": t("pageN", { n: formatInteger(pageNo, ctx.lang) }) },
    pages.length > 0 &&
      h(
        "a",
        { class: "button button-secondary", href: hashFor(filters, pages.slice(0, -1)) },
        t("prevPage"),
      ),
    h("span", {}, t("pageN", { n: formatInteger(pageNo, ctx.lang) })),
    next !== undefined &&
      next !== "" &&
      h("a", { class: "button", href: hashFor(filters, [...pages, next]) }, t("nextPage")),
  );
  return {
    title,
    content: h("div", {}, ...head, h("p", { class: "muted" }, t("statusHelp")), table, pager),
  };
}

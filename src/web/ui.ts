/** Building blocks shared by the pages: tables, field lists, badges, loading and error states. */
import type { BatchStatus, Kind } from "./api-client.ts";
import { h, uid, type Child } from "./dom.ts";
import { t } from "./i18n.ts";
import type { MessageKey } from "./messages.ts";

export interface Column {
  label: string;
  numeric?: boolean;
}

/**
 * A data table with a caption, inside a wrapper that scrolls sideways on narrow screens (so the
 * page itself never does). The wrapper is a named, focusable region, so keyboard users can scroll it.
 */
export function dataTable(
  caption: string,
  columns: readonly Column[],
  rows: readonly Child[][],
  options: { hideCaption?: boolean } = {},
): HTMLElement {
  const captionId = uid("caption");
  return h(
    "div",
    { class: "table-wrap", role: "region", "aria-labelledby": captionId, tabindex: 0 },
    h(
      "table",
      {},
      h(
        "caption",
        { id: captionId, class: options.hideCaption === true ? "visually-hidden" : undefined },
        caption,
      ),
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          ...columns.map((c) =>
            h("th", { scope: "col", class: c.numeric === true ? "num" : undefined }, c.label),
          ),
        ),
      ),
      h(
        "tbody",
        {},
        ...rows.map((cells) =>
          h(
            "tr",
            {},
            ...cells.map((cell, i) =>
              i === 0
                ? h("th", { scope: "row" }, cell)
                : h("td", { class: columns[i]?.numeric === true ? "num" : undefined }, cell),
            ),
          ),
        ),
      ),
    ),
  );
}

/** A list of label/value pairs. */
export function fieldList(pairs: readonly [string, Child][]): HTMLElement {
  return h(
    "dl",
    { class: "fields" },
    ...pairs.flatMap(([label, value]) => [h("dt", {}, label), h("dd", {}, value)]),
  );
}

/** A hash or address: monospace, left-to-right, wraps anywhere. */
export function hashText(value: string): HTMLElement {
  return h("span", { class: "hash", dir: "ltr" }, value);
}

const STATUS_KEYS: Record<BatchStatus, MessageKey> = {
  anchored: "statusAnchored",
  attested: "statusAttested",
  disputed: "statusDisputed",
  superseded: "statusSuperseded",
};

/** A batch status in words (colour is never the only signal). */
export function statusBadge(status: BatchStatus): HTMLElement {
  return h("span", { class: `badge status-${status}` }, t(STATUS_KEYS[status]));
}

export function statusLabel(status: BatchStatus): string {
  return t(STATUS_KEYS[status]);
}

export function kindLabel(kind: Kind): string {
  return t(kind === "premium" ? "kindPremium" : "kindPension");
}

/** The "fewer than 10 people" marker for a suppressed cell. */
export function suppressedCell(): HTMLElement {
  return h("span", { class: "suppressed" }, t("suppressed"));
}

/** A page heading that receives focus after navigation. */
export function pageHeading(text: string): HTMLHeadingElement {
  return h("h1", { tabindex: -1 }, text);
}

export function loading(): HTMLElement {
  return h("p", { role: "status", class: "muted" }, t("loading"));
}

/** A failure to load, with a retry button. Shows no technical detail beyond the HTTP status. */
export function loadError(retry: () => void): HTMLElement {
  return h(
    "div",
    { role: "alert" },
    h("p", { class: "error-text" }, t("loadFailed")),
    h("button", { type: "button", class: "button", onclick: () => retry() }, t("retry")),
  );
}

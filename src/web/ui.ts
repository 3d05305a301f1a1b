/** Building blocks shared by the pages: tables, field lists, badges, loading and error states. */
import type { BatchStatus, Kind } from "./api-client.ts";
import { h, uid, type Child } from "./dom.ts";
import { shortAddress } from "./format.ts";
import { t } from "./i18n.ts";
import { MESSAGES, type MessageKey } from "./messages.ts";

export interface Column {
  label: string;
  numeric?: boolean;
}

/**
 * A data table with a caption, inside a wrapper that scrolls sideways on narrow screens (so the
 * page itself never does). The wrapper is a named, focusable region, so keyboard users can scroll it.
 * Tables of four columns or more say so on narrow screens ("scroll sideways"); with `cards`, a
 * narrow screen shows each row as a card of label/value lines instead (no scrolling at all).
 */
export function dataTable(
  caption: string,
  columns: readonly Column[],
  rows: readonly Child[][],
  options: { hideCaption?: boolean; cards?: boolean } = {},
): HTMLElement {
  const captionId = uid("caption");
  const cards = options.cards === true;
  const table = h(
    "div",
    {
      class: cards ? "table-wrap table-cards" : "table-wrap",
      role: "region",
      "aria-labelledby": captionId,
      tabindex: 0,
    },
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
                : h(
                    "td",
                    {
                      class: columns[i]?.numeric === true ? "num" : undefined,
                      "data-label": cards ? columns[i]?.label : undefined,
                    },
                    cell,
                  ),
            ),
          ),
        ),
      ),
    ),
  );
  if (cards || columns.length < 4) return table;
  return h(
    "div",
    {},
    h("p", { class: "scroll-hint", "aria-hidden": "true" }, t("scrollHint")),
    table,
  );
}

/** Cryptographic detail (hashes, blocks, accounts), folded away under "Technical details". */
export function technicalDetails(...children: Child[]): HTMLElement {
  return h("details", { class: "technical" }, h("summary", {}, t("technicalDetails")), ...children);
}

/** Governance's names of accounts (lower-case address → names), from `GET /chain`. */
export type AccountNames = Readonly<Record<string, { fa: string; en: string }>>;

/** An account by its governance name, or "unnamed account 0x7099…79c8"; the full address on hover. */
export function accountName(address: string, names: AccountNames, lang: "fa" | "en"): HTMLElement {
  const named = names[address.toLowerCase()];
  if (named !== undefined) return h("span", { class: "account", title: address }, named[lang]);
  return h(
    "span",
    { class: "account", title: address },
    t("unnamedAccount", { short: "" }),
    h("span", { class: "hash", dir: "ltr" }, shortAddress(address)),
  );
}

/** The same, as plain text (for headings). */
export function accountNameText(address: string, names: AccountNames, lang: "fa" | "en"): string {
  return (
    names[address.toLowerCase()]?.[lang] ?? t("unnamedAccount", { short: shortAddress(address) })
  );
}

/** A correction's reason code in words: `wage-correction` → "correction of insured wages". */
export function reasonLabel(code: string): string {
  const key = `reason_${code.replace(/[-.]/g, "_")}`;
  return key in MESSAGES.en ? t(key as MessageKey) : t("reason_other", { code });
}

/** A notice at the top of a page: `warn` (amber) or `info`. Words carry the meaning, not colour. */
export function banner(kind: "warn" | "info", ...children: Child[]): HTMLElement {
  return h("div", { class: `banner banner-${kind}`, role: "note" }, ...children);
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

/**
 * A place to choose or drop one JSON file (a receipt, a certificate): its label and hint, the
 * file input behind a button that speaks the page's language (the browser's own file button
 * speaks the browser's), and the page's error line. `onFile` gets the file chosen or dropped.
 *
 * @example
 * const { zone, input } = fileDropZone({ id, name: "file", label: t("fileLabel"), hint: t("fileHint"), error, onFile });
 */
export function fileDropZone(options: {
  id: string;
  name: string;
  label: string;
  hint: string;
  error: HTMLElement;
  onFile: (file: File) => void;
}): { zone: HTMLElement; input: HTMLInputElement } {
  const { id } = options;
  const input = h("input", {
    id,
    name: options.name,
    type: "file",
    accept: ".json,application/json",
    class: "file-input",
    "aria-describedby": `${id}-hint ${id}-error`,
  });
  input.addEventListener("change", () => {
    const file = input.files?.[0];
    if (file !== undefined) options.onFile(file);
  });
  const zone = h(
    "div",
    { class: "drop-zone" },
    h("label", { for: id }, h("strong", {}, options.label)),
    h("p", { id: `${id}-hint`, class: "hint" }, options.hint),
    input,
    h("label", { for: id, class: "button button-secondary file-button" }, t("fileChoose")),
    options.error,
  );
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    const file = event.dataTransfer?.files[0];
    if (file !== undefined) options.onFile(file);
  });
  return { zone, input };
}

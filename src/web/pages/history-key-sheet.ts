/**
 * «چاپ کلید سوابق» / "Print my history key": a printable sheet with the person's history key
 * (docs/spec/history-key-v1.md) as numbered groups of five characters and as a QR code, and
 * plain-words instructions (keep it secret; whoever holds it can see your records; how a relative
 * or a kiosk uses it). Shown in place of the page (print-sheet.ts): no route, nothing stored.
 */
import { hexToBytes } from "../../core/hex.ts";
import { formatHistoryKey } from "../../core/history-key.ts";
import { maskPersonId } from "../../core/person-id.ts";
import { h } from "../dom.ts";
import { localDigits } from "../format.ts";
import type { PersonKey } from "../history-check.ts";
import { t } from "../i18n.ts";
import { openPrintSheet } from "../print-sheet.ts";
import { qrCode } from "../qr.ts";
import type { PageContext } from "./page.ts";

/** Today as a Jalali date in the page's language. */
export function todayText(ctx: PageContext): string {
  return new Intl.DateTimeFormat(`${ctx.lang === "fa" ? "fa-IR" : "en-US"}-u-ca-persian`, {
    dateStyle: "long",
    timeZone: "Asia/Tehran",
  }).format(new Date());
}

/** The printable sheet of a history key. */
export function historyKeySheet(ctx: PageContext, key: PersonKey): HTMLElement {
  const text = formatHistoryKey({ personId: key.personId, proof: hexToBytes(key.proof) });
  const groups = text.split("-");
  const site = `${location.origin}${location.pathname}`;
  return h(
    "article",
    { class: "print-sheet history-key-sheet", "aria-labelledby": "key-sheet-title" },
    h("h1", { id: "key-sheet-title", tabindex: -1 }, t("keySheetTitle")),
    h("p", { class: "sheet-warning" }, h("strong", {}, t("keySheetSecret"))),
    h(
      "p",
      {},
      // U+2066 … U+2069 isolate the identifier left to right inside a right-to-left line.
      t("keySheetFor", { id: `\u2066${localDigits(maskPersonId(key.personId), ctx.lang)}\u2069` }),
      " · ",
      t("keySheetPrinted", { date: todayText(ctx) }),
    ),
    h(
      "div",
      { class: "sheet-body" },
      h(
        "figure",
        { class: "sheet-qr" },
        qrCode(text, { label: t("keySheetQrLabel") }),
        h("figcaption", {}, t("keySheetQrCaption")),
      ),
      h(
        "div",
        { class: "sheet-key" },
        h("h2", {}, t("keySheetTextHeading")),
        h(
          "ol",
          { class: "key-groups", dir: "ltr", lang: "en", "aria-label": t("keySheetTextHeading") },
          ...groups.map((g, i) =>
            h(
              "li",
              { "data-group": String(i + 1) },
              h(
                "span",
                { class: "key-group-no", "aria-hidden": "true" },
                localDigits(String(i + 1), ctx.lang),
              ),
              h("span", { class: "key-group" }, g),
            ),
          ),
        ),
      ),
    ),
    h("h2", {}, t("keySheetHowHeading")),
    h(
      "ol",
      { class: "sheet-steps" },
      h("li", {}, t("keySheetStep1", { site })),
      h("li", {}, t("keySheetStep2")),
      h("li", {}, t("keySheetStep3")),
      h("li", {}, t("keySheetStep4")),
    ),
    h("h2", {}, t("keySheetSafeHeading")),
    h(
      "ul",
      { class: "sheet-steps" },
      h("li", {}, t("keySheetSafe1")),
      h("li", {}, t("keySheetSafe2")),
      h("li", {}, t("keySheetSafe3")),
    ),
  );
}

/** The button on the history page that opens the sheet. */
export function printKeyButton(ctx: PageContext, key: PersonKey): HTMLButtonElement {
  const button: HTMLButtonElement = h(
    "button",
    {
      type: "button",
      class: "button button-secondary print-key",
      onclick: () => openPrintSheet(historyKeySheet(ctx, key), button),
    },
    t("keyPrint"),
  );
  return button;
}

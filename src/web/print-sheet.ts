/**
 * A printable sheet shown in place of the page (the history key, a certificate): a toolbar
 * («چاپ» / Print, «بازگشت» / Back) over the sheet; print CSS (`.print-sheet` in styles.css) hides
 * everything else and lays the sheet out on A4 or A5. The sheet lives in the page's memory only:
 * no route, so a secret on it (the history key) never reaches the URL or the history.
 */
import { h } from "./dom.ts";
import { t } from "./i18n.ts";

/**
 * Replaces the contents of `<main>` with `sheet` until Back is pressed, then puts the page back
 * as it was and returns focus to `returnFocus`.
 *
 * @example
 * openPrintSheet(historyKeySheet(ctx, key), button);
 */
export function openPrintSheet(sheet: HTMLElement, returnFocus?: HTMLElement): void {
  const main = document.getElementById("main");
  if (main === null) return;
  const kept = [...main.childNodes];
  const scroll = window.scrollY;
  const close = () => {
    // Navigating away (or a language switch) rendered a page over the sheet: nothing to put back.
    if (!main.contains(toolbar)) return;
    main.replaceChildren(...kept);
    window.scrollTo(0, scroll);
    (returnFocus ?? main).focus();
  };
  const toolbar = h(
    "div",
    { class: "print-toolbar row" },
    h("button", { type: "button", class: "button", onclick: () => window.print() }, t("printNow")),
    h(
      "button",
      { type: "button", class: "button button-secondary", onclick: close },
      t("printBack"),
    ),
    h("p", { class: "hint" }, t("printHint")),
  );
  main.replaceChildren(toolbar, sheet);
  sheet.querySelector<HTMLElement>("h1")?.focus();
}

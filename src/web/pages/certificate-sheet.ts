/**
 * The printable page of a certificate (a `shafaf-person-proof/1`: «این ماه ثبت نشده است» or the
 * certificate of what was recorded): in plain words whom it concerns (only as the person chooses:
 * in full, partly hidden, or not at all), the month, the batch, the date, where the batch is
 * anchored, how to check it (`shafaf verify FILE`, or the portal's «بررسی گواهی» page), and a QR
 * code that binds the paper to the file (docs/spec/certificate-qr-v1.md).
 */
import { certificateQrOf, formatCertificateQr, formatDigest } from "../../core/certificate-qr.ts";
import { maskPersonId } from "../../core/person-id.ts";
import type { PersonProof } from "../../core/person-proof.ts";
import { getChainInfo } from "../api-client.ts";
import { readChainBatchV2 } from "../chain-batch.ts";
import { h, uid } from "../dom.ts";
import { formatPeriod, formatTimestamp, localDigits } from "../format.ts";
import { t } from "../i18n.ts";
import { openPrintSheet } from "../print-sheet.ts";
import { qrCode } from "../qr.ts";
import type { PageContext } from "./page.ts";
import { todayText } from "./history-key-sheet.ts";

/** The certificate's file name, the same for the download and the printed page. */
export function certificateFileName(doc: PersonProof): string {
  const ctx = doc.context as { kind?: string; period?: string };
  return `shafaf-certificate-${ctx.kind ?? "batch"}-${ctx.period ?? doc.batchId}-batch-${doc.batchId}.json`;
}

type Who = "full" | "masked" | "none";

/**
 * The printable sheet. `recordLines` are the person's records in words (a range certificate),
 * as the history page shows them.
 */
export function certificateSheet(
  ctx: PageContext,
  doc: PersonProof,
  recordLines: readonly string[],
): HTMLElement {
  const qr = certificateQrOf(doc);
  const absent = qr.type === "absence";
  const month = formatPeriod(qr.period, ctx.lang);
  const kind = t(qr.kind === "premium" ? "certKindPremium" : "certKindPension");
  const batch = localDigits(String(qr.batchId), ctx.lang);
  const whoValue = h("dd", { class: "cert-who" });
  // An identifier reads left to right inside a right-to-left page (bdi keeps `1********8` whole).
  const setWho = (who: Who) => {
    whoValue.replaceChildren(
      who === "none"
        ? t("certWhoNone")
        : h(
            "bdi",
            { dir: "ltr" },
            localDigits(who === "full" ? doc.personId : maskPersonId(doc.personId), ctx.lang),
          ),
    );
  };
  setWho("masked");
  const name = uid("cert-who");
  const choice = h(
    "fieldset",
    { class: "no-print cert-who-choice" },
    h("legend", {}, t("certWhoLegend")),
    ...(["masked", "full", "none"] as const).map((who) => {
      const id = `${name}-${who}`;
      return h(
        "div",
        { class: "radio" },
        h("input", {
          type: "radio",
          id,
          name,
          value: who,
          checked: who === "masked",
          onchange: () => setWho(who),
        }),
        h(
          "label",
          { for: id },
          t(who === "full" ? "certWhoFull" : who === "masked" ? "certWhoMasked" : "certWhoNone"),
        ),
      );
    }),
  );
  const anchoredAt = h("dd", {}, t("loading"));
  void (async () => {
    try {
      const info = await getChainInfo();
      if (info.rpcUrl === undefined) throw new Error("no chain");
      const b = await readChainBatchV2(info.rpcUrl, info.contract, BigInt(qr.batchId));
      anchoredAt.textContent =
        b === undefined ? "—" : formatTimestamp(Number(b.anchoredAt), ctx.lang);
    } catch {
      anchoredAt.textContent = t("certAnchoredUnknown");
    }
  })();
  const site = `${location.origin}${location.pathname}#/certificate`;
  const file = certificateFileName(doc);
  return h(
    "article",
    { class: "print-sheet certificate-sheet", "aria-labelledby": "cert-sheet-title" },
    h(
      "h1",
      { id: "cert-sheet-title", tabindex: -1 },
      t(absent ? "certTitleAbsent" : "certTitleRecorded"),
    ),
    choice,
    h(
      "p",
      { class: "lead cert-statement" },
      absent
        ? t("certStatementAbsent", { kind, month, batch })
        : t("certStatementRecorded", { kind, month, batch }),
    ),
    recordLines.length === 0 ? null : h("ul", {}, ...recordLines.map((l) => h("li", {}, l))),
    h(
      "dl",
      { class: "fields cert-fields" },
      h("dt", {}, t("certWho")),
      whoValue,
      h("dt", {}, t("certMonth")),
      h("dd", {}, `${kind} · ${month}`),
      h("dt", {}, t("certBatch")),
      h("dd", {}, batch),
      h("dt", {}, t("certAnchoredAt")),
      anchoredAt,
      h("dt", {}, t("certPrinted")),
      h("dd", {}, todayText(ctx)),
      h("dt", {}, t("certWhere")),
      h(
        "dd",
        {},
        t("certWhereText", { chain: localDigits(String(doc.chainId), ctx.lang) }),
        " ",
        h("span", { dir: "ltr", class: "hash" }, doc.contract),
      ),
    ),
    h(
      "div",
      { class: "sheet-body" },
      h(
        "figure",
        { class: "sheet-qr" },
        qrCode(formatCertificateQr(qr), { label: t("certQrLabel") }),
        h("figcaption", {}, t("certQrCaption")),
      ),
      h(
        "div",
        {},
        h("h2", {}, t("certHowHeading")),
        h(
          "ol",
          { class: "sheet-steps" },
          h(
            "li",
            {},
            t("certHow1", { file }),
            " ",
            h("code", { dir: "ltr" }, `shafaf verify ${file}`),
          ),
          h("li", {}, t("certHow2", { site })),
          h("li", {}, t("certHow3")),
        ),
        h("p", {}, t("certDigest")),
        h("p", { class: "cert-digest", dir: "ltr", lang: "en" }, formatDigest(qr.digest)),
      ),
    ),
    h("p", { class: "muted" }, t("certReveals")),
  );
}

/** The button beside a month's download that opens its printable page (`doc`, or a function giving it when pressed). */
export function printCertificateButton(
  ctx: PageContext,
  doc: PersonProof | (() => PersonProof),
  recordLines: readonly string[],
): HTMLButtonElement {
  const button: HTMLButtonElement = h(
    "button",
    {
      type: "button",
      class: "button button-secondary print-certificate",
      onclick: () =>
        openPrintSheet(
          certificateSheet(ctx, typeof doc === "function" ? doc() : doc, recordLines),
          button,
        ),
    },
    t("certPrint"),
  );
  return button;
}

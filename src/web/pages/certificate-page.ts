/**
 * «بررسی گواهی» / "Check a certificate" (`#/certificate`): anyone — an inspector, a court, a
 * union — drops or chooses a certificate file (a missing month, or what was recorded), optionally
 * with the text of the printout's QR code, and gets a plain verdict, checked in this browser
 * (certificate-check.ts). A file that is not a certificate is refused saying what it is.
 */
import type { RecordKind } from "../../core/record.ts";
import {
  checkCertificate,
  MAX_CERTIFICATE_BYTES,
  readPrintoutQr,
  type CertificateOutcome,
} from "../certificate-check.ts";
import { h, uid } from "../dom.ts";
import { formatPeriod, formatTimestamp, localDigits } from "../format.ts";
import { t } from "../i18n.ts";
import type { ShownCheck } from "../receipt-check.ts";
import { fileDropZone, pageHeading } from "../ui.ts";
import type { PageContext, PageResult } from "./page.ts";

function checkItem(c: ShownCheck): HTMLElement {
  const mark = c.ok === true ? "✓" : c.ok === false ? "✗" : "?";
  return h(
    "li",
    { class: c.ok === true ? "check-ok" : c.ok === false ? "check-bad" : "check-skip" },
    `${mark} ${c.text}`,
    c.ok === true || c.detail === "" ? null : h("span", { class: "muted" }, ` — ${c.detail}`),
  );
}

function verdictView(ctx: PageContext, outcome: CertificateOutcome): HTMLElement {
  if (outcome.status === "refused") throw new Error("refusals are shown at the file field");
  const doc = outcome.doc;
  const context = doc.context as { kind?: RecordKind; period?: string };
  const kind = t(context.kind === "pension" ? "certKindPension" : "certKindPremium");
  const month = formatPeriod(context.period ?? "", ctx.lang);
  const batch = localDigits(String(doc.batchId), ctx.lang);
  const id = localDigits(String(doc.personId), ctx.lang);
  const parts: (HTMLElement | null)[] = [];
  if (outcome.status === "verified") {
    parts.push(
      h("h2", { tabindex: -1, class: "check-ok" }, t("certCheckVerified")),
      h(
        "p",
        { class: "lead cert-verdict" },
        outcome.type === "absence"
          ? t("certCheckAbsent", { id, kind, month, batch })
          : t("certCheckRecorded", {
              id,
              kind,
              month,
              batch,
              count: localDigits(String(doc.records.length), ctx.lang),
            }),
      ),
    );
    if (outcome.anchoredAt !== undefined)
      parts.push(
        h("p", {}, t("certCheckAnchored", { date: formatTimestamp(outcome.anchoredAt, ctx.lang) })),
      );
  } else if (outcome.status === "failed") {
    parts.push(
      h("h2", { tabindex: -1, class: "check-bad" }, t("certCheckFailed")),
      h("p", { class: "lead cert-verdict" }, t("certCheckFailedWhy")),
      h(
        "ul",
        { class: "checks cert-failed" },
        ...outcome.checks.filter((c) => c.ok === false).map(checkItem),
      ),
    );
  } else {
    parts.push(
      h("h2", { tabindex: -1, class: "check-skip" }, t("certCheckInconclusive")),
      h("ul", { class: "checks" }, ...outcome.checks.filter((c) => c.ok !== true).map(checkItem)),
    );
  }
  if (outcome.printout !== undefined)
    parts.push(
      h(
        "p",
        {
          class: `cert-printout ${outcome.printout === "match" ? "check-ok" : "check-bad"}`,
          "data-printout": outcome.printout,
        },
        h(
          "strong",
          {},
          t(outcome.printout === "match" ? "certPrintoutMatch" : "certPrintoutMismatch"),
        ),
      ),
    );
  if (outcome.digest !== "")
    parts.push(
      h(
        "p",
        { class: "muted" },
        t("certFileCode"),
        " ",
        h("span", { dir: "ltr", lang: "en", class: "cert-digest" }, outcome.digest),
      ),
    );
  parts.push(
    h(
      "details",
      { class: "technical checks-details" },
      h("summary", {}, t("checksTitle")),
      h("ol", { class: "checks" }, ...outcome.checks.map(checkItem)),
    ),
  );
  return h(
    "section",
    { class: `cert-result cert-${outcome.status}`, "data-status": outcome.status },
    ...parts,
  );
}

const REFUSAL_KEY = {
  "too-large": "certRefusedLarge",
  "not-json": "certRefusedNotJson",
  receipt: "certRefusedReceipt",
  "not-certificate": "certRefusedNotCertificate",
} as const;

export function renderCertificatePage(ctx: PageContext): Promise<PageResult> {
  const title = t("certCheckTitle");
  const fileId = uid("cert-file");
  const qrId = uid("cert-qr");
  const result = h("div", { id: "certificate-result", "aria-live": "polite" });
  const fileError = h("p", {
    id: `${fileId}-error`,
    class: "error-text",
    role: "alert",
    hidden: true,
  });
  const qrError = h("p", { id: `${qrId}-error`, class: "error-text", role: "alert", hidden: true });
  const { zone: drop, input: fileInput } = fileDropZone({
    id: fileId,
    name: "certificate",
    label: t("certFileLabel"),
    hint: t("certFileHint"),
    error: fileError,
    onFile: (file) => void run(file),
  });
  const qrInput = h("textarea", {
    id: qrId,
    name: "printoutQr",
    rows: 2,
    dir: "ltr",
    lang: "en",
    spellcheck: false,
    autocomplete: "off",
    "aria-describedby": `${qrId}-hint ${qrId}-error`,
  });

  let running = 0;
  const run = async (file: File): Promise<void> => {
    const mine = ++running;
    fileError.hidden = true;
    qrError.hidden = true;
    fileInput.removeAttribute("aria-invalid");
    qrInput.removeAttribute("aria-invalid");
    const printout = readPrintoutQr(qrInput.value);
    if (printout instanceof Error) {
      qrError.textContent = t("certQrBad");
      qrError.hidden = false;
      qrInput.setAttribute("aria-invalid", "true");
      return;
    }
    result.replaceChildren(h("p", { role: "status" }, t("certChecking")));
    const outcome =
      file.size > MAX_CERTIFICATE_BYTES
        ? ({ status: "refused", why: "too-large" } as const)
        : await checkCertificate(await file.text(), printout);
    if (mine !== running || !ctx.isCurrent()) return;
    if (outcome.status === "refused") {
      result.replaceChildren();
      fileError.textContent = t(REFUSAL_KEY[outcome.why]);
      fileError.hidden = false;
      fileInput.setAttribute("aria-invalid", "true");
      return;
    }
    result.replaceChildren(verdictView(ctx, outcome));
    result.querySelector<HTMLElement>("h2")?.focus();
  };

  const qrField = h(
    "div",
    { class: "code-form" },
    h("label", { for: qrId, class: "field-label" }, h("strong", {}, t("certQrFieldLabel"))),
    h("p", { id: `${qrId}-hint`, class: "hint" }, t("certQrFieldHint")),
    qrInput,
    qrError,
  );

  return Promise.resolve({
    title,
    content: h(
      "div",
      {},
      pageHeading(title),
      h("p", { class: "lead" }, t("certCheckLead")),
      h("div", { class: "receipt-box" }, qrField, drop),
      result,
      h("p", { class: "muted" }, t("certCheckTrust")),
    ),
  });
}

/**
 * "Check my receipt": the viewer types their receipt code or chooses / drops their receipt file.
 * The browser fetches the receipt (code) or reads the file locally (never uploaded), verifies it
 * with core's `verifyReceipt` against the batch read straight from the chain's JSON-RPC, and shows
 * every check in plain words. The receipt's opening (the viewer's own record) is shown only here.
 */
import { RECORD_KINDS } from "../../core/kinds/record-kinds.ts";
import { parseReceiptCode } from "../../core/receipt-code.ts";
import { ApiError, getBatch, getChainInfo, getReceipt, isStaticMirror } from "../api-client.ts";
import { h, uid, type Child } from "../dom.ts";
import {
  formatInteger,
  formatJalaliDate,
  formatPeriod,
  formatTimestamp,
  localDigits,
  parseDecimal,
  provinceName,
} from "../format.ts";
import { t } from "../i18n.ts";
import { MESSAGES, type MessageKey } from "../messages.ts";
import { disputeFindings } from "../findings-view.ts";
import { checkReceipt, type ReceiptOutcome, type ShownCheck } from "../receipt-check.ts";
import { fieldList, fileDropZone, hashText, pageHeading, reasonLabel } from "../ui.ts";
import type { PageContext, PageResult } from "./page.ts";

/** A receipt is a few kilobytes; anything far larger is not one. */
const MAX_FILE_BYTES = 1_000_000;

/** Every kind's amount fields (its rules in src/core/kinds), shown as Rials. */
const AMOUNT_FIELDS = new Set<string>(
  Object.values(RECORD_KINDS).flatMap((rules) => rules.amountFields),
);
const DATE_FIELDS = new Set(["paidOn", "dueOn"]);

function recordValue(ctx: PageContext, key: string, value: unknown): Child {
  const text =
    typeof value === "string" || typeof value === "number" || typeof value === "bigint"
      ? String(value)
      : JSON.stringify(value);
  if (AMOUNT_FIELDS.has(key) && parseDecimal(text) !== undefined)
    return t("rialsUnit", { amount: formatInteger(text, ctx.lang) });
  if (DATE_FIELDS.has(key)) return formatJalaliDate(text, ctx.lang);
  if (key === "period") return formatPeriod(text, ctx.lang);
  if (key === "province") return provinceName(text, ctx.lang);
  if (key === "kind")
    return t(
      text === "premium" ? "kindPremium" : text === "pension" ? "kindPension" : "check_other",
      { name: text },
    );
  if (key === "category") {
    const k = (
      {
        retirement: "categoryRetirement",
        disability: "categoryDisability",
        survivors: "categorySurvivors",
      } as Record<string, MessageKey>
    )[text];
    return k === undefined ? text : t(k);
  }
  if (key === "days") return localDigits(text, ctx.lang);
  if (key === "reason") return reasonLabel(text);
  if (/^\d+$/.test(text)) return localDigits(text, ctx.lang); // national ID, file and workshop numbers
  return h("span", { dir: "ltr" }, text);
}

function recordSection(ctx: PageContext, record: Record<string, unknown>): HTMLElement {
  const pairs: [string, Child][] = Object.entries(record)
    .filter(([, v]) => v !== undefined && v !== null && v !== "")
    .map(([key, value]) => {
      // A foreign national's identifier (person-id-v1) is shown under its own name, unprefixed.
      if (key === "nationalId" && typeof value === "string") {
        const foreign = /^foreign:([0-9]{12})$/.exec(value);
        if (foreign !== null)
          return [t("recordField_foreignCode"), localDigits(foreign[1]!, ctx.lang)];
        const insured = /^insured:([0-9]{8,10}):([A-Z]{3})$/.exec(value);
        if (insured !== null)
          return [
            t("recordField_insuredForeigner"),
            h("span", { dir: "ltr" }, `${localDigits(insured[1]!, ctx.lang)} · ${insured[2]!}`),
          ];
      }
      const labelKey = `recordField_${key}`;
      const label = labelKey in MESSAGES.en ? t(labelKey as MessageKey) : key;
      return [label, recordValue(ctx, key, value)];
    });
  return h(
    "section",
    { class: "my-record", "aria-labelledby": "my-record-h" },
    h("h2", { id: "my-record-h" }, t("yourRecordTitle")),
    h("p", { class: "muted" }, t("yourRecordNote")),
    fieldList(pairs),
  );
}

function checkItem(check: ShownCheck): HTMLElement {
  const mark =
    check.ok === true ? "checkPassed" : check.ok === false ? "checkFailed" : "checkSkipped";
  const markClass =
    check.ok === true ? "check-ok" : check.ok === false ? "check-bad" : "check-skip";
  const symbol = check.ok === true ? "✓" : check.ok === false ? "✗" : "–";
  return h(
    "li",
    { "data-check": check.name, "data-ok": String(check.ok) },
    h(
      "span",
      { class: `check-mark ${markClass}` },
      h("span", { "aria-hidden": "true" }, `${symbol} `),
      t(mark),
    ),
    h(
      "span",
      {},
      check.text,
      check.ok !== true &&
        check.detail !== "" &&
        h(
          "span",
          {
            class: "check-detail",
            lang: check.translated === true ? undefined : "en",
            dir: "auto",
          },
          check.detail,
        ),
      check.ok === false &&
        check.expected !== undefined &&
        h("span", { class: "check-detail" }, `${t("expected")}: `, hashText(check.expected)),
      check.ok === false &&
        check.computed !== undefined &&
        h("span", { class: "check-detail" }, `${t("computed")}: `, hashText(check.computed)),
    ),
  );
}

/** What the reader is told first: the receipt's verdict together with the batch's standing. */
type Verdict =
  "failed" | "inconclusive" | "superseded" | "disputed" | "attested" | "unaudited" | "verified";

function verdictOf(outcome: ReceiptOutcome): Verdict {
  if (outcome.status === "failed") return "failed";
  // A corrected batch: every check passed but "is it current" — the record WAS anchored.
  if (
    outcome.supersededBy !== undefined &&
    outcome.checks.every((c) => c.ok === true || c.name === "current")
  )
    return "superseded";
  if (outcome.status !== "verified") return "inconclusive";
  if (outcome.auditors === undefined) return "verified";
  if (outcome.auditors.disputes > 0) return "disputed";
  return outcome.auditors.confirmations > 0 ? "attested" : "unaudited";
}

const HEADINGS: Record<Verdict, MessageKey> = {
  failed: "resultFailed",
  inconclusive: "resultInconclusive",
  superseded: "resultSuperseded",
  disputed: "resultDisputed",
  attested: "resultAttested",
  unaudited: "resultUnaudited",
  verified: "resultVerified",
};
const BODIES: Record<Verdict, MessageKey> = {
  failed: "resultFailedBody",
  inconclusive: "resultInconclusiveBody",
  superseded: "resultSupersededBody",
  disputed: "resultDisputedBody",
  attested: "resultAttestedBody",
  unaudited: "resultVerifiedBody",
  verified: "resultVerifiedBody",
};
/** The colour family of the result box; the heading's words carry the meaning. */
const TONE: Record<Verdict, "verified" | "failed" | "inconclusive"> = {
  failed: "failed",
  inconclusive: "inconclusive",
  superseded: "inconclusive",
  disputed: "inconclusive",
  attested: "verified",
  unaudited: "verified",
  verified: "verified",
};

/** For a disputed batch: what the auditor found (read from this site, for display only). */
async function findingsFor(ctx: PageContext, batchId: number): Promise<HTMLElement | undefined> {
  try {
    const [batch, info] = await Promise.all([
      getBatch(batchId),
      getChainInfo().catch(() => undefined),
    ]);
    return await disputeFindings(batch, info?.names ?? {}, ctx.lang, "h3");
  } catch {
    return h("p", { class: "error-text" }, t("loadFailed"));
  }
}

/** "Verified — cosigned by a, b, c (3 of 4 required), checkpoint of <date>", in the page's language. */
function witnessedLine(ctx: PageContext, w: NonNullable<ReceiptOutcome["witnessed"]>): HTMLElement {
  return h(
    "p",
    { class: "witnessed", "data-cosigners": w.cosigners.map((c) => c.name).join(" ") },
    t("witnessedBy", {
      names: w.cosigners.map((c) => c.name).join(ctx.lang === "fa" ? "، " : ", "),
      required: formatInteger(w.quorum.required, ctx.lang),
      of: formatInteger(w.quorum.of, ctx.lang),
      date: w.checkpointTime === undefined ? "—" : formatTimestamp(w.checkpointTime, ctx.lang),
    }),
  );
}

async function outcomeView(ctx: PageContext, outcome: ReceiptOutcome): Promise<HTMLElement> {
  const verdict = verdictOf(outcome);
  const headingId = uid("result-h");
  const batch = outcome.batchId === undefined ? "" : formatInteger(outcome.batchId, ctx.lang);
  const correction = outcome.supersededBy;
  const findings =
    verdict === "disputed" && outcome.batchId !== undefined
      ? await findingsFor(ctx, outcome.batchId)
      : undefined;
  return h(
    "div",
    {},
    h(
      "section",
      {
        class: `result result-${TONE[verdict]}`,
        "aria-labelledby": headingId,
        "data-status": outcome.status,
        "data-verdict": verdict,
      },
      h("h2", { id: headingId, tabindex: -1 }, t(HEADINGS[verdict])),
      h(
        "p",
        {},
        t(
          outcome.witnessed !== undefined && verdict === "verified"
            ? "resultWitnessedBody"
            : BODIES[verdict],
          {
            batch,
            correction: correction === undefined ? "" : formatInteger(correction, ctx.lang),
            confirmations: formatInteger(outcome.auditors?.confirmations ?? 0, ctx.lang),
          },
        ),
      ),
      outcome.witnessed !== undefined && witnessedLine(ctx, outcome.witnessed),
      outcome.witnessed !== undefined &&
        outcome.chainRead === false &&
        h("p", { class: "muted" }, t("witnessedNoChain")),
      verdict === "superseded" &&
        correction !== undefined &&
        h(
          "p",
          {},
          h(
            "a",
            { href: `#/batches/${correction}`, class: "button" },
            t("resultSupersededLink", { id: formatInteger(correction, ctx.lang) }),
          ),
        ),
      findings,
      outcome.auditors !== undefined &&
        h(
          "p",
          { class: "auditors" },
          outcome.auditors.confirmations + outcome.auditors.disputes === 0
            ? t("auditorsNone")
            : t("auditorsOnChain", {
                confirmations: formatInteger(outcome.auditors.confirmations, ctx.lang),
                disputes: formatInteger(outcome.auditors.disputes, ctx.lang),
              }),
        ),
      outcome.batchId !== undefined &&
        h(
          "p",
          {},
          h(
            "a",
            { href: `#/batches/${outcome.batchId}` },
            t("batchTitle", { id: formatInteger(outcome.batchId, ctx.lang) }),
          ),
        ),
    ),
    // Every check, folded away unless one of them is the reason for the verdict.
    h(
      "details",
      {
        class: "technical checks-details",
        open: outcome.checks.some((c) => c.ok !== true && c.name !== "current"),
      },
      h("summary", {}, h("h2", { class: "summary-heading" }, t("checksTitle"))),
      h("ol", { class: "checks" }, ...outcome.checks.map(checkItem)),
    ),
    outcome.record !== undefined && recordSection(ctx, outcome.record),
  );
}

export function renderReceiptPage(ctx: PageContext): Promise<PageResult> {
  const title = t("receiptTitle");
  const codeId = uid("code");
  const fileId = uid("file");
  const result = h("div", { id: "receipt-result", "aria-live": "polite" });
  const codeError = h("p", { id: `${codeId}-error`, class: "error-text", hidden: true });
  const fileError = h("p", { id: `${fileId}-error`, class: "error-text", hidden: true });
  const codeInput = h("input", {
    id: codeId,
    name: "code",
    type: "text",
    autocomplete: "off",
    autocapitalize: "characters",
    spellcheck: "false",
    dir: "ltr",
    size: 34,
    maxlength: 64,
    "aria-describedby": `${codeId}-hint ${codeId}-error`,
  });
  const { zone: drop, input: fileInput } = fileDropZone({
    id: fileId,
    name: "file",
    label: t("fileLabel"),
    hint: t("fileHint"),
    error: fileError,
    onFile: (file) => void run(() => loadFile(file), fileError, fileInput),
  });

  let running = 0;
  const showError = (el: HTMLElement, input: HTMLInputElement, text: string | undefined): void => {
    el.hidden = text === undefined;
    el.textContent = text ?? "";
    input.setAttribute("aria-invalid", String(text !== undefined));
  };
  const run = async (
    load: () => Promise<unknown>,
    errorEl: HTMLElement,
    input: HTMLInputElement,
  ): Promise<void> => {
    const mine = ++running;
    showError(codeError, codeInput, undefined);
    showError(fileError, fileInput, undefined);
    let receipt: unknown;
    try {
      receipt = await load();
    } catch (error) {
      if (mine !== running || !ctx.isCurrent()) return;
      result.replaceChildren();
      showError(errorEl, input, error instanceof Error ? error.message : String(error));
      input.focus();
      return;
    }
    result.replaceChildren(h("p", { role: "status" }, t("checking")));
    const outcome = await checkReceipt(receipt);
    if (mine !== running || !ctx.isCurrent()) return;
    const view = await outcomeView(ctx, outcome);
    if (mine !== running || !ctx.isCurrent()) return;
    result.replaceChildren(view);
    result.querySelector<HTMLElement>("h2")?.focus();
  };

  const loadCode = async (): Promise<unknown> => {
    const typed = codeInput.value.trim();
    if (typed === "") throw new Error(t("codeEmpty"));
    const parsed = parseReceiptCode(typed);
    if (!parsed.ok) {
      throw new Error(
        t(
          parsed.problem === "length"
            ? "codeLength"
            : parsed.problem === "character"
              ? "codeCharacter"
              : "codeCheckChar",
        ),
      );
    }
    try {
      return await getReceipt(parsed.code);
    } catch (error) {
      const notFound = error instanceof ApiError && (error.status === 404 || error.status === 400);
      const key = isStaticMirror() ? "codeOnMirror" : notFound ? "codeNotFound" : "loadFailed";
      throw new Error(t(key), { cause: error });
    }
  };
  const loadFile = async (file: File): Promise<unknown> => {
    if (file.size > MAX_FILE_BYTES) throw new Error(t("fileUnreadable"));
    try {
      return JSON.parse(await file.text()) as unknown;
    } catch {
      throw new Error(t("fileUnreadable"));
    }
  };

  const form = h(
    "form",
    { class: "code-form", novalidate: true },
    h("label", { for: codeId, class: "field-label" }, h("strong", {}, t("codeLabel"))),
    h("p", { id: `${codeId}-hint`, class: "hint" }, t("codeHint")),
    h(
      "div",
      { class: "row" },
      codeInput,
      h("button", { type: "submit", class: "button" }, t("codeCheck")),
    ),
    codeError,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void run(loadCode, codeError, codeInput);
  });

  return Promise.resolve({
    title,
    content: h(
      "div",
      {},
      pageHeading(title),
      h("p", { class: "lead" }, t("receiptLead")),
      h("div", { class: "receipt-box" }, form, h("p", { class: "or" }, t("or")), drop),
      result,
    ),
  });
}

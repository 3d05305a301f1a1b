/**
 * «سوابق بیمهٔ من» / "My insurance history": the person signs in (here: the demo sign-in of
 * `npm start`), and every current `shafaf-tree/2` batch of the ledger is checked for them in this
 * browser (`history-check.ts`): a timeline by Jalali month, recorded ✓, not recorded — proven ✗
 * (with a downloadable certificate), corrected, or could not be checked (why). The key is kept in
 * this page's memory only: never in the URL, never in storage.
 */
import type { ReceiptRecord } from "../../core/receipt.ts";
import type { RecordKind } from "../../core/record.ts";
import { h, uid, type Child } from "../dom.ts";
import { formatInteger, formatJalaliDate, formatPeriod, localDigits } from "../format.ts";
import { t } from "../i18n.ts";
import {
  checkHistory,
  type HistoryMonth,
  type HistoryOutcome,
  type PersonKey,
} from "../history-check.ts";
import { historyKeyEntry } from "../history-key-entry.ts";
import { pageHeading } from "../ui.ts";
import { printCertificateButton } from "./certificate-sheet.ts";
import { printKeyButton } from "./history-key-sheet.ts";
import type { PageContext, PageResult } from "./page.ts";

/** The signed-in person and their checked history, kept across re-renders (language switch). */
let session: { key: PersonKey; outcome?: HistoryOutcome } | undefined;

const rials = (ctx: PageContext, v: unknown): string =>
  t("rialsUnit", { amount: formatInteger(String(v), ctx.lang) });

function recordLine(ctx: PageContext, r: ReceiptRecord): string {
  const x = r as unknown as Record<string, unknown>;
  if (r.kind === "premium") {
    const line = t("historyRecordPremium", {
      workshop: localDigits(String(x.workshopCode), ctx.lang),
      days: localDigits(String(x.days), ctx.lang),
      wage: rials(ctx, x.wageBase),
      premium: rials(ctx, x.total),
    });
    return typeof x.paidOn === "string"
      ? `${line} · ${t("historyPaidOn", { date: formatJalaliDate(x.paidOn, ctx.lang) })}`
      : line;
  }
  return t("historyRecordPension", {
    net: rials(ctx, x.net),
    due: formatJalaliDate(String(x.dueOn), ctx.lang),
    paid: formatJalaliDate(String(x.paidOn), ctx.lang),
  });
}

function download(month: HistoryMonth): void {
  const blob = new Blob([JSON.stringify(month.document, null, 2) + "\n"], {
    type: "application/json",
  });
  const url = URL.createObjectURL(blob);
  const a = h("a", {
    href: url,
    download: `shafaf-certificate-${month.kind}-${month.period}-batch-${month.batchId}.json`,
  });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function monthItem(ctx: PageContext, m: HistoryMonth): HTMLElement {
  const status =
    m.status === "recorded"
      ? h("strong", { class: "check-ok" }, t("historyRecorded"))
      : m.status === "absent"
        ? h("strong", { class: "check-bad" }, t("historyAbsent"))
        : h("strong", { class: "check-skip" }, t("historyUnchecked"));
  const details: Child[] = [];
  if (m.status === "recorded")
    details.push(
      h("ul", {}, ...m.records.map((r) => h("li", {}, recordLine(ctx, r)))),
      // What was recorded, provably all of it (a range proof): for a wrong wage or days, the
      // person takes this to the employer, an inspector or a court.
      h(
        "button",
        { type: "button", class: "button button-secondary", onclick: () => download(m) },
        t("historyRecordCertificate"),
      ),
      m.document &&
        printCertificateButton(
          ctx,
          m.document,
          m.records.map((r) => recordLine(ctx, r)),
        ),
    );
  if (m.status === "absent") {
    details.push(
      h("p", {}, t("historyAbsentAsOf", { batch: localDigits(String(m.batchId), ctx.lang) })),
      h(
        "button",
        { type: "button", class: "button", onclick: () => download(m) },
        t("historyCertificate"),
      ),
      m.document && printCertificateButton(ctx, m.document, []),
    );
  }
  if (m.status === "unchecked" && m.reason !== undefined)
    details.push(h("p", { class: "muted" }, t("historyUncheckedWhy", { why: m.reason })));
  if (m.corrects !== undefined)
    details.push(
      h(
        "p",
        { class: "muted" },
        t("historyCorrected", {
          batch: localDigits(String(m.batchId), ctx.lang),
          old: localDigits(String(m.corrects), ctx.lang),
        }),
      ),
    );
  return h(
    "li",
    {
      class: "history-month",
      "data-period": m.period,
      "data-kind": m.kind,
      "data-status": m.status,
      "data-batch": String(m.batchId),
    },
    h("h4", {}, formatPeriod(m.period, ctx.lang)),
    h("p", {}, status),
    ...details,
  );
}

function kindSection(ctx: PageContext, kind: RecordKind, months: HistoryMonth[]): HTMLElement {
  const id = uid(`history-${kind}`);
  const years = [...new Set(months.map((m) => m.period.slice(0, 4)))];
  return h(
    "section",
    { class: "history-kind", "aria-labelledby": id },
    h("h2", { id }, t(kind === "premium" ? "historyKindPremium" : "historyKindPension")),
    ...(kind === "pension" ? onTimeLine(ctx, months) : []),
    ...years.map((year) =>
      h(
        "section",
        {},
        h("h3", {}, localDigits(year, ctx.lang)),
        h(
          "ol",
          { class: "history-months" },
          ...months.filter((m) => m.period.startsWith(year)).map((m) => monthItem(ctx, m)),
        ),
      ),
    ),
  );
}

/**
 * A pensioner's own on-time rate: of the verified payments, those paid by their due date (the
 * same rule as the manifest's timeliness: paid on or before the due day). Nothing when none.
 */
function onTimeLine(ctx: PageContext, months: HistoryMonth[]): HTMLElement[] {
  const paid = months
    .filter((m) => m.status === "recorded")
    .flatMap((m) => m.records)
    .map((r) => r as unknown as { paidOn?: unknown; dueOn?: unknown })
    .filter((r) => typeof r.paidOn === "string" && typeof r.dueOn === "string");
  if (paid.length === 0) return [];
  const onTime = paid.filter((r) => (r.paidOn as string) <= (r.dueOn as string)).length;
  return [
    h(
      "p",
      { class: "history-on-time" },
      t("historyOnTime", {
        onTime: localDigits(String(onTime), ctx.lang),
        total: localDigits(String(paid.length), ctx.lang),
        percent: localDigits(String(Math.round((onTime / paid.length) * 100)), ctx.lang),
      }),
    ),
  ];
}

function outcomeView(ctx: PageContext, key: PersonKey, outcome: HistoryOutcome): HTMLElement {
  if (!outcome.ok) {
    const text =
      outcome.why === "no-chain"
        ? t("historyNoChain")
        : outcome.why === "vrf-invalid"
          ? t("historyVrfInvalid")
          : outcome.why === "vrf-unregistered"
            ? t("historyVrfUnregistered")
            : t("historyChainRead", { detail: outcome.detail });
    return h("div", { role: "alert" }, h("p", { class: "error-text" }, text));
  }
  const months = outcome.months;
  if (months.length === 0) return h("p", {}, t("historyNothing"));
  // A kind is shown when the person has a record of it; premiums otherwise (all proven absent).
  const kinds = (["premium", "pension"] as const).filter((k) =>
    months.some((m) => m.kind === k && m.status === "recorded"),
  );
  const shown = kinds.length === 0 ? (["premium"] as const) : kinds;
  const inShown = months.filter((m) => (shown as readonly string[]).includes(m.kind));
  const count = (s: HistoryMonth["status"]) =>
    localDigits(String(inShown.filter((m) => m.status === s).length), ctx.lang);
  return h(
    "div",
    { class: "history" },
    h("p", { class: "lead" }, t("historyFor", { id: localDigits(key.personId, ctx.lang) })),
    h(
      "p",
      { role: "status", class: "history-summary" },
      t("historySummary", {
        checked: localDigits(String(inShown.length), ctx.lang),
        recorded: count("recorded"),
        absent: count("absent"),
        unchecked: count("unchecked"),
      }),
    ),
    ...shown.map((k) =>
      kindSection(
        ctx,
        k,
        months.filter((m) => m.kind === k),
      ),
    ),
    h("p", { class: "muted" }, t("historyCertificateNote")),
    h("p", { class: "muted" }, t("historyTrust")),
  );
}

async function demoLogin(personId: string, code: string): Promise<PersonKey | string> {
  let res: Response;
  try {
    res = await fetch("/api/v1/demo/login", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ personId, code }),
    });
  } catch {
    return t("loadFailed");
  }
  if (res.ok) return (await res.json()) as PersonKey;
  if (res.status === 401) return t("historyBadCode");
  if (res.status === 400) return t("historyBadId");
  if (res.status === 404 || res.status === 405 || res.status === 503)
    return t("historyUnavailable");
  return t("loadFailed");
}

export function renderHistoryPage(ctx: PageContext): Promise<PageResult> {
  const title = t("historyTitle");
  const idId = uid("person-id");
  const codeId = uid("otp");
  const result = h("div", { id: "history-result", "aria-live": "polite" });
  const error = h("p", { id: `${idId}-error`, class: "error-text", role: "alert", hidden: true });
  const idInput = h("input", {
    id: idId,
    name: "personId",
    type: "text",
    inputmode: "numeric",
    autocomplete: "off",
    dir: "ltr",
    size: 14,
    maxlength: 40,
    required: true,
    "aria-describedby": `${idId}-error`,
  });
  const codeInput = h("input", {
    id: codeId,
    name: "code",
    type: "text",
    inputmode: "numeric",
    autocomplete: "one-time-code",
    dir: "ltr",
    size: 8,
    maxlength: 20,
    required: true,
    "aria-describedby": `${idId}-error`,
  });

  const show = async (key: PersonKey): Promise<void> => {
    const progress = h("p", { role: "status", class: "muted" }, t("loading"));
    result.replaceChildren(progress);
    const outcome = await checkHistory(key, (done, total) => {
      progress.textContent = t("historyChecking", {
        done: localDigits(String(done), ctx.lang),
        total: localDigits(String(total), ctx.lang),
      });
    });
    if (!ctx.isCurrent() || session?.key !== key) return;
    session.outcome = outcome;
    result.replaceChildren(signOut(), printKeyButton(ctx, key), outcomeView(ctx, key, outcome));
  };

  const signOut = () =>
    h(
      "button",
      {
        type: "button",
        class: "button button-secondary",
        onclick: () => {
          session = undefined;
          ctx.rerender();
        },
      },
      t("historyLogout"),
    );

  const form = h(
    "form",
    { class: "code-form history-login", novalidate: true },
    h("p", { class: "hint" }, t("historyDemoNote")),
    h("label", { for: idId, class: "field-label" }, h("strong", {}, t("historyIdLabel"))),
    idInput,
    h("label", { for: codeId, class: "field-label" }, h("strong", {}, t("historyCodeLabel"))),
    h(
      "div",
      { class: "row" },
      codeInput,
      h("button", { type: "submit", class: "button" }, t("historyLogin")),
    ),
    error,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    error.hidden = true;
    void (async () => {
      const got = await demoLogin(idInput.value, codeInput.value);
      if (!ctx.isCurrent()) return;
      if (typeof got === "string") {
        error.textContent = got;
        error.hidden = false;
        idInput.setAttribute("aria-invalid", "true");
        return;
      }
      codeInput.value = "";
      session = { key: got };
      form.hidden = true;
      keyForm.hidden = true;
      await show(got);
    })();
  });

  // The second way in: a printed history key, typed or scanned (history-key-entry.ts).
  const keyForm = historyKeyEntry(ctx, (key) => {
    session = { key };
    form.hidden = true;
    keyForm.hidden = true;
    void show(key);
  });

  if (session !== undefined) {
    form.hidden = true;
    keyForm.hidden = true;
    const { key, outcome } = session;
    if (outcome === undefined) void show(key);
    else
      result.replaceChildren(signOut(), printKeyButton(ctx, key), outcomeView(ctx, key, outcome));
  }

  return Promise.resolve({
    title,
    content: h(
      "div",
      {},
      pageHeading(title),
      h("p", { class: "lead" }, t("historyLead")),
      form,
      keyForm,
      result,
    ),
  });
}

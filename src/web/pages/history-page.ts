/**
 * «سوابق بیمهٔ من» / "My insurance history": the person signs in (here: the demo sign-in of
 * `npm start`), and the current `shafaf-tree/2` batches of the ledger are checked for them in
 * this browser (`history-check.ts`), one Jalali year at a time: a timeline of years, the latest
 * checked at once, each earlier one when the person opens it (a disclosure button, keyboard and
 * screen-reader operable), with the year's summary once checked; in a year, by month: recorded ✓,
 * not recorded — proven ✗ as of its batch and date (with a downloadable certificate), corrected,
 * or could not be checked (why). The key is kept in this page's memory only: never in the URL,
 * never in storage.
 */
import type { ReceiptRecord } from "../../core/receipt.ts";
import type { RecordKind } from "../../core/record.ts";
import { normalizeDigits } from "../../core/digits.ts";
import { h, uid, type Child } from "../dom.ts";
import {
  formatInteger,
  formatJalaliDate,
  formatPeriod,
  formatTimestamp,
  localDigits,
} from "../format.ts";
import { t } from "../i18n.ts";
import type { MessageKey } from "../messages.ts";
import {
  checkHistoryYear,
  openHistory,
  type HistoryLedger,
  type HistoryMonth,
  type OpenHistoryOutcome,
  type PersonKey,
  type YearOutcome,
} from "../history-check.ts";
import { historyKeyEntry } from "../history-key-entry.ts";
import { pageHeading } from "../ui.ts";
import { printCertificateButton } from "./certificate-sheet.ts";
import { printKeyButton } from "./history-key-sheet.ts";
import type { PageContext, PageResult } from "./page.ts";

/** One year of the timeline: opened or not, and its check once started. */
interface YearState {
  open: boolean;
  progress?: { done: number; total: number };
  outcome?: YearOutcome;
}

/** The signed-in person and their checked years, kept across re-renders (language switch). */
let session:
  { key: PersonKey; opened?: OpenHistoryOutcome; years: Map<number, YearState> } | undefined;

/** Redraws a year's section of the current render (set by the render that shows it). */
const yearViews = new Map<number, () => void>();

const rials = (ctx: PageContext, v: unknown): string =>
  t("rialsUnit", { amount: formatInteger(String(v), ctx.lang) });

const CATEGORY_LABEL: Record<string, MessageKey> = {
  retirement: "categoryRetirement",
  disability: "categoryDisability",
  survivors: "categorySurvivors",
};

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
  const payment = t("historyRecordPension", {
    net: rials(ctx, x.net),
    due: formatJalaliDate(String(x.dueOn), ctx.lang),
    paid: formatJalaliDate(String(x.paidOn), ctx.lang),
  });
  // A survivors' pension is one file shared by its beneficiaries: the file says whose it is.
  const category = CATEGORY_LABEL[String(x.category)];
  return category === undefined
    ? payment
    : `${payment} · ${t("historyPensionFile", { category: t(category), file: localDigits(String(x.pensionFile), ctx.lang) })}`;
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
      // The document is read (and, from a worker, parsed) only when the button is pressed.
      "document" in m &&
        printCertificateButton(
          ctx,
          () => m.document!,
          m.records.map((r) => recordLine(ctx, r)),
        ),
    );
  if (m.status === "absent") {
    details.push(
      h(
        "p",
        {},
        t("historyAbsentAsOf", {
          batch: localDigits(String(m.batchId), ctx.lang),
          date: formatTimestamp(m.anchoredAt, ctx.lang),
        }),
      ),
      h(
        "button",
        { type: "button", class: "button", onclick: () => download(m) },
        t("historyCertificate"),
      ),
      "document" in m && printCertificateButton(ctx, () => m.document!, []),
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
  return h(
    "section",
    { class: "history-kind", "aria-labelledby": id },
    h("h3", { id }, t(kind === "premium" ? "historyKindPremium" : "historyKindPension")),
    ...(kind === "pension" ? onTimeLine(ctx, months) : []),
    h("ol", { class: "history-months" }, ...months.map((m) => monthItem(ctx, m))),
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

/**
 * Whose history this is, in words: a national ID, a foreign national code (`foreign:`, shown
 * unprefixed) or an insured foreigner (`insured:`), its digits in the page's language. The number
 * is isolated left-to-right (`bdi`) so that a Persian sentence does not reorder it.
 */
function personLine(ctx: PageContext, personId: string): string {
  const foreign = /^foreign:([0-9]{12})$/.exec(personId);
  if (foreign !== null) return t("historyForForeign", { id: isolate(ctx, foreign[1]!) });
  const insured = /^insured:([0-9]{8,10}):([A-Z]{3})$/.exec(personId);
  if (insured !== null)
    return t("historyForInsured", { id: isolate(ctx, insured[1]!), nationality: insured[2]! });
  return t("historyFor", { id: isolate(ctx, personId) });
}

/** Digits in the page's language between U+2066 (left-to-right isolate) and U+2069 (pop). */
const isolate = (ctx: PageContext, digits: string) =>
  `\u2066${localDigits(digits, ctx.lang)}\u2069`;

/** The kinds a year shows: those the person has a record of; premiums when none (all proven absent). */
function shownKinds(months: HistoryMonth[]): RecordKind[] {
  const kinds = (["premium", "pension"] as const).filter((k) =>
    months.some((m) => m.kind === k && m.status === "recorded"),
  );
  return kinds.length === 0 ? ["premium"] : kinds;
}

/** Starts checking `year` (once); redraws its section as months are checked and at the end. */
function startYear(ledger: HistoryLedger, year: number, state: YearState): void {
  if (state.progress !== undefined || state.outcome !== undefined) return;
  state.progress = { done: 0, total: 0 };
  const redraw = () => yearViews.get(year)?.();
  void checkHistoryYear(ledger, year, (done, total) => {
    state.progress = { done, total };
    redraw();
  }).then((outcome) => {
    state.outcome = outcome;
    redraw();
  });
}

/**
 * One year of the timeline: a heading whose button opens or closes the year (aria-expanded,
 * aria-controls), the year's status line (role=status: not checked yet, checking month n of m,
 * or its summary), and, when open and checked, its months by kind.
 */
function yearSection(
  ctx: PageContext,
  ledger: HistoryLedger,
  year: number,
  state: YearState,
): HTMLElement {
  const panelId = uid(`history-year-${year}`);
  const toggle = h(
    "button",
    {
      type: "button",
      class: "history-year-toggle",
      "aria-expanded": state.open ? "true" : "false",
      "aria-controls": panelId,
    },
    localDigits(String(year), ctx.lang),
  );
  const status = h("p", { role: "status", class: "history-year-status" });
  const panel = h("div", { id: panelId, class: "history-year-panel" });
  const section = h(
    "section",
    { class: "history-year", "data-year": String(year) },
    h("h2", {}, toggle),
    status,
    panel,
  );
  const draw = () => {
    toggle.setAttribute("aria-expanded", state.open ? "true" : "false");
    panel.hidden = !state.open;
    const outcome = state.outcome;
    section.dataset["state"] =
      outcome === undefined
        ? state.progress === undefined
          ? "closed"
          : "checking"
        : outcome.ok
          ? "checked"
          : "failed";
    if (outcome === undefined) {
      status.className = "history-year-status muted";
      status.textContent =
        state.progress === undefined
          ? t("historyYearClosed")
          : state.progress.total === 0
            ? t("loading")
            : t("historyChecking", {
                done: localDigits(String(state.progress.done), ctx.lang),
                total: localDigits(String(state.progress.total), ctx.lang),
              });
      panel.replaceChildren();
      return;
    }
    if (!outcome.ok) {
      status.className = "history-year-status error-text";
      status.textContent = t("historyChainRead", { detail: outcome.detail });
      panel.replaceChildren();
      return;
    }
    const kinds = shownKinds(outcome.months);
    const inShown = outcome.months.filter((m) => kinds.includes(m.kind));
    const count = (s: HistoryMonth["status"]) =>
      localDigits(String(inShown.filter((m) => m.status === s).length), ctx.lang);
    // Where the proofs were checked: "worker" (a Web Worker) or "page" (no worker could start).
    section.dataset["verifiedIn"] = outcome.verifiedIn;
    status.className = "history-year-status history-summary";
    status.textContent =
      inShown.length === 0
        ? t("historyYearEmpty")
        : t("historySummary", {
            checked: localDigits(String(inShown.length), ctx.lang),
            recorded: count("recorded"),
            absent: count("absent"),
            unchecked: count("unchecked"),
          });
    if (panel.childElementCount === 0 && inShown.length > 0)
      panel.replaceChildren(
        ...kinds.map((k) =>
          kindSection(
            ctx,
            k,
            outcome.months.filter((m) => m.kind === k),
          ),
        ),
      );
  };
  toggle.addEventListener("click", () => {
    state.open = !state.open;
    if (state.open) startYear(ledger, year, state);
    draw();
  });
  yearViews.set(year, () => {
    if (section.isConnected) draw();
  });
  draw();
  return section;
}

function outcomeView(
  ctx: PageContext,
  key: PersonKey,
  opened: OpenHistoryOutcome,
  years: Map<number, YearState>,
): HTMLElement {
  if (!opened.ok) {
    const text =
      opened.why === "no-chain"
        ? t("historyNoChain")
        : opened.why === "vrf-invalid"
          ? t("historyVrfInvalid")
          : opened.why === "vrf-unregistered"
            ? t("historyVrfUnregistered")
            : t("historyChainRead", { detail: opened.detail });
    return h("div", { role: "alert" }, h("p", { class: "error-text" }, text));
  }
  const { ledger } = opened;
  if (ledger.years.length === 0) return h("p", {}, t("historyNothing"));
  yearViews.clear();
  return h(
    "div",
    { class: "history" },
    h("p", { class: "lead history-for" }, personLine(ctx, key.personId)),
    h(
      "p",
      { class: "muted history-as-of" },
      t("historyAsOf", { batch: localDigits(String(ledger.batchCount), ctx.lang) }),
    ),
    ...ledger.years.map((year, i) => {
      let state = years.get(year);
      if (state === undefined) {
        // The latest year is checked on open; earlier ones when the person opens them.
        state = { open: i === 0 };
        years.set(year, state);
        if (state.open) startYear(ledger, year, state);
      }
      return yearSection(ctx, ledger, year, state);
    }),
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
    result.replaceChildren(h("p", { role: "status", class: "muted" }, t("loading")));
    const opened = await openHistory(key);
    if (!ctx.isCurrent() || session?.key !== key) return;
    session.opened = opened;
    result.replaceChildren(
      signOut(),
      printKeyButton(ctx, key),
      outcomeView(ctx, key, opened, session.years),
    );
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
      // Twelve digits are a foreign national code (کد فراگیر اتباع); ten, a national ID.
      const typed = normalizeDigits(idInput.value.trim());
      const got = await demoLogin(
        /^[0-9]{12}$/.test(typed) ? `foreign:${typed}` : typed,
        codeInput.value,
      );
      if (!ctx.isCurrent()) return;
      if (typeof got === "string") {
        error.textContent = got;
        error.hidden = false;
        idInput.setAttribute("aria-invalid", "true");
        return;
      }
      codeInput.value = "";
      session = { key: got, years: new Map() };
      form.hidden = true;
      keyForm.hidden = true;
      await show(got);
    })();
  });

  // The second way in: a printed history key, typed or scanned (history-key-entry.ts).
  const keyForm = historyKeyEntry(ctx, (key) => {
    session = { key, years: new Map() };
    form.hidden = true;
    keyForm.hidden = true;
    void show(key);
  });

  if (session !== undefined) {
    form.hidden = true;
    keyForm.hidden = true;
    const { key, opened, years } = session;
    if (opened === undefined) void show(key);
    else
      result.replaceChildren(
        signOut(),
        printKeyButton(ctx, key),
        outcomeView(ctx, key, opened, years),
      );
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

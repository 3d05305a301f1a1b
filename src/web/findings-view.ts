/**
 * What a dispute is about, in plain words: for each auditor who disputes a batch, the findings of
 * the report whose fingerprint that auditor recorded on the chain (`GET …/findings`): which checks
 * failed and which records (by position) differ, never a person's data. When the report is not
 * published here, it says so.
 */
import { getFindings, type BatchView, type Findings } from "./api-client.ts";
import { h, uid, type Child } from "./dom.ts";
import { formatInteger, provinceName } from "./format.ts";
import { t } from "./i18n.ts";
import { MESSAGES, type Lang, type MessageKey } from "./messages.ts";
import { accountNameText, hashText, technicalDetails, type AccountNames } from "./ui.ts";

/** Shown at most; the rest are counted. */
const LISTED = 10;

/** A failed check of the audit report, in words. */
export function auditCheckText(name: string, lang: Lang): string {
  const province = /^province (IR-\d{2})$/.exec(name);
  if (province !== null)
    return t("auditCheck_province", { province: provinceName(province[1] ?? "", lang) });
  const key = `auditCheck_${name}`;
  return key in MESSAGES.en ? t(key as MessageKey) : t("auditCheck_other", { name });
}

function fieldLabel(field: string): string {
  const key = `recordField_${field}`;
  return key in MESSAGES.en ? t(key as MessageKey) : field;
}

const PROBLEM_KEYS: Record<string, MessageKey> = {
  missing: "findingMissing",
  added: "findingAdded",
  duplicate: "findingDuplicate",
  invalid: "findingInvalid",
  "no-salt": "findingNoSalt",
  leaf: "findingLeaf",
};

function recordLine(
  record: { position: number | null; problem: string; fields: readonly string[] },
  lang: Lang,
): string {
  const where =
    record.position === null
      ? t("findingRecordNew")
      : t("findingRecordAt", { position: formatInteger(record.position + 1, lang) });
  const what =
    record.problem === "changed"
      ? record.fields.length === 0
        ? t("findingChangedAny")
        : t("findingChanged", {
            field: record.fields
              .map((f) => (lang === "en" ? fieldLabel(f).toLowerCase() : fieldLabel(f)))
              .join(lang === "fa" ? "، " : ", "),
          })
      : t(PROBLEM_KEYS[record.problem] ?? "findingChangedAny");
  return `${where}: ${what}`;
}

function findingsBody(f: Findings, lang: Lang): Child[] {
  if (f.report === "unpublished") return [h("p", {}, t("findingsUnpublished"))];
  if (f.report === "unreadable" || f.findings === undefined)
    return [h("p", {}, t("findingsUnreadable"))];
  const found = f.findings;
  // One line per record position: several fields of one record are named together.
  const byPosition = new Map<
    string,
    { position: number | null; problem: string; fields: string[] }
  >();
  for (const r of found.records) {
    const key = `${r.position ?? "new"}:${r.problem}`;
    const entry = byPosition.get(key) ?? { position: r.position, problem: r.problem, fields: [] };
    if (r.field !== null && !entry.fields.includes(r.field)) entry.fields.push(r.field);
    byPosition.set(key, entry);
  }
  const lines = [...byPosition.values()].map((e) => recordLine(e, lang));
  const nothing = found.failedChecks.length === 0 && found.recordCount === 0;
  // The manifest's differing members (`manifest.total`, …) are told as one line.
  const manifestParts = found.failedChecks
    .filter((c) => c.startsWith("manifest."))
    .map((c) => {
      const key = `manifestPart_${c.slice("manifest.".length)}`;
      return key in MESSAGES.en ? t(key as MessageKey) : c.slice("manifest.".length);
    });
  const checkLines = found.failedChecks
    .filter((c) => !c.startsWith("manifest."))
    .map((c) => auditCheckText(c, lang));
  if (manifestParts.length > 0)
    checkLines.push(
      t("auditCheck_manifest", { parts: manifestParts.join(lang === "fa" ? "، " : ", ") }),
    );
  return [
    nothing && h("p", {}, t("findingsNone")),
    found.failedChecks.length > 0 &&
      h(
        "div",
        {},
        h("p", { class: "findings-lead" }, t("findingsChecksTitle")),
        h("ul", {}, ...checkLines.map((line) => h("li", {}, line))),
      ),
    found.recordCount > 0 &&
      h(
        "div",
        {},
        h(
          "p",
          { class: "findings-lead" },
          found.recordCount === 1
            ? t("findingsRecordsOne")
            : t("findingsRecords", { count: formatInteger(found.recordCount, lang) }),
        ),
        h("ul", { class: "finding-records" }, ...lines.slice(0, LISTED).map((l) => h("li", {}, l))),
        found.recordCount > Math.min(LISTED, lines.length) &&
          h(
            "p",
            {},
            t("findingsRecordsMore", {
              count: formatInteger(found.recordCount - Math.min(LISTED, lines.length), lang),
            }),
          ),
        h("p", { class: "muted" }, t("findingsPositionNote")),
      ),
    found.anomalyCount > 0 &&
      h("p", {}, t("findingsAnomalies", { count: formatInteger(found.anomalyCount, lang) })),
    h("p", { class: "muted" }, t("findingsVerified")),
  ];
}

/**
 * The findings of every disputing auditor of `batch`, or undefined when nobody disputes it.
 * A findings request that fails is shown as "not published here" would mislead: it says the
 * findings could not be loaded instead.
 *
 * @example
 * const section = await disputeFindings(batch, names, "fa");
 */
export async function disputeFindings(
  batch: Pick<BatchView, "batchId" | "attestations">,
  names: AccountNames,
  lang: Lang,
  headingLevel: "h2" | "h3" = "h2",
): Promise<HTMLElement | undefined> {
  const disputes = batch.attestations
    .map((a, index) => ({ a, index }))
    .filter(({ a }) => a.verdict === "disputed");
  if (disputes.length === 0) return undefined;
  const parts = await Promise.all(
    disputes.map(async ({ a, index }) => {
      const headingId = uid("findings-h");
      let body: Child[];
      try {
        body = findingsBody(await getFindings(batch.batchId, index), lang);
      } catch {
        body = [h("p", { class: "error-text" }, t("loadFailed"))];
      }
      return h(
        "section",
        { class: "findings", "aria-labelledby": headingId, "data-attestation": index },
        h(
          headingLevel,
          { id: headingId },
          t("findingsTitle", { auditor: accountNameText(a.auditor, names, lang) }),
        ),
        ...body,
        technicalDetails(
          h(
            "dl",
            { class: "fields" },
            h("dt", {}, t("colReport")),
            h("dd", {}, hashText(a.reportHash)),
            h("dt", {}, t("accountAddress")),
            h("dd", {}, hashText(a.auditor)),
          ),
        ),
      );
    }),
  );
  return h("div", { class: "findings-list" }, ...parts);
}

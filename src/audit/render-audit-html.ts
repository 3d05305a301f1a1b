/**
 * The audit report as one self-contained HTML page: Persian and English headings, inline CSS,
 * no script, no external resource (a CSP meta tag forbids any), deterministic bytes.
 */
import type { AuditReport } from "./audit-report.ts";

const ESC: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};
function esc(v: string | number | null | undefined): string {
  return v === null || v === undefined ? "—" : String(v).replace(/[&<>"']/g, (c) => ESC[c]!);
}

/** A bilingual heading: Persian (right-to-left) then English. */
const h = (level: 1 | 2, fa: string, en: string): string =>
  `<h${level}><span lang="fa" dir="rtl">${fa}</span> <span class="sep">·</span> <span lang="en">${en}</span></h${level}>`;

function table(
  head: readonly string[],
  rows: readonly (readonly (string | number | null)[])[],
  empty: string,
): string {
  if (rows.length === 0) return `<p class="none">${esc(empty)}</p>`;
  return (
    `<table><thead><tr>${head.map((c) => `<th>${esc(c)}</th>`).join("")}</tr></thead><tbody>` +
    rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`).join("") +
    `</tbody></table>`
  );
}

const CSS = `body{font-family:system-ui,"Vazirmatn",Tahoma,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1b1f23}
h1,h2{border-bottom:1px solid #d0d7de;padding-bottom:.3rem}.sep{color:#8c959f}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem;font-size:.9rem}
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:start;vertical-align:top;word-break:break-all}
th{background:#f6f8fa}.ok{color:#1a7f37;font-weight:bold}.bad{color:#cf222e;font-weight:bold}
.verdict{font-size:1.4rem;padding:.6rem 1rem;border-radius:.4rem;display:inline-block}
.verdict.match{background:#dafbe1}.verdict.mismatch{background:#ffebe9}.none{color:#57606a}code{font-size:.85rem}`;

const lanesText = (lanes: Record<string, string> | null): string | null =>
  lanes === null
    ? null
    : Object.entries(lanes)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ");

/**
 * Renders the report. `reportHash` is the keccak256 of the JSON report, shown so that a reader
 * can match the page with the on-chain attestation.
 *
 * @example
 * const html = renderAuditHtml(report, keccak256(json));
 */
export function renderAuditHtml(report: AuditReport, reportHash: string): string {
  const a = report.anchored;
  const parts: string[] = [];
  parts.push(
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">`,
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    `<meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<title>Shafaf audit — batch ${esc(report.batchId)}</title><style>${CSS}</style></head><body>`,
    h(1, `گزارش حسابرسی دسته ${esc(report.batchId)}`, `Audit report, batch ${esc(report.batchId)}`),
    `<p class="verdict ${report.verdict}"><span lang="fa" dir="rtl">${report.verdict === "match" ? "مطابق" : "مغایرت"}</span> · ${report.verdict === "match" ? "MATCH: the export is exactly what was anchored" : "MISMATCH: the export differs from what was anchored"}</p>`,
    table(
      ["", ""],
      [
        ["format", report.format],
        // v1 reports have no scheme row: their pages are byte for byte as before.
        ...(report.scheme !== undefined ? [["tree scheme", report.scheme]] : []),
        ["kind / period", `${report.kind} ${report.period}`],
        ["generated at", report.generatedAt ?? "(not recorded)"],
        ["report hash (keccak256 of the JSON report)", reportHash],
      ],
      "",
    ),
    h(2, "آنچه لنگر شده است", "What is anchored"),
    table(
      ["field", "value"],
      [
        [
          "source",
          a.source === "chain"
            ? "the ledger contract (chain)"
            : "the reference artifact only (no chain read)",
        ],
        ["chain id", a.chainId],
        ["contract", a.contract],
        ["root", a.root],
        ["records", a.recordCount],
        ["total (Rials)", a.total],
        ["manifest hash", a.manifestHash],
        ...(a.vrfKeyId !== undefined ? [["VRF key id (person keys)", a.vrfKeyId]] : []),
        ...(a.lanes !== undefined ? [["root lanes", lanesText(a.lanes)]] : []),
        ["supersedes", a.supersedes],
        ["superseded by", a.supersededBy],
        [
          "auditors: confirmations / disputes",
          a.confirmations === null ? null : `${a.confirmations} / ${a.disputes}`,
        ],
        [
          "reference artifact",
          report.reference === null
            ? null
            : `job ${report.reference.jobId} — ${report.reference.detail}`,
        ],
      ],
      "",
    ),
    h(2, "آنچه حسابرسی شد", "What was audited"),
    table(
      ["field", "value"],
      [
        [
          "export",
          report.audited.type === "batch-artifact"
            ? "the batch artifact"
            : "original input files + salts",
        ],
        ["recomputed root", report.audited.root],
        ["records", report.audited.recordCount],
        ["total (Rials)", report.audited.total],
        ["rebuilt manifest hash", report.audited.manifestHash],
        ...(report.audited.lanes !== undefined
          ? [["recomputed root lanes", lanesText(report.audited.lanes)]]
          : []),
      ],
      "",
    ),
    table(
      ["file", "sha256"],
      report.audited.files.map((f) => [f.name, f.sha256]),
      "no files",
    ),
    h(2, "بررسی‌ها", "Checks"),
    `<table><thead><tr><th>check</th><th>result</th><th>anchored</th><th>recomputed</th><th>what</th></tr></thead><tbody>` +
      report.checks
        .map(
          (c) =>
            `<tr><td>${esc(c.name)}</td><td class="${c.ok ? "ok" : "bad"}">${c.ok ? "✓ pass" : "✗ FAIL"}</td><td><code>${esc(c.anchored)}</code></td><td><code>${esc(c.recomputed)}</code></td><td>${esc(c.detail)}</td></tr>`,
        )
        .join("") +
      `</tbody></table>`,
    h(2, "مغایرت‌های سطح رکورد", "Record-level differences"),
    table(
      ["record", "problem", "field", "anchored", "recomputed", "where", "anchored index", "what"],
      report.mismatches.map((m) => [
        m.recordId,
        m.problem,
        m.field,
        m.anchored,
        m.recomputed,
        m.source,
        m.anchoredIndex,
        m.detail,
      ]),
      "None: every record of the export is an anchored record, and every anchored record is in the export.",
    ),
    h(2, "ناهنجاری‌ها (بدون توقف)", "Anomalies (reported, not blocking)"),
    table(
      ["check", "status", "found", "scope"],
      report.anomalyChecks.map((c) => [c.check, c.status, c.found, c.detail]),
      "",
    ),
    table(
      ["check", "about", "records", "field", "expected", "found", "what"],
      report.anomalies.map((x) => [
        x.check,
        x.subject,
        x.recordIds.join(", "),
        x.field,
        x.expected,
        x.found,
        x.detail,
      ]),
      "No anomalies found.",
    ),
    h(2, "شاخص‌ها", "Indicators"),
    table(
      ["indicator", "value"],
      [
        [
          "pensions paid on time",
          report.indicators.pensionsOnTime === null
            ? "n/a"
            : `${report.indicators.pensionsOnTime.rate} (${report.indicators.pensionsOnTime.onTime} on time, ${report.indicators.pensionsOnTime.late} late, limit ${report.settings.lateDays} days)`,
        ],
        [
          "jump threshold",
          `${report.settings.jumpThresholdPercent}% (workshops with ≥ ${report.settings.jumpMinHeadcount} workers)`,
        ],
        ["rates", report.settings.rulesVersion],
      ],
      "",
    ),
    `<p class="none">Personal data is not in this report: records are named by record id, people by subject pseudonym, national IDs masked.</p>`,
    `</body></html>\n`,
  );
  return parts.join("\n");
}

/**
 * The demo's auditor: recomputes part of the anchored year from the organization's exports with
 * the same code as `shafaf audit`, and attests each verdict on-chain with the same code as
 * `shafaf attest`. One pension month is audited from an export in which finance has changed a
 * payment after anchoring: the audit names the record and the auditor disputes the batch.
 */
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { attestBatch } from "../audit/attest-batch.ts";
import { auditBatch, type AuditBatchResult } from "../audit/audit-batch.ts";
import { readAnchoredBatch } from "../audit/read-anchored-batch.ts";
import { createLedgerClient } from "../chain/ledger-client.ts";
import { createRpc } from "../chain/rpc.ts";
import type { LedgerStore } from "../store/ledger-store.ts";
import type { SeededDemo } from "./demo.ts";

/** Months (1–12) whose batches the demo's auditor has finished auditing. */
export const DEMO_AUDITED_MONTHS = 9;
/** The pension month whose export was altered after anchoring: disputed. */
export const DEMO_DISPUTED_PENSION_MONTH = 6;

export interface DemoAuditOptions {
  seeded: SeededDemo;
  store: LedgerStore;
  chainUrl: string;
  /** Where the reports are written (`<runDir>/audits`). */
  runDir: string;
  log: (line: string) => void;
}

export interface DemoAudit {
  batchId: number;
  verdict: "confirmed" | "disputed";
  report: string;
}

/**
 * Copies a pension CSV with one payment's deduction raised (and the net lowered to match, so the
 * row still validates): what a tampered export looks like to an auditor.
 */
async function alteredPensionExport(source: string, target: string): Promise<string> {
  const lines = (await readFile(source, "utf8")).split("\n");
  const header = lines[0]!.split(",");
  const col = (name: string) => header.indexOf(name);
  const row = lines[3]!.split(",");
  const gross = BigInt(row[col("gross")]!);
  const deductions = BigInt(row[col("deductions")]!) + 1_500_000n;
  row[col("deductions")] = String(deductions);
  row[col("net")] = String(gross - deductions);
  lines[3] = row.join(",");
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, lines.join("\n"));
  return row[col("record_id")]!;
}

/** Audits months 1…DEMO_AUDITED_MONTHS of both kinds (and their corrections) and attests them. */
export async function auditAndAttestDemo(options: DemoAuditOptions): Promise<DemoAudit[]> {
  const { seeded, store, log } = options;
  const rpc = createRpc({ urls: [options.chainUrl] });
  const ledger = createLedgerClient({ rpc, address: seeded.contract });
  const auditsDir = path.join(options.runDir, "audits");
  await mkdir(auditsDir, { recursive: true });
  const out: DemoAudit[] = [];
  const history: string[] = [];
  const entries = await store.listBatches();
  for (const entry of entries) {
    const month = Number(entry.period.slice(5, 7));
    const artifactDir = path.join(store.batchesDir, entry.jobId);
    history.push(artifactDir);
    if (month > DEMO_AUDITED_MONTHS) continue;
    const anchored = await readAnchoredBatch({
      rpcUrls: [options.chainUrl],
      contract: seeded.contract,
      batchId: entry.batchId,
    });
    let result: AuditBatchResult;
    const disputed = entry.kind === "pension" && month === DEMO_DISPUTED_PENSION_MONTH;
    if (disputed) {
      const monthInputs = seeded.inputs.months[month - 1]!;
      const exportDir = path.join(auditsDir, `export-${entry.batchId}`);
      const altered = path.join(exportDir, path.basename(monthInputs.pensionCsv));
      const changed = await alteredPensionExport(monthInputs.pensionCsv, altered);
      const salts = path.join(exportDir, "salts.jsonl");
      await copyFile(path.join(artifactDir, "records.jsonl"), salts);
      result = await auditBatch({
        batchId: entry.batchId,
        audited: { type: "inputs", paths: [altered], salts },
        anchored,
        referenceDir: artifactDir,
        historyDirs: history,
      });
      log(
        `  batch ${entry.batchId} (pension ${entry.period}): the export differs from what was anchored at ${changed}`,
      );
    } else {
      result = await auditBatch({
        batchId: entry.batchId,
        audited: { type: "batch-artifact", dir: artifactDir },
        anchored,
        historyDirs: history,
      });
    }
    const verdict = result.report.verdict === "match" ? "confirmed" : "disputed";
    const report = path.join(auditsDir, `batch-${entry.batchId}.json`);
    await writeFile(report, result.json);
    await writeFile(report.replace(/\.json$/, ".html"), result.html);
    await attestBatch({
      wallet: seeded.auditor.wallet,
      ledger,
      batchId: entry.batchId,
      verdict,
      reportBytes: result.json,
    });
    out.push({ batchId: entry.batchId, verdict, report });
  }
  const disputes = out.filter((a) => a.verdict === "disputed").length;
  log(
    `audited and attested ${out.length} batches (${out.length - disputes} confirmed, ${disputes} disputed); reports in ${auditsDir}`,
  );
  return out;
}

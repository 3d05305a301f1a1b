/**
 * The demo's auditor: recomputes part of the anchored year from the organization's exports with
 * the same code as `shafaf audit`, and attests each verdict on-chain with the same code as
 * `shafaf attest`. One pension month is audited from an export in which finance has changed a
 * payment after anchoring: the audit names the record and the auditor disputes the batch.
 */
import { copyFile, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
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
 * Copies a batch artifact with one payment's deduction raised in records.jsonl (and the net
 * lowered to match, so the record still validates), artifact.json left as it was: what an export
 * altered after anchoring looks like to an auditor. Returns the record id of the changed payment.
 */
async function alteredPensionExport(artifactDir: string, target: string): Promise<string> {
  await mkdir(target, { recursive: true });
  for (const name of await readdir(artifactDir))
    await copyFile(path.join(artifactDir, name), path.join(target, name));
  const file = path.join(target, "records.jsonl");
  const lines = (await readFile(file, "utf8")).split("\n");
  const line = JSON.parse(lines[3]!) as { record: Record<string, string | number> };
  const deductions = BigInt(line.record.deductions!) + 1_500_000n;
  line.record.deductions = String(deductions);
  line.record.net = String(BigInt(line.record.gross!) - deductions);
  lines[3] = JSON.stringify(line);
  await writeFile(file, lines.join("\n"));
  return String(line.record.recordId);
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
      const exportDir = path.join(auditsDir, `export-${entry.batchId}`);
      const changed = await alteredPensionExport(artifactDir, exportDir);
      result = await auditBatch({
        batchId: entry.batchId,
        audited: { type: "batch-artifact", dir: exportDir },
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

/**
 * The demo's auditor: recomputes part of the anchored year from the organization's exports with
 * the same code as `shafaf audit`, and attests each verdict on-chain with the same code as
 * `shafaf attest`. One pension month is audited from an export in which finance has changed a
 * payment after anchoring: the audit names the record and the auditor disputes the batch.
 */
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { attestBatch } from "../audit/attest-batch.ts";
import { auditBatch, type AuditBatchResult } from "../audit/audit-batch.ts";
import { readAnchoredBatch } from "../audit/read-anchored-batch.ts";
import { createLedgerClient } from "../chain/ledger-client.ts";
import { createRpc } from "../chain/rpc.ts";
import type { LedgerStore } from "../store/ledger-store.ts";
import { exportBatchArtifact } from "../store/export-artifact.ts";
import { privateTempRoot } from "./private-temp.ts";
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
 * Copies a plain export of an artifact with one payment's deduction raised in records.jsonl (and
 * the net lowered to match, so the record still validates), artifact.json left as it was: what an
 * export altered after anchoring looks like to an auditor. Returns the record id of the changed
 * payment.
 */
async function alteredPensionExport(exportDir: string, target: string): Promise<string> {
  await mkdir(target, { recursive: true, mode: 0o700 });
  for (const name of await readdir(exportDir))
    await copyFile(path.join(exportDir, name), path.join(target, name));
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
  // The organization's exports for its auditor: plain copies of the sealed artifacts, in a
  // private temporary folder removed when the audits are done (never in the data directory).
  const exports = await mkdtemp(path.join(privateTempRoot(), "shafaf-demo-audit-"));
  try {
    for (const entry of entries) {
      const month = Number(entry.period.slice(5, 7));
      const artifactDir = path.join(exports, entry.jobId);
      await exportBatchArtifact(
        path.join(store.batchesDir, entry.jobId),
        artifactDir,
        store.dataKey,
      );
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
        const exportDir = path.join(exports, `altered-${entry.batchId}`);
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
  } finally {
    await rm(exports, { recursive: true, force: true });
  }
  const disputes = out.filter((a) => a.verdict === "disputed").length;
  log(
    `audited and attested ${out.length} batches (${out.length - disputes} confirmed, ${disputes} disputed); reports in ${auditsDir}`,
  );
  return out;
}

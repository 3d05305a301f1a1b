/**
 * `shafaf audit <batch artifact dir | inputs...> --batch ID …`: recompute a batch from the
 * organization's export and compare it with what is anchored. Exit 0 match, 1 mismatch (the
 * report names every differing record), 64 usage error, 65 unreadable input.
 */
import { existsSync } from "node:fs";
import { readdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { CliCommand } from "../command.ts";
import { parseCommandLine } from "../parse-command-line.ts";
import { UsageError, reportError } from "../command-support.ts";
import { auditBatch, type AuditedExport } from "../../audit/audit-batch.ts";
import { readAnchoredBatch, type AnchoredBatch } from "../../audit/read-anchored-batch.ts";
import { readArtifactDescriptor } from "../../audit/scan-artifact.ts";
import { readBatchArtifact } from "../../store/batch-artifact.ts";
import type { DataKey } from "../../store/private-store.ts";
import { openDataKeyOption } from "../data-key-option.ts";

const USAGE = `usage: shafaf audit <batch artifact dir | input files...> --batch ID [options]

What is audited (the export):
  a batch artifact directory (artifact.json, manifest.json, records.jsonl, and tree.bin, or
  keys.bin for a shafaf-tree/2 batch), or the original input files (CSV, JSON Lines, SSO DBF
  lists) with --salts FILE (shafaf-tree/1 batches only)

  --batch ID              the anchored batch (required)
  --salts FILE            with input files: JSON Lines {"recordId","salt","subject"} (or records.jsonl)
  --rpc URL --contract ADDR   read what is anchored from the ledger (repeat --rpc for fail-over)
  --artifact DIR          the anchored batch artifact (reference for record-level evidence)
  --data-dir DIR          find the reference artifact (by root) and earlier batches under DIR/batches
  --history DIR           earlier batch artifacts (correction targets, previous period); repeatable
  --previous DIR          the previous period's batch artifact (headcount and wage-base jumps)
  --data-key FILE         the data-encryption keystore of sealed artifacts (encryption at rest):
                          they are read in place, each chunk opened and authenticated
                          as it is read; nothing plain is written anywhere
  --report FILE.json      write the JSON report (shafaf-audit/1)
  --html FILE.html        write the HTML report
  --late-days N           a pension paid more than N days after due is late (default 5)
  --jump-threshold PCT    a workshop headcount or wage-base change above PCT % is a jump (default 50)
  --jump-min-headcount N  only workshops with at least N workers (default 5)
  --generated-at TEXT     written into the report (default none: the report is reproducible)
  --encoding auto|utf8|cp1256   CSV encoding;  --province CODE   province for DBF lists
  --json                  print the JSON report on stdout

Exit status: 0 the export matches what is anchored, 1 it does not (or the audit could not run),
64 usage error, 65 unreadable input.`;

function positiveInt(name: string, text: string | undefined, fallback: number, min = 0): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min)
    throw new UsageError(`${name} must be an integer ≥ ${min}, not ${JSON.stringify(text)}`);
  return n;
}

/**
 * The artifact under `dataDir/batches` whose root is `root`, if any. Descriptors are compared
 * first; only the one with that root is read and checked (not every artifact's keys.bin).
 */
async function findArtifactByRoot(
  dataDir: string,
  root: string,
  dataKey: DataKey | undefined,
): Promise<string | undefined> {
  const batches = path.join(dataDir, "batches");
  let names: string[];
  try {
    names = (await readdir(batches)).sort();
  } catch {
    return undefined;
  }
  for (const name of names) {
    if (name.includes(".tmp-")) continue;
    const dir = path.join(batches, name);
    try {
      const d = await readArtifactDescriptor(dir);
      if (d.root.toLowerCase() !== root.toLowerCase()) continue;
      const a = await readBatchArtifact(dir, { dataKey });
      if (a?.descriptor.root.toLowerCase() === root.toLowerCase()) return dir;
    } catch {
      // a damaged artifact is not the reference
    }
  }
  return undefined;
}

export const command: CliCommand = {
  summary: "recompute an anchored batch from the organization's export and report every difference",
  async run(argv) {
    const parsed = parseCommandLine("audit", USAGE, argv, {
      batch: { type: "string" },
      salts: { type: "string" },
      rpc: { type: "string", multiple: true },
      contract: { type: "string" },
      artifact: { type: "string" },
      "data-dir": { type: "string" },
      "data-key": { type: "string" },
      history: { type: "string", multiple: true },
      previous: { type: "string" },
      report: { type: "string" },
      html: { type: "string" },
      "late-days": { type: "string" },
      "jump-threshold": { type: "string" },
      "jump-min-headcount": { type: "string" },
      "generated-at": { type: "string" },
      encoding: { type: "string" },
      province: { type: "string" },
      json: { type: "boolean" },
    });
    if (typeof parsed === "number") return parsed;
    const { values, positionals } = parsed;
    try {
      const batchId = positiveInt("--batch", values.batch, -1, 1);
      if (batchId < 1) throw new UsageError("--batch ID is required");
      if (positionals.length === 0)
        throw new UsageError("give the batch artifact directory or the input files");
      const dataKey = await openDataKeyOption(values["data-key"]);
      const rpcs = values.rpc ?? [];
      if (rpcs.length > 0 !== (values.contract !== undefined))
        throw new UsageError("--rpc and --contract go together");
      const encoding = values.encoding;
      if (encoding !== undefined && !["auto", "utf8", "cp1256"].includes(encoding))
        throw new UsageError("--encoding must be auto, utf8 or cp1256");
      for (const p of positionals)
        if (!existsSync(p)) throw new UsageError(`no such file or folder: ${p}`);

      const isArtifact =
        positionals.length === 1 &&
        (await stat(positionals[0]!)).isDirectory() &&
        existsSync(path.join(positionals[0]!, "artifact.json"));
      let audited: AuditedExport;
      if (isArtifact) {
        if (values.salts !== undefined)
          throw new UsageError("--salts goes with input files, not with a batch artifact");
        audited = { type: "batch-artifact", dir: positionals[0]! };
      } else {
        if (values.salts === undefined)
          throw new UsageError(
            "auditing input files needs --salts FILE (the salts and subjects of the batch's records)",
          );
        audited = {
          type: "inputs",
          paths: positionals,
          salts: values.salts,
          encoding: encoding as "auto" | "utf8" | "cp1256" | undefined,
          province: values.province,
        };
      }
      const anchored: AnchoredBatch | undefined =
        values.contract === undefined
          ? undefined
          : await readAnchoredBatch({ rpcUrls: rpcs, contract: values.contract, batchId });
      let referenceDir = values.artifact;
      if (referenceDir === undefined && values["data-dir"] !== undefined && anchored !== undefined)
        referenceDir = await findArtifactByRoot(values["data-dir"], anchored.root, dataKey);
      if (anchored === undefined && referenceDir === undefined && audited.type === "inputs")
        throw new UsageError(
          "give --rpc and --contract, or the anchored artifact with --artifact DIR",
        );
      const historyDirs = [
        ...(values.history ?? []),
        ...(values["data-dir"] === undefined ? [] : [path.join(values["data-dir"], "batches")]),
      ].filter((d) => existsSync(d));

      const jump = values["jump-threshold"]?.replace(/%$/, "");
      const { report, json, html, reportHash } = await auditBatch({
        batchId,
        audited,
        anchored,
        referenceDir,
        historyDirs,
        previousDir: values.previous,
        dataKey,
        generatedAt: values["generated-at"],
        settings: {
          lateDays: positiveInt("--late-days", values["late-days"], 5),
          jumpThresholdPercent: positiveInt("--jump-threshold", jump, 50),
          jumpMinHeadcount: positiveInt("--jump-min-headcount", values["jump-min-headcount"], 5, 1),
        },
      });
      if (values.report !== undefined) await writeFile(values.report, json);
      if (values.html !== undefined) await writeFile(values.html, html);
      if (values.json === true) process.stdout.write(new TextDecoder().decode(json));
      else {
        const out = process.stdout;
        out.write(
          `batch ${batchId} (${report.kind} ${report.period}), anchored ${report.anchored.source === "chain" ? "on chain" : "per the artifact only (no --rpc)"}\n`,
        );
        for (const c of report.checks)
          out.write(
            `${c.ok ? "✓" : "✗"} ${c.name}${c.ok ? "" : `: anchored ${c.anchored ?? "—"}, recomputed ${c.recomputed ?? "—"}`}\n`,
          );
        for (const m of report.mismatches.slice(0, 50))
          out.write(
            `  record ${m.recordId ?? "?"} ${m.problem}${m.field === null ? "" : ` ${m.field}`}${m.anchored === null && m.recomputed === null ? "" : `: anchored ${m.anchored ?? "—"}, recomputed ${m.recomputed ?? "—"}`}${m.source === null ? "" : ` (${m.source})`}\n`,
          );
        if (report.mismatches.length > 50)
          out.write(`  … ${report.mismatches.length - 50} more in the report\n`);
        out.write(
          `anomalies: ${report.anomalies.length} (${report.anomalyChecks.filter((c) => c.status === "run").length} checks run)\n`,
        );
        for (const x of report.anomalies.slice(0, 20))
          out.write(`  ${x.check}: ${x.subject}: ${x.detail}\n`);
        if (report.indicators.pensionsOnTime !== null)
          out.write(`pensions paid on time: ${report.indicators.pensionsOnTime.rate}\n`);
        out.write(
          `${report.verdict === "match" ? "MATCH" : "MISMATCH"}  report hash ${reportHash}\n`,
        );
      }
      return report.verdict === "match" ? 0 : 1;
    } catch (error) {
      return reportError("audit", error, USAGE);
    }
  },
};

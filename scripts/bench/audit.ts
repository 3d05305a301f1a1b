/**
 * `npm run bench -- audit`: the streaming audit of a `shafaf-tree/2` batch of N synthetic premium
 * records (default 1,000,000; `BENCH_AUDIT_ROWS`) beside the anchor dry run of the same batch
 * (`shafaf anchor --dry-run`'s code: read, validate, key, hash, build the tree and manifest),
 * measured in the same run. Each runs in its own child process, so its CPU time (user + system)
 * and peak memory (`process.resourceUsage().maxRSS`) are its own. The batch is written by the
 * anchor pipeline itself (no chain); person keys come from a stand-in keying (one keccak per
 * person, cheaper than a warm cache, so the dry run is if anything favoured). The audit reads the
 * artifact as an auditor is given it, without a chain (its own reference). `BENCH_AUDIT_SCHEME=1`:
 * a `shafaf-tree/1` batch (`shafaf-batch/1` artifact with tree.bin, no person keys).
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { auditBatch } from "../../src/audit/audit-batch.ts";
import { runAnchorJob } from "../../src/anchor/run-anchor-job.ts";
import {
  SYNTHETIC_PERIOD,
  pipelineBatch,
  syntheticPersonKeying,
  writeSyntheticPremiumCsv,
} from "../../test/audit/synthetic-batch.ts";

interface Measured {
  wall: number;
  cpu: number;
  maxRss: number;
  detail: string;
}

/** The child's side: one measured task, its figures printed as one JSON line. */
const SCHEME = process.env.BENCH_AUDIT_SCHEME === "1" ? 1 : 2;

async function child(role: string, arg: string, dataDir: string): Promise<void> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let detail: string;
  if (role === "artifact") {
    const r = await pipelineBatch({ csv: arg, dataDir, scheme: SCHEME });
    detail = r.dir!;
  } else if (role === "dry-run") {
    const r = await runAnchorJob({
      inputs: [arg],
      kind: "premium",
      period: SYNTHETIC_PERIOD,
      dryRun: true,
      pseudonymKey: new Uint8Array(32).fill(9),
      personKeying: SCHEME === 2 ? syntheticPersonKeying() : undefined,
    });
    if (r.status !== "dry-run") throw new Error(`dry run: ${r.status}`);
    detail = `root ${r.root}, ${r.recordCount} records`;
  } else {
    const r = await auditBatch({ batchId: 1, audited: { type: "batch-artifact", dir: arg } });
    if (r.report.verdict !== "match") throw new Error("the audit of an intact batch failed");
    detail = `root ${r.report.audited.root}, ${r.report.audited.recordCount} records, ${r.report.verdict}`;
  }
  const used = process.cpuUsage(cpu0);
  const out: Measured = {
    wall: (performance.now() - t0) / 1000,
    cpu: (used.user + used.system) / 1e6,
    maxRss: process.resourceUsage().maxRSS * 1024,
    detail,
  };
  console.log(`BENCH_CHILD ${JSON.stringify(out)}`);
}

function run(role: string, arg: string, dataDir = ""): Measured {
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", import.meta.filename, "child", role, arg, dataDir],
    { encoding: "utf8", maxBuffer: 1 << 24 },
  );
  const line = r.stdout.split("\n").find((l) => l.startsWith("BENCH_CHILD "));
  if (r.status !== 0 || line === undefined)
    throw new Error(`bench child ${role} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return JSON.parse(line.slice("BENCH_CHILD ".length)) as Measured;
}

if (process.argv[2] === "child") {
  await child(process.argv[3]!, process.argv[4]!, process.argv[5]!);
} else {
  const ROWS = Number(process.env.BENCH_AUDIT_ROWS ?? 1_000_000);
  const work = await mkdtemp(path.join(os.tmpdir(), "shafaf-bench-audit-"));
  try {
    const csv = path.join(work, "premiums.csv");
    await writeSyntheticPremiumCsv(csv, ROWS);
    const built = run("artifact", csv, path.join(work, "data"));
    const dir = built.detail;
    const bytes = (await stat(path.join(dir, "records.jsonl"))).size;
    const dry = run("dry-run", csv);
    const audit = run("audit", dir);
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
    const rate = (s: number) => `${Math.round(ROWS / s).toLocaleString("en-US")}/s`;
    console.log(
      `${ROWS.toLocaleString("en-US")} premium records, shafaf-tree/${SCHEME}, five provinces; records.jsonl ${mib(bytes)}\n`,
    );
    console.log("| measurement | wall | CPU (user + system) | peak RSS |");
    console.log("|---|---|---|---|");
    for (const [name, m] of [
      [
        `reference: anchor dry run (CSV → validated → ${SCHEME === 2 ? "keyed → " : ""}tree → manifest)`,
        dry,
      ],
      ["streaming audit of the artifact (no chain; its own reference)", audit],
      ["(setup) the pipeline writing the artifact", built],
    ] as const)
      console.log(
        `| ${name} | ${m.wall.toFixed(1)} s | ${m.cpu.toFixed(1)} s — ${rate(m.cpu)} per CPU-second | ${mib(m.maxRss)} |`,
      );
    console.log("");
    console.log(
      `audit / dry run: ${(audit.cpu / dry.cpu).toFixed(2)}× in CPU time, ${(audit.wall / dry.wall).toFixed(2)}× in wall time (goal ≤ 2×); peak RSS ${(audit.maxRss / dry.maxRss).toFixed(2)}× the dry run's`,
    );
    console.log(
      `load average at the end: ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(", ")} on ${os.availableParallelism()} cores`,
    );
    console.log(`dry run: ${dry.detail}; audit: ${audit.detail}`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

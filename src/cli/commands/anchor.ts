/**
 * `shafaf anchor <inputs...> --kind premium|pension --period 1403-07 …`: validates the month's
 * files, anchors their Merkle root on the ledger and writes a receipt per record. Re-running the
 * same command after a crash finishes the job (see src/anchor/run-anchor-job.ts).
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import { randomBytes } from "node:crypto";
import { writePrivateFile } from "../write-private-file.ts";
import path from "node:path";
import type { CliCommand } from "../command.ts";
import { formatRials } from "../../core/money.ts";
import { connectSigner } from "../../chain/signer.ts";
import {
  ChainTransactionError,
  explainChainError,
  type ExplainContext,
} from "../../chain/explain-error.ts";
import { createAnchorChain } from "../../anchor/anchor-chain.ts";
import { openPersonKeying, type PersonKeying } from "../../anchor/person-keying.ts";
import { openVrfPersonKeying } from "../vrf-person-keying.ts";
import { EXIT_DATA, UsageError, reportError, signerSpecFromOptions } from "../command-support.ts";
import { parseCommandLine } from "../parse-command-line.ts";
import { createProgressLog } from "../../anchor/progress.ts";
import { loadPseudonymKey } from "../../anchor/pseudonym-key.ts";
import {
  ANCHOR_STEPS,
  runAnchorJob,
  type AnchorJobResult,
  type AnchorStep,
} from "../../anchor/run-anchor-job.ts";
import { formatIssueTable, validationReport } from "../../anchor/validation-report.ts";
import { openLedgerStore, type LedgerStore } from "../../store/ledger-store.ts";
import { openDataKeyOption } from "../data-key-option.ts";

const USAGE = `usage: shafaf anchor <inputs...> --kind premium|pension --period YYYY-MM [options]

Inputs: CSV (UTF-8 or cp1256), JSON Lines, an SSO list pair folder (DSKKAR00.DBF + DSKWOR00.DBF),
a folder of pairs, or a .zip of them.

  --kind premium|pension     what the inputs hold (required)
  --period YYYY-MM           the Jalali month, e.g. 1403-07; every row must have it (required)
  --dry-run                  validate and build the tree, send nothing, write nothing durable
  --supersedes ID --reason CODE   this batch corrects batch ID (same kind and period)
  --rpc URL --contract ADDR  the chain and ledger contract (required unless --dry-run)
  --keystore FILE            sign with an encrypted keystore (password: SHAFAF_KEYSTORE_PASSWORD or prompt)
  --signer dev:N             sign with development account N (chain 31337 only)
  --vrf-key FILE             the person-key VRF keystore (shafaf keys new-vrf; registered with
                             shafaf keys register-vrf): the batch is a shafaf-tree/2 one, whose
                             totals, "all my records" and absence can be proven (password as for
                             --keystore). Required unless --scheme 1
  --scheme 1|2               the batch commitment (default 2); 1 = the legacy shafaf-tree/1 tree
  --data-dir DIR             where jobs, artifacts and receipts live (default .shafaf)
  --data-key FILE            the data-encryption keystore (shafaf keys new-data): records, salts
                             and person keys are sealed at rest (password as for --keystore);
                             required once the data directory is encrypted
  --confirmations N          blocks to wait for (default 1)
  --encoding auto|utf8|cp1256  CSV text encoding (default auto)
  --province CODE            province for inputs without one (SSO lists), e.g. IR-23
  --workshops FILE.csv       the workshop register (workshop_code,province) for SSO lists
  --report FILE.json         write the validation report (all issues) as JSON, mode 0600
  --strict                   all or nothing: one problem (or finding) in any list and nothing is
                             anchored; default: faulty lists are quarantined, the rest anchored
  --json                     print one JSON summary on stdout, no progress

Quarantined lists are reported in DATA-DIR/quarantine/<job id>/ (quarantine.json and one
bilingual text per list, for the employer).

Exit status: 0 anchored (or dry run passed), 65 invalid input, 64 usage error, 1 other failure.`;

type Values = {
  kind?: string;
  period?: string;
  "dry-run"?: boolean;
  supersedes?: string;
  reason?: string;
  rpc?: string;
  contract?: string;
  keystore?: string;
  signer?: string;
  "data-dir"?: string;
  "vrf-key"?: string;
  "data-key"?: string;
  scheme?: string;
  confirmations?: string;
  encoding?: string;
  province?: string;
  workshops?: string;
  report?: string;
  strict?: boolean;
  json?: boolean;
};

const OPTIONS = {
  kind: { type: "string" },
  period: { type: "string" },
  "dry-run": { type: "boolean" },
  supersedes: { type: "string" },
  reason: { type: "string" },
  rpc: { type: "string" },
  contract: { type: "string" },
  keystore: { type: "string" },
  signer: { type: "string" },
  "data-dir": { type: "string" },
  "vrf-key": { type: "string" },
  "data-key": { type: "string" },
  scheme: { type: "string" },
  confirmations: { type: "string" },
  encoding: { type: "string" },
  province: { type: "string" },
  workshops: { type: "string" },
  report: { type: "string" },
  strict: { type: "boolean" },
  json: { type: "boolean" },
} as const;

function summaryJson(result: AnchorJobResult): Record<string, unknown> {
  if (result.status === "invalid") {
    return {
      status: "invalid",
      jobId: result.jobId,
      kind: result.kind,
      period: result.period,
      rowsRead: result.rowsRead,
      validRows: result.validRows,
      issueCount: result.issues.length,
      issues: result.issues,
      elapsedMs: result.elapsedMs,
      ...(result.quarantineReport !== undefined
        ? { quarantineReport: result.quarantineReport }
        : {}),
    };
  }
  const common = {
    status: result.status,
    jobId: result.jobId,
    kind: result.kind,
    period: result.period,
    root: result.root,
    manifestHash: result.manifestHash,
    idempotencyKey: result.idempotencyKey,
    recordCount: result.recordCount,
    total: result.total.toString(),
    supersedes: result.supersedes,
    reason: result.reason,
    elapsedMs: result.elapsedMs,
    quarantined: result.quarantined.map((q) => ({
      list: q.list,
      workshops: q.workshops,
      rows: q.rows,
      rules: [...new Set(q.issues.map((i) => i.rule))],
    })),
    findingCount: result.findings.length,
    scheme: result.v2 !== undefined ? "shafaf-tree/2" : "shafaf-tree/1",
    ...(result.v2?.personKeys !== undefined ? { personKeys: result.v2.personKeys } : {}),
    ...(result.status === "anchored" && result.quarantineReport !== undefined
      ? { quarantineReport: result.quarantineReport }
      : {}),
  };
  if (result.status === "dry-run") return { ...common, byProvince: result.manifest.byProvince };
  return {
    ...common,
    batchId: result.batchId,
    txHash: result.txHash,
    blockNumber: result.blockNumber,
    chainId: result.chainId,
    contract: result.contract,
    resumed: result.resumed,
    alreadyComplete: result.alreadyComplete,
  };
}

function summaryText(result: Exclude<AnchorJobResult, { status: "invalid" }>): string {
  const lines: string[] = [];
  if (result.status === "dry-run") {
    lines.push(
      `dry run: would anchor ${result.kind} ${result.period} (nothing was sent or written)`,
    );
  } else if (result.alreadyComplete) {
    lines.push(
      `already anchored: batch ${result.batchId} (${result.kind} ${result.period}); nothing to do`,
    );
  } else {
    lines.push(
      `anchored batch ${result.batchId} (${result.kind} ${result.period})${result.resumed ? " — resumed" : ""}`,
    );
  }
  lines.push(`  records  ${result.recordCount.toLocaleString("en-US")}`);
  lines.push(`  total    ${formatRials(result.total)} Rials`);
  lines.push(
    `  root     ${result.root} (${result.v2 !== undefined ? "shafaf-tree/2" : "shafaf-tree/1"})`,
  );
  const pk = result.v2?.personKeys;
  if (pk !== undefined)
    lines.push(
      `  people   ${pk.people.toLocaleString("en-US")} (${pk.cached.toLocaleString("en-US")} person keys from the cache, ${pk.enrolled.toLocaleString("en-US")} enrolled)`,
    );
  if (result.status === "anchored")
    lines.push(`  tx       ${result.txHash} (block ${result.blockNumber})`);
  if (result.supersedes !== null)
    lines.push(`  corrects batch ${result.supersedes} (${result.reason})`);
  lines.push(`  job      ${result.jobId}`);
  lines.push(`  time     ${(result.elapsedMs / 1000).toFixed(1)} s`);
  if (result.status === "anchored") {
    lines.push(`receipts: shafaf receipts export --batch ${result.batchId} --out DIR`);
  }
  if (result.findings.length > 0)
    lines.push(
      `findings: ${result.findings.length} discrepancy(ies) recorded in the manifest (nothing refused)`,
    );
  if (result.quarantined.length > 0) {
    const rows = result.quarantined.reduce((n, q) => n + q.rows, 0);
    lines.push(
      `quarantined: ${result.quarantined.length} list(s), ${rows.toLocaleString("en-US")} row(s) not anchored — fix and anchor them as a supplement for ${result.period}`,
    );
    for (const q of result.quarantined.slice(0, 20))
      lines.push(
        `  ${q.list}  ${[...new Set(q.issues.map((i) => i.rule))].join(", ") || "file problem"}`,
      );
    if (result.quarantined.length > 20) lines.push(`  … ${result.quarantined.length - 20} more`);
    if (result.status === "anchored" && result.quarantineReport !== undefined)
      lines.push(`report for the employers: ${result.quarantineReport}`);
  }
  return lines.join("\n");
}

function crashHook(step: AnchorStep): void {
  // Test hook for crash safety: a real SIGKILL of this process at a step boundary.
  if (process.env.SHAFAF_TEST_CRASH_AT === step) process.kill(process.pid, "SIGKILL");
}

export const command: CliCommand = {
  summary: "validate a month's premium or pension files and anchor them, with a receipt per record",
  async run(argv) {
    const parsed = parseCommandLine("anchor", USAGE, argv, OPTIONS);
    if (typeof parsed === "number") return parsed;
    const values: Values = parsed.values;
    const inputs = parsed.positionals;
    let store: LedgerStore | undefined;
    let context: ExplainContext = {};
    let provider: { destroy(): void } | undefined;
    let personKeying: PersonKeying | undefined;
    let ephemeralCache: string | undefined;
    const json = values.json === true;
    const log = createProgressLog({
      stream: process.stderr,
      tty: process.stderr.isTTY === true,
      quiet: json,
    });
    try {
      if (inputs.length === 0) throw new UsageError("give at least one input file or folder");
      if (values.kind !== "premium" && values.kind !== "pension")
        throw new UsageError("--kind must be premium or pension");
      if (values.period === undefined)
        throw new UsageError("--period YYYY-MM is required (e.g. 1403-07)");
      const encoding = values.encoding ?? "auto";
      if (encoding !== "auto" && encoding !== "utf8" && encoding !== "cp1256") {
        throw new UsageError("--encoding must be auto, utf8 or cp1256");
      }
      let supersedes: number | undefined;
      if (values.supersedes !== undefined) {
        if (!/^[1-9][0-9]{0,15}$/.test(values.supersedes))
          throw new UsageError("--supersedes must be a batch id (1, 2, …)");
        supersedes = Number(values.supersedes);
        if (values.reason === undefined)
          throw new UsageError("--supersedes needs --reason CODE (e.g. late-payment)");
      }
      if (values.reason !== undefined) {
        if (supersedes === undefined) throw new UsageError("--reason goes with --supersedes");
        if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/.test(values.reason)) {
          throw new UsageError(
            "--reason must be a short code of letters, digits, . _ - (e.g. late-payment)",
          );
        }
      }
      let confirmations = 1;
      if (values.confirmations !== undefined) {
        if (!/^[1-9][0-9]{0,3}$/.test(values.confirmations))
          throw new UsageError("--confirmations must be 1 or more");
        confirmations = Number(values.confirmations);
      }
      const dryRun = values["dry-run"] === true;
      const dataDir = path.resolve(values["data-dir"] ?? ".shafaf");
      const scheme = values.scheme ?? "2";
      if (scheme !== "1" && scheme !== "2") throw new UsageError("--scheme must be 1 or 2");
      if (scheme === "1" && values["vrf-key"] !== undefined)
        throw new UsageError("--vrf-key is for shafaf-tree/2 batches: drop --scheme 1");
      if (scheme === "2" && values["vrf-key"] === undefined && !dryRun)
        throw new UsageError(
          "a shafaf-tree/2 batch needs the person-key VRF key: --vrf-key FILE " +
            "(make one with `shafaf keys new-vrf`, record it with `shafaf keys register-vrf`), " +
            "or --scheme 1 for the legacy tree",
        );

      let chain;
      if (!dryRun) {
        if (values.rpc === undefined || values.contract === undefined) {
          throw new UsageError("--rpc URL and --contract ADDR are required (or use --dry-run)");
        }
        const spec = await signerSpecFromOptions(values);
        const signer = await connectSigner({ rpcUrl: values.rpc, spec });
        provider = signer.provider;
        const code = (await signer.provider.send("eth_getCode", [
          values.contract,
          "latest",
        ])) as string;
        if (code === "0x") {
          throw new UsageError(
            `there is no contract at ${values.contract} on chain ${signer.chainId}; check --contract`,
          );
        }
        chain = createAnchorChain({
          wallet: signer.wallet,
          provider: signer.provider,
          chainId: signer.chainId,
          address: values.contract,
          rpcUrl: values.rpc,
        });
        context = { account: signer.address, chainId: signer.chainId, rpcUrl: values.rpc };
      }
      const dataKey = await openDataKeyOption(values["data-key"]);
      // The ledger store first: its lock is the data directory's one-writer rule, and its
      // message ("in use by another shafaf process") is the one to see when another writer runs.
      if (!dryRun || existsSync(path.join(dataDir, "ledger")))
        store = await openLedgerStore(dataDir, { dataKey });
      if (values["vrf-key"] !== undefined) {
        ({ keying: personKeying } = await openVrfPersonKeying({
          file: values["vrf-key"],
          dataDir,
          chain,
          dataKey,
        }));
      } else if (scheme === "2") {
        // A dry run without the VRF key: a throwaway key and cache, so the tree and its totals
        // are built as anchoring would build them (the root differs: it depends on the key).
        ephemeralCache = await mkdtemp(path.join(os.tmpdir(), "shafaf-dry-run-keys-"));
        personKeying = await openPersonKeying({
          seed: new Uint8Array(randomBytes(32)),
          cacheDir: ephemeralCache,
        });
        log.info("dry run without --vrf-key: person keys come from a throwaway VRF key");
      }
      let pseudonymKey = await loadPseudonymKey(dataDir, process.env, {
        create: !dryRun,
        dataKey,
      });
      if (pseudonymKey === undefined) pseudonymKey = new Uint8Array(randomBytes(32)); // dry run: a throwaway key

      const result = await runAnchorJob({
        inputs,
        kind: values.kind,
        period: values.period,
        supersedes,
        reason: values.reason,
        dryRun,
        encoding,
        province: values.province,
        workshopProvinces: values.workshops,
        confirmations,
        chain,
        store,
        pseudonymKey,
        personKeying,
        log,
        onStep: crashHook,
        strict: values.strict === true,
        quarantineRoot: path.join(dataDir, "quarantine"),
      });
      log.end();
      if (values.report !== undefined) {
        await writePrivateFile(
          values.report,
          JSON.stringify(validationReport(result), null, 2) + "\n",
        );
      }
      if (json) {
        process.stdout.write(JSON.stringify(summaryJson(result)) + "\n");
      } else if (result.status === "invalid") {
        process.stderr.write(
          `${result.issues.length} problem(s) in ${result.rowsRead.toLocaleString("en-US")} rows; nothing was anchored\n\n` +
            formatIssueTable(result.issues) +
            "\n" +
            (result.quarantineReport !== undefined
              ? `every list has a problem; report for the employers: ${result.quarantineReport}\n`
              : ""),
        );
      } else {
        for (const w of result.warnings) process.stderr.write(`warning: ${w.file}: ${w.message}\n`);
        process.stdout.write(summaryText(result) + "\n");
      }
      return result.status === "invalid" ? EXIT_DATA : 0;
    } catch (error) {
      log.end();
      const explained = explainChainError(error, { ...context, action: "anchoring" });
      const code = reportError("anchor", explained);
      if (explained instanceof ChainTransactionError) {
        process.stderr.write(
          `  the job is kept: run the same command again once that is fixed (with this or another signer); ` +
            `\`shafaf jobs list --data-dir ${values["data-dir"] ?? ".shafaf"} --rpc ${values.rpc ?? "URL"}\` shows it\n`,
        );
      }
      if (error instanceof UsageError) process.stderr.write(USAGE + "\n");
      return code;
    } finally {
      await personKeying?.close();
      if (ephemeralCache !== undefined) await rm(ephemeralCache, { recursive: true, force: true });
      provider?.destroy();
      await store?.close();
    }
  },
};

/** Step names accepted by SHAFAF_TEST_CRASH_AT (for the tests). */
export const CRASH_STEPS = ANCHOR_STEPS;

/**
 * The whole stack the portal runs on, for the browser tests: a fresh development chain with the
 * real TransparencyLedger; CSV batches anchored by the real pipeline (`runAnchorJob`: validation,
 * salted leaves, tree, artifact, receipts in the ledger LevelDB); one batch confirmed and one
 * disputed by an auditor; one correction; the real indexer catching up into the index LevelDB;
 * and the real API app (`createApp`) over both stores, serving the built portal and publishing
 * the chain's RPC URL to browsers. Nothing here runs at import time.
 */
import { Contract, JsonRpcProvider, NonceManager, randomBytes } from "ethers";
import { mkdtempSync, rmSync } from "node:fs";
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createAnchorChain } from "../../src/anchor/anchor-chain.ts";
import { runAnchorJob } from "../../src/anchor/run-anchor-job.ts";
import { createApp } from "../../src/api/create-app.ts";
import { auditBatch } from "../../src/audit/audit-batch.ts";
import { createAuditReportFolder } from "../../src/store/audit-report-folder.ts";
import { loadLedgerArtifact } from "../../src/chain/artifact.ts";
import { deployLedger } from "../../src/chain/deploy-ledger.ts";
import { startDevChain, type DevChain } from "../../src/chain/dev-chain.ts";
import { createRpc } from "../../src/chain/rpc.ts";
import { devWallet } from "../../src/chain/signer.ts";
import { bytesToHex } from "../../src/core/hex.ts";
import { verifyReceipt } from "../../src/core/verify-receipt.ts";
import { createArtifactManifestSource } from "../../src/indexer/artifact-manifest-source.ts";
import { createIndexer } from "../../src/indexer/create-indexer.ts";
import { openIndexStore, type WritableIndexStore } from "../../src/store/index-store.ts";
import { openLedgerStore, type LedgerStore } from "../../src/store/ledger-store.ts";
import {
  PENSION_COLUMNS,
  PREMIUM_COLUMNS,
  pensionRows,
  premiumRows,
  toCsv,
} from "../anchor/helpers.ts";
import { buildOnce, listen, type PortalServer } from "./portal-server.ts";

export interface RealStack {
  chain: DevChain;
  contract: string;
  /**
   * Batch ids as anchored: premium 1403-07, pension 1403-07 (confirmed), pension 1403-08
   * (disputed with an unpublished report, then corrected), pension 1403-09 (disputed by a named
   * auditor whose report is published in `<data-dir>/audits`).
   */
  batches: {
    premium: number;
    pension: number;
    disputed: number;
    correction: number;
    contested: number;
  };
  /** Receipt codes per batch id. */
  codes: Map<number, string[]>;
  ledger: LedgerStore;
  index: WritableIndexStore;
  /** The API app over the stores; `rpcUrl` is what browsers are told to read the chain at. */
  serve(rpcUrl: string): Promise<PortalServer>;
  stop(): Promise<void>;
}

const quietLog = { info() {}, warn() {}, error() {} };

export async function startRealStack(): Promise<RealStack> {
  const chain = await startDevChain();
  const dataDir = mkdtempSync(path.join(tmpdir(), "shafaf-web-stack-"));
  const provider = new JsonRpcProvider(chain.url, 31337, { staticNetwork: true, cacheTimeout: -1 });
  let ledger: LedgerStore | undefined;
  let index: WritableIndexStore | undefined;
  try {
    const admin = new NonceManager(devWallet(0).connect(provider));
    const { address } = await deployLedger({
      signer: admin,
      admin: devWallet(0).address,
      adminDelaySeconds: 0,
      anchorers: [devWallet(1).address],
      auditors: [devWallet(2).address, devWallet(3).address],
      pausers: [],
    });
    ledger = await openLedgerStore(dataDir);
    const anchorChain = createAnchorChain({
      wallet: devWallet(1).connect(provider),
      provider,
      chainId: 31337,
      address,
      pollMs: 50,
    });
    const pseudonymKey = new Uint8Array(randomBytes(32));
    const jobs = new Map<number, string>();
    const anchor = async (
      name: string,
      kind: "premium" | "pension",
      period: string,
      csv: string,
      correction?: { supersedes: number; reason: string },
    ): Promise<number> => {
      const file = path.join(dataDir, name);
      await writeFile(file, csv);
      const result = await runAnchorJob({
        inputs: [file],
        kind,
        period,
        chain: anchorChain,
        store: ledger!,
        pseudonymKey,
        ...(correction ?? {}),
      });
      if (result.status !== "anchored")
        throw new Error(`anchoring ${name}: ${JSON.stringify(result)}`);
      jobs.set(result.batchId, result.jobId);
      return result.batchId;
    };
    const premium = await anchor(
      "premium-07.csv",
      "premium",
      "1403-07",
      toCsv(PREMIUM_COLUMNS, premiumRows(60)),
    );
    const pension = await anchor(
      "pension-07.csv",
      "pension",
      "1403-07",
      toCsv(PENSION_COLUMNS, pensionRows(40)),
    );
    const disputed = await anchor(
      "pension-08.csv",
      "pension",
      "1403-08",
      toCsv(PENSION_COLUMNS, pensionRows(30, { period: "1403-08", prefix: "A" })),
    );
    const late = pensionRows(30, { period: "1403-08", prefix: "A" });
    for (const row of late.slice(0, 5)) row.paid_on = "1403-08-20";
    const correction = await anchor(
      "pension-08-fix.csv",
      "pension",
      "1403-08",
      toCsv(PENSION_COLUMNS, late),
      {
        supersedes: disputed,
        reason: "late-payment",
      },
    );

    const contested = await anchor(
      "pension-09.csv",
      "pension",
      "1403-09",
      toCsv(PENSION_COLUMNS, pensionRows(30, { period: "1403-09", prefix: "B" })),
    );

    const { abi } = await loadLedgerArtifact();
    const auditors = new Map(
      [2, 3].map((n) => [n, new NonceManager(devWallet(n).connect(provider))]),
    );
    const attest = async (
      auditor: number,
      batchId: number,
      verdict: 1 | 2,
      reportHash: string = bytesToHex(randomBytes(32)),
    ): Promise<void> => {
      const contract = new Contract(address, abi, auditors.get(auditor));
      const tx = (await contract.getFunction("attest")(batchId, verdict, reportHash)) as {
        wait(): Promise<unknown>;
      };
      await tx.wait();
    };
    await attest(2, pension, 1);
    await attest(3, pension, 1);
    await attest(2, disputed, 2); // its report is not published on this site
    // The disputing auditor audits an export in which one payment's deductions were raised after
    // anchoring (as the demo's auditor does), and publishes its report in <data-dir>/audits.
    const auditsDir = path.join(dataDir, "audits");
    await mkdir(auditsDir, { recursive: true });
    const lines = (await readFile(path.join(dataDir, "pension-09.csv"), "utf8")).split("\n");
    const header = lines[0]!.split(",");
    const row = lines[3]!.split(",");
    const col = (name: string) => header.indexOf(name);
    const deductions = BigInt(row[col("deductions")]!) + 1_500_000n;
    row[col("deductions")] = String(deductions);
    row[col("net")] = String(BigInt(row[col("gross")]!) - deductions);
    lines[3] = row.join(",");
    const altered = path.join(auditsDir, "export", "pension-09.csv");
    await mkdir(path.dirname(altered), { recursive: true });
    await writeFile(altered, lines.join("\n"));
    const artifactDir = path.join(ledger.batchesDir, jobs.get(contested)!);
    const salts = path.join(auditsDir, "export", "salts.jsonl");
    await copyFile(path.join(artifactDir, "records.jsonl"), salts);
    const audit = await auditBatch({
      batchId: contested,
      audited: { type: "inputs", paths: [altered], salts },
      referenceDir: artifactDir,
    });
    await writeFile(path.join(auditsDir, `batch-${contested}.json`), audit.json);
    await attest(2, contested, 2, audit.reportHash);
    await attest(3, contested, 1);

    index = await openIndexStore(path.join(dataDir, "index"));
    const indexer = createIndexer({
      rpc: createRpc({ url: chain.url }),
      store: index,
      address,
      confirmations: 0,
      manifestSource: createArtifactManifestSource(ledger.batchesDir),
    });
    await indexer.syncOnce();

    const codes = new Map<number, string[]>();
    for (const id of [premium, pension, disputed, correction, contested]) {
      codes.set(
        id,
        (await ledger.listReceiptsOfBatch(id, { limit: 50 })).map((r) => String(r.code)),
      );
    }
    const stores = { ledger, index };
    const { outDir } = await buildOnce();
    return {
      chain,
      contract: address.toLowerCase(),
      batches: { premium, pension, disputed, correction, contested },
      codes,
      ledger,
      index,
      async serve(rpcUrl: string): Promise<PortalServer> {
        const { app } = createApp({
          index: stores.index,
          ledger: stores.ledger,
          verify: verifyReceipt,
          apiKeys: [],
          log: quietLog,
          webRoot: outDir,
          rateLimit: false,
          rpcUrlForBrowsers: rpcUrl,
          auditReports: createAuditReportFolder(path.join(dataDir, "audits")),
          // Governance names auditor 2; auditor 3 stays unnamed (shown by its address).
          accountNames: {
            [devWallet(2).address.toLowerCase()]: {
              fa: "دیوان محاسبات",
              en: "Supreme Audit Court",
            },
            [devWallet(1).address.toLowerCase()]: {
              fa: "معاونت مالی سازمان تأمین اجتماعی",
              en: "SSO finance department",
            },
          },
        });
        return listen(app);
      },
      async stop() {
        provider.destroy();
        await stores.index.close();
        await stores.ledger.close();
        await chain.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    provider.destroy();
    await index?.close();
    await ledger?.close();
    await chain.stop();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

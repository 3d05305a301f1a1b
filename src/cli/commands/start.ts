/**
 * `npm start` (`shafaf start`): the whole system on the embedded default — a fresh development
 * chain, the ledger with a demo finance key and a demo auditor key, a year of synthetic data
 * anchored through the same pipeline as `shafaf anchor`, part of it audited and attested, the
 * indexer, the API and the portal. Ctrl-C stops everything.
 */
import { randomInt } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { CliCommand } from "../command.ts";
import { parseCommandLine, usageError } from "../parse-command-line.ts";
import { reportError, UsageError } from "../command-support.ts";
import { createApiKey } from "../../api/api-keys.ts";
import { parseTrustPolicy, verifyCheckpointPolicy } from "../../core/tlog-policy.ts";
import { startDevChain, type DevChain } from "../../chain/dev-chain.ts";
import { openIndexStore, type WritableIndexStore } from "../../store/index-store.ts";
import { openLedgerStore, type LedgerStore, type StoredReceipt } from "../../store/ledger-store.ts";
import { buildWeb } from "../build-web.ts";
import { auditAndAttestDemo, DEMO_AUDITED_MONTHS, type DemoAudit } from "../demo-audit.ts";
import {
  freshDir,
  pickDemoHistoryPersons,
  seedDemo,
  writeDemoPersonProofs,
  type SeededDemo,
  demoDataKey,
} from "../demo.ts";
import { startDemoLog, type DemoLog } from "../demo-log.ts";
import { personKeyProver, startServeStack, type ServeStack } from "../serve-stack.ts";

const USAGE = `usage: npm start [-- options]      (or: shafaf start [options])

Starts the embedded development chain, deploys the ledger, anchors a year of synthetic premium
and pension data (SSO DBF lists and CSV) with corrections, audits and attests part of it, and
serves the API and the portal on http://127.0.0.1:8080 (PORT overrides). Ctrl-C stops it.

  --port N        port (default: $PORT or 8080; 0 picks a free one)
  --host HOST     address to listen on (default 127.0.0.1)
  --seed N        seed of the synthetic data (default 1403)
  --scale X       size of the synthetic data: 1 ≈ 2,000 workshops and 600 pension cases
                  (default 1; 0.05 for a quick look, 2 or more for a bigger demo)
  --data-dir DIR  where the demo keeps its files (default .shafaf/demo)`;

const OPTIONS = {
  port: { type: "string" },
  host: { type: "string" },
  seed: { type: "string" },
  scale: { type: "string" },
  "data-dir": { type: "string" },
} as const;

function number(
  name: string,
  text: string | undefined,
  fallback: number,
  ok: (n: number) => boolean,
): number {
  if (text === undefined || text === "") return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || !ok(n))
    throw new UsageError(`--${name} ${JSON.stringify(text)} is not valid`);
  return n;
}

/** Human-readable lines on stderr for warnings and errors only: the demo's console stays calm. */
function quietLog() {
  const write = (level: string, event: string, fields: Record<string, unknown> = {}) => {
    if (level === "info") return;
    process.stderr.write(`[${level}] ${event} ${JSON.stringify(fields)}\n`);
  };
  return {
    info: (event: string, fields?: Record<string, unknown>) => write("info", event, fields),
    warn: (event: string, fields?: Record<string, unknown>) => write("warn", event, fields),
    error: (event: string, fields?: Record<string, unknown>) => write("error", event, fields),
    line: (level: string, message: string) => write(level, message),
  };
}

const NEW_CHAIN = new Set([
  "indexer.genesis-mismatch",
  "indexer.chain-mismatch",
  "indexer.contract-mismatch",
]);

export const command: CliCommand = {
  summary: "run the whole system on the embedded chain with demo data (npm start)",
  async run(argv) {
    const parsed = parseCommandLine("start", USAGE, argv, OPTIONS);
    if (typeof parsed === "number") return parsed;
    const { values } = parsed;
    if (parsed.positionals.length > 0)
      return usageError("start", USAGE, `unexpected argument "${parsed.positionals[0]}"`);
    const say = (line: string) => process.stdout.write(line + "\n");
    let chain: DevChain | undefined;
    let ledger: LedgerStore | undefined;
    let index: WritableIndexStore | undefined;
    let stack: ServeStack | undefined;
    let demoLog: DemoLog | undefined;
    let stopRequested = false;
    const onSignal = () => {
      stopRequested = true;
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    try {
      const port = number(
        "port",
        values.port ?? process.env.PORT,
        8080,
        (n) => Number.isInteger(n) && n >= 0 && n < 65_536,
      );
      const host = values.host ?? "127.0.0.1";
      const seed = number(
        "seed",
        values.seed,
        1403,
        (n) => Number.isInteger(n) && n >= 0 && n < 2 ** 32,
      );
      const scale = number("scale", values.scale, 1, (n) => n > 0 && n <= 50);
      const demoDir = path.resolve(values["data-dir"] ?? ".shafaf/demo");
      const runDir = path.join(demoDir, "run");
      const started = performance.now();
      const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;

      say("Shafaf — شفاف: starting the embedded chain (Hardhat, 127.0.0.1) …");
      chain = await startDevChain();
      say(`  chain ${chain.chainId} at ${chain.url}`);

      // The chain is new every start, so is this run's ledger store; the index is kept to show
      // that the indexer notices the new chain.
      await freshDir(runDir);
      // Personal data at rest is sealed with the demo's data key, as `--data-key` does.
      ledger = await openLedgerStore(runDir, { dataKey: await demoDataKey(demoDir) });
      const seeded = await seedDemo({
        chainUrl: chain.url,
        demoDir,
        store: ledger,
        runDir,
        seed,
        scale,
        log: (l) => say(`  ${l}`),
      });
      if (stopRequested) return 130;

      say("auditing and attesting …");
      const audits = await auditAndAttestDemo({
        seeded,
        store: ledger,
        runDir,
        chainUrl: chain.url,
        log: (l) => say(`  ${l}`),
      });

      const personProofs = await writeDemoPersonProofs(
        ledger,
        seeded,
        path.join(runDir, "person-proofs"),
      );

      const historyPersons = await pickDemoHistoryPersons(ledger, seeded);
      const demoLoginCode = String(randomInt(0, 1_000_000)).padStart(6, "0");

      say("building the portal …");
      await buildWeb({});

      await mkdir(demoDir, { recursive: true });
      const indexStore = await openIndexStore(path.join(demoDir, "index"));
      index = indexStore;
      const ledgerStore = ledger;
      demoLog = await startDemoLog({
        dir: path.join(runDir, "ledger-log"),
        processes: true, // each institution's witness is its own `shafaf witness` process
        chain: { url: chain.url, contract: seeded.contract },
      });
      const demoKey = createApiKey("demo-finance", ["anchor", "subjects:read"]);
      stack = await startServeStack({
        rpcUrls: [chain.url],
        contract: seeded.contract,
        host,
        port,
        dataDir: runDir,
        confirmations: 0,
        index: indexStore,
        ledger: ledgerStore,
        apiKeys: [demoKey.entry],
        rateLimit: { capacity: 600, refillPerSecond: 100 },
        trustProxy: 0,
        publicRpc: chain.url,
        log: quietLog(),
        ledgerLog: demoLog,
        persons: { personKey: personKeyProver(seeded.vrfSeed), demoLoginCode },
      });
      ledger = undefined;
      index = undefined; // the stack owns the stores now
      say("indexing …");
      try {
        await stack.indexer.syncOnce();
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === undefined || !NEW_CHAIN.has(code)) throw error;
        // The index of an earlier start was built on an earlier embedded chain: the indexer
        // refuses to mix histories, and the demo starts its index over.
        say(
          "  the index belongs to an earlier chain (the embedded chain is new each start): rebuilding it",
        );
        await indexStore.clear();
        await stack.indexer.syncOnce();
      }

      await stack.ledgerLog?.sync();
      const logged = stack.ledgerLog?.last;
      // Counted on the served note, under the policy a verifier uses.
      const served = verifyCheckpointPolicy(
        logged?.checkpoint ?? "",
        parseTrustPolicy(await readFile(demoLog.policyFile, "utf8"), demoLog.policyFile),
      );
      const cosigned = served.ok ? served.cosigners.length : 0;
      const codes = await sampleCodes(ledgerStore, seeded, audits);
      say("");
      say(`ready in ${elapsed()}: ${seeded.batches.length} batches anchored, indexed and served`);
      say("");
      say(`  portal        ${stack.url}/`);
      say(`  API           ${stack.url}/api/v1  (OpenAPI: ${stack.url}/api/v1/openapi.json)`);
      say(`  chain RPC     ${chain.url}  (contract ${seeded.contract})`);
      say(`  staff key     ${demoKey.token}  (demo only: POST /api/v1/batches, x-api-key header)`);
      say("");
      say("  sample receipt codes (“check my receipt” in the portal):");
      for (const c of codes) say(`    ${c.code}   ${c.what}`);
      say(
        `  verify one without the server: npx shafaf verify <code> --api ${stack.url} --rpc ${chain.url}`,
      );
      if (personProofs.length > 0) {
        say("");
        say("  person proofs (what `shafaf person prove` gives a worker for one month):");
        for (const p of personProofs)
          say(
            `    ${p.file}  ${p.type === "range" ? (p.records === 1 ? `the only record of one worker in batch ${p.batchId}` : `all ${p.records} records of one worker in batch ${p.batchId}`) : `a person with no record in batch ${p.batchId}`}`,
          );
        say(`  verify one: npx shafaf verify <file> --rpc ${chain.url}`);
      }
      say("");
      say(`  my insurance history (${stack.url}/#/history): one-time code ${demoLoginCode}`);
      if (historyPersons.complete !== undefined)
        say(`    ${historyPersons.complete}   a worker recorded every month of the year`);
      if (historyPersons.missing !== undefined)
        say(
          `    ${historyPersons.missing.personId}   a worker with ${historyPersons.missing.missingPeriods.length} month(s) not recorded (${historyPersons.missing.missingPeriods.join(", ")})`,
        );
      if (historyPersons.pensioner !== undefined)
        say(`    ${historyPersons.pensioner}   a pensioner paid every month`);
      say("");
      say(
        `  ledger log    ${stack.url}/log/checkpoint  (${logged?.size ?? 0} batches, cosigned by ${cosigned} of ${demoLog.witnesses.length} witnesses)`,
      );
      if (logged?.onChain !== undefined && logged.onChain.status !== "chain-ahead")
        say(
          `                recorded on the ledger at size ${logged.onChain.size} (logCheckpoint()): npx shafaf log verify --rpc ${chain.url} --contract ${seeded.contract} --log-dir ${demoLog.log.dir}`,
        );
      say(`  trust policy  ${demoLog.policyFile}  (its SHA-256 is on the ledger: trustPolicy())`);
      say(
        `  prove a batch offline: npx shafaf log proof --log-dir ${demoLog.log.dir} --batch 1 --out batch-1`,
      );
      say(
        `                         npx shafaf verify-proof --policy ${demoLog.policyFile} --entry batch-1.entry batch-1.tlog-proof`,
      );
      say("");
      say("Ctrl-C stops everything.");

      const following = stack.follow();
      await new Promise<void>((resolve) => {
        if (stopRequested) return resolve();
        process.once("SIGINT", () => resolve());
        process.once("SIGTERM", () => resolve());
        void following.then(
          () => resolve(),
          () => resolve(),
        );
      });
      say("stopping …");
      await stack.close();
      await following.catch((error: unknown) => {
        throw error;
      });
      return 0;
    } catch (error) {
      const code = reportError("start", error, USAGE);
      return code;
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      await stack?.close().catch(() => undefined);
      await demoLog?.close().catch(() => undefined);
      await ledger?.close().catch(() => undefined);
      await index?.close().catch(() => undefined);
      await chain?.stop();
    }
  },
};

/** A few receipts worth trying: ordinary, a survivor's pension, superseded, disputed. */
async function sampleCodes(
  store: LedgerStore,
  seeded: SeededDemo,
  audits: readonly DemoAudit[],
): Promise<{ code: string; what: string }[]> {
  const out: { code: string; what: string }[] = [];
  const first = async (batchId: number, what: string, pick?: (r: StoredReceipt) => boolean) => {
    const receipts = await store.listReceiptsOfBatch(batchId, { limit: 400 });
    const chosen = pick === undefined ? receipts[0] : receipts.find(pick);
    const code = chosen?.["code"];
    if (typeof code === "string") out.push({ code, what });
  };
  const batch = (kind: string, period: string, current = true) =>
    seeded.batches.find(
      (b) => b.kind === kind && b.period === period && (current ? true : b.supersedes === null),
    );
  const disputed = audits.find((a) => a.verdict === "disputed");
  const confirmed = audits.find((a) => a.verdict === "confirmed");
  const unaudited = seeded.batches.find(
    (b) => b.kind === "premium" && Number(b.period.slice(5, 7)) > DEMO_AUDITED_MONTHS,
  );
  if (confirmed !== undefined)
    await first(confirmed.batchId, `premium, batch ${confirmed.batchId}: anchored and attested`);
  const survivors = batch("pension", seeded.batches.find((b) => b.kind === "pension")!.period);
  if (survivors !== undefined)
    await first(
      survivors.batchId,
      `a survivor's pension, batch ${survivors.batchId}`,
      (r) => (r["record"] as { category?: string } | undefined)?.category === "survivors",
    );
  const corrected = seeded.batches.find((b) => b.supersedes !== null);
  if (corrected?.supersedes != null)
    await first(
      corrected.supersedes,
      `batch ${corrected.supersedes}: superseded by batch ${corrected.batchId}`,
    );
  if (disputed !== undefined)
    await first(disputed.batchId, `pension, batch ${disputed.batchId}: disputed by the auditor`);
  if (unaudited !== undefined)
    await first(
      unaudited.batchId,
      `premium, batch ${unaudited.batchId}: anchored, not audited yet`,
    );
  return out;
}

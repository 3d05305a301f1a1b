/**
 * A demo-like stack for "My insurance history": a fresh development chain with the real
 * TransparencyLedger and a registered person-key VRF key; six months of premiums anchored by the
 * real pipeline as `shafaf-tree/2` batches (person keys from the VRF), month 1403-04 corrected
 * by a later batch; the real indexer; and the real API app with the person endpoints (the VRF
 * key held, the demo login enabled, a witnessed ledger log for the log bundles), serving the built portal and the chain's RPC to browsers.
 *
 * Persons: `complete` is in every month; `missing` is in every month but 1403-03 and 1403-05;
 * `pensioner` is paid in both pension months (1403-01, 1403-02).
 */
import { JsonRpcProvider, NonceManager } from "ethers";
import { mkdtempSync, rmSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createAnchorChain } from "../../src/anchor/anchor-chain.ts";
import { openPersonKeying } from "../../src/anchor/person-keying.ts";
import { runAnchorJob } from "../../src/anchor/run-anchor-job.ts";
import { createApiKey, type ApiKeyEntry } from "../../src/api/api-keys.ts";
import { createApp } from "../../src/api/create-app.ts";
import type { RateLimitOptions } from "../../src/api/rate-limit.ts";
import { deployLedger } from "../../src/chain/deploy-ledger.ts";
import { startDevChain, type DevChain } from "../../src/chain/dev-chain.ts";
import { registerVrfKey } from "../../src/chain/register-vrf-key.ts";
import { createRpc } from "../../src/chain/rpc.ts";
import { devWallet } from "../../src/chain/signer.ts";
import { formatHistoryKey } from "../../src/core/history-key.ts";
import { personVrfInput } from "../../src/core/person-key.ts";
import { vrfProve, vrfSecretKey } from "../../src/core/vrf.ts";
import { verifyDocument } from "../../src/core/verify-document.ts";
import { personKeyProver } from "../../src/cli/serve-stack.ts";
import { createArtifactManifestSource } from "../../src/indexer/artifact-manifest-source.ts";
import { createIndexer } from "../../src/indexer/create-indexer.ts";
import { openIndexStore, type WritableIndexStore } from "../../src/store/index-store.ts";
import { openLedgerStore, type LedgerStore } from "../../src/store/ledger-store.ts";
import type { PersonBatchMaterial } from "../../src/store/receipt-assembler.ts";
import {
  PENSION_COLUMNS,
  PREMIUM_COLUMNS,
  nationalIdFor,
  pensionRows,
  premiumRows,
  toCsv,
} from "../anchor/helpers.ts";
import { formatCheckpoint } from "../../src/core/checkpoint.ts";
import { ledgerLogEntry } from "../../src/core/ledger-log-entry.ts";
import {
  cosignatureV1Signer,
  ed25519NoteSigner,
  ed25519PublicKey,
  formatVerifierKey,
  signNote,
  SIG_TYPE_COSIGNATURE_V1,
  SIG_TYPE_ED25519,
} from "../../src/core/signed-note.ts";
import { parseTrustPolicy } from "../../src/core/tlog-policy.ts";
import { indexedLogBatches } from "../../src/cli/ledger-log-follower.ts";
import { createLogBundleSource } from "../../src/log/log-bundle-source.ts";
import { openTiledLog } from "../../src/log/tiled-log.ts";
import { buildOnce, listen, type PortalServer } from "./portal-server.ts";

export const HISTORY_PERIODS = ["1403-01", "1403-02", "1403-03", "1403-04", "1403-05", "1403-06"];
export const MISSING_PERIODS = ["1403-03", "1403-05"];
export const DEMO_CODE = "246810";
export const PENSION_PERIODS = ["1403-01", "1403-02"];

export interface HistoryStack {
  chain: DevChain;
  contract: string;
  dataDir: string;
  /** The trust policy of the stack's witnessed ledger log (for `shafaf verify --policy`). */
  policyFile: string;
  vrfSeed: Uint8Array;
  vrfPublicKey: Uint8Array;
  persons: { complete: string; missing: string; pensioner: string };
  /** Batch ids by period (the current one), and the corrected month's original. */
  batches: Map<string, number>;
  /** Pension batch ids by period. */
  pensionBatches: Map<string, number>;
  corrected: { original: number; correction: number; period: string };
  /** A staff key with the `persons:key` scope, and one without. */
  keys: { persons: string; anchor: string; entries: ApiKeyEntry[] };
  ledger: LedgerStore;
  index: WritableIndexStore;
  serve(options?: {
    rateLimit?: RateLimitOptions | false;
    log?: {
      info(e: string, f?: object): void;
      warn(e: string, f?: object): void;
      error(e: string, f?: object): void;
    };
    demoLoginCode?: string;
    vrfKey?: boolean;
    /** Changes what the server answers for a batch (a lying or broken server). */
    tamper?: (batchId: number, material: PersonBatchMaterial) => PersonBatchMaterial;
  }): Promise<PortalServer>;
  stop(): Promise<void>;
}

const quietLog = { info() {}, warn() {}, error() {} };

export async function startHistoryStack(): Promise<HistoryStack> {
  const chain = await startDevChain();
  const dataDir = mkdtempSync(path.join(tmpdir(), "shafaf-history-"));
  const provider = new JsonRpcProvider(chain.url, 31337, { staticNetwork: true, cacheTimeout: -1 });
  const vrfSeed = new Uint8Array(32).fill(42);
  const vrfPublicKey = vrfSecretKey(vrfSeed).publicKey;
  const admin = new NonceManager(devWallet(0).connect(provider));
  const { address } = await deployLedger({
    signer: admin,
    admin: devWallet(0).address,
    adminDelaySeconds: 0,
    anchorers: [devWallet(1).address],
    auditors: [devWallet(2).address],
    pausers: [],
    vrfRegistrars: [devWallet(0).address],
  });
  await registerVrfKey({
    wallet: devWallet(0).connect(provider),
    address,
    publicKey: vrfPublicKey,
  });
  const ledger = await openLedgerStore(dataDir);
  const personKeying = await openPersonKeying({
    seed: vrfSeed,
    cacheDir: path.join(dataDir, "person-keys"),
  });
  const anchorChain = createAnchorChain({
    wallet: devWallet(1).connect(provider),
    provider,
    chainId: 31337,
    address,
    pollMs: 50,
  });
  const pseudonymKey = new Uint8Array(32).fill(9);
  const batches = new Map<string, number>();
  const pensionBatches = new Map<string, number>();
  const anchor = async (
    period: string,
    rows: ReturnType<typeof premiumRows>,
    correction?: { supersedes: number; reason: string },
  ): Promise<number> => {
    const file = path.join(dataDir, `premium-${period}${correction ? "-fix" : ""}.csv`);
    await writeFile(file, toCsv(PREMIUM_COLUMNS, rows));
    const result = await runAnchorJob({
      inputs: [file],
      kind: "premium",
      period,
      chain: anchorChain,
      store: ledger,
      pseudonymKey,
      personKeying,
      ...(correction ?? {}),
    });
    if (result.status !== "anchored") throw new Error(`anchoring ${period}: ${result.status}`);
    return result.batchId;
  };
  // Row n is the person nationalIdFor(n + 1): row 0 works every month, row 1 not in MISSING_PERIODS.
  const monthRows = (period: string) =>
    premiumRows(24, { period, prefix: `P${period}` }).filter(
      (_, n) => !(n === 1 && MISSING_PERIODS.includes(period)),
    );
  let corrected: HistoryStack["corrected"];
  try {
    for (const period of HISTORY_PERIODS)
      batches.set(period, await anchor(period, monthRows(period)));
    const original = batches.get("1403-04")!;
    const fixed = monthRows("1403-04");
    fixed[0]!.days = "29";
    const correction = await anchor("1403-04", fixed, {
      supersedes: original,
      reason: "wage-correction",
    });
    batches.set("1403-04", correction);
    corrected = { original, correction, period: "1403-04" };
    // Two months of pensions: the pensioner (pensionRows' first, a retirement pension) in both.
    for (const period of PENSION_PERIODS) {
      const file = path.join(dataDir, `pension-${period}.csv`);
      await writeFile(
        file,
        toCsv(PENSION_COLUMNS, pensionRows(9, { period, prefix: `N${period}` })),
      );
      const r = await runAnchorJob({
        inputs: [file],
        kind: "pension",
        period,
        chain: anchorChain,
        store: ledger,
        pseudonymKey,
        personKeying,
      });
      if (r.status !== "anchored") throw new Error(`anchoring pensions ${period}: ${r.status}`);
      pensionBatches.set(period, r.batchId);
    }
  } finally {
    await personKeying.close();
  }
  const index = await openIndexStore(path.join(dataDir, "index"));
  const indexer = createIndexer({
    rpc: createRpc({ url: chain.url }),
    store: index,
    address,
    confirmations: 0,
    manifestSource: createArtifactManifestSource(ledger.batchesDir),
  });
  await indexer.syncOnce();
  // The witnessed ledger log: every batch logged, the checkpoint signed and cosigned by one
  // witness (quorum 1), so that a person proof leaves with its batch's log bundle.
  const origin = "sso.example/ledger-log";
  const logSeed = new Uint8Array(32).fill(3);
  const witnessSeed = new Uint8Array(32).fill(4);
  const witnessName = "workers.example/witness";
  const logSigner = ed25519NoteSigner(origin, logSeed);
  const tiled = await openTiledLog({ dir: path.join(dataDir, "log"), origin, signer: logSigner });
  const logBatches = (await indexedLogBatches(index)).sort((a, b) => a.batchId - b.batchId);
  await tiled.append(logBatches.map(ledgerLogEntry));
  await tiled.publishCheckpoint(
    signNote(
      formatCheckpoint({ origin, size: tiled.size(), rootHash: tiled.rootHash(), extensions: [] }),
      [logSigner, cosignatureV1Signer(witnessName, witnessSeed)],
    ),
  );
  const policyText = [
    `log ${formatVerifierKey(origin, SIG_TYPE_ED25519, ed25519PublicKey(logSeed))}`,
    `witness workers ${formatVerifierKey(witnessName, SIG_TYPE_COSIGNATURE_V1, ed25519PublicKey(witnessSeed))}`,
    "quorum workers",
    "",
  ].join("\n");
  const policyFile = path.join(dataDir, "trust-policy.txt");
  await writeFile(policyFile, policyText);
  const logBundle = createLogBundleSource({ log: tiled, policy: parseTrustPolicy(policyText) });
  const personsKey = createApiKey("sign-in", ["persons:key"]);
  const anchorKey = createApiKey("payroll", ["anchor"]);
  const { outDir } = await buildOnce();
  return {
    chain,
    contract: address.toLowerCase(),
    dataDir,
    policyFile,
    vrfSeed,
    vrfPublicKey,
    persons: {
      complete: nationalIdFor(1),
      missing: nationalIdFor(2),
      pensioner: nationalIdFor(500),
    },
    batches,
    pensionBatches,
    corrected,
    keys: {
      persons: personsKey.token,
      anchor: anchorKey.token,
      entries: [personsKey.entry, anchorKey.entry],
    },
    ledger,
    index,
    async serve(options = {}) {
      const tamper = options.tamper;
      const served =
        tamper === undefined
          ? ledger
          : Object.assign(Object.create(ledger) as LedgerStore, {
              getPersonBatch: async (batchId: number, key: Uint8Array) => {
                const m = await ledger.getPersonBatch(batchId, key);
                return m === undefined ? undefined : tamper(batchId, m);
              },
            });
      const { app } = createApp({
        index,
        ledger: served,
        verify: verifyDocument,
        apiKeys: [personsKey.entry, anchorKey.entry],
        log: options.log ?? quietLog,
        webRoot: outDir,
        rateLimit: options.rateLimit ?? false,
        rpcUrlForBrowsers: chain.url,
        logBundle,
        trustPolicy: policyText,
        persons: {
          ...(options.vrfKey === false ? {} : { personKey: personKeyProver(vrfSeed) }),
          demoLoginCode: options.demoLoginCode ?? DEMO_CODE,
        },
      });
      return listen(app);
    },
    async stop() {
      provider.destroy();
      await index.close();
      await ledger.close();
      await chain.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The printed history key (docs/spec/history-key-v1.md) of one of the stack's persons, computed
 * here from the stack's VRF seed, independently of the portal.
 */
export function historyKeyOf(stack: HistoryStack, personId: string): string {
  const pi = vrfProve(vrfSecretKey(stack.vrfSeed), personVrfInput(personId));
  return formatHistoryKey({ personId, proof: pi });
}

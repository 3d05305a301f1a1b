/**
 * A demo-like stack for "My insurance history": a fresh development chain with the real
 * TransparencyLedger and a registered person-key VRF key; six months of premiums anchored by the
 * real pipeline as `shafaf-tree/2` batches (person keys from the VRF), month 1403-04 corrected
 * by a later batch; the real indexer; and the real API app with the person endpoints (the VRF
 * key held, the demo login enabled, a witnessed ledger log for the log bundles), serving the built portal and the chain's RPC to browsers.
 *
 * The year before holds one month, 1402-12, with the same workers: anchored first (batch 1), and
 * corrected by the very last batch.
 *
 * Persons: `complete` is in every month; `missing` is in every month but 1403-03 and 1403-05;
 * `pensioner` is paid in both pension months (1403-01, 1403-02); `foreign` is a foreign worker
 * (identified by their foreign national code, `foreign:<12 digits>`) in every month; `survivors`
 * are the three beneficiaries of one survivors' pension file, each paid their own share in both
 * pension months (separate records, each under its beneficiary's national ID).
 *
 * `{ fixture: "decade" }` instead: ten Jalali years (1394–1403) of monthly premium and pension
 * batches (240), the same `complete` and `pensioner` in every one, nothing corrected or missing —
 * the benchmark of `npm run bench -- history`.
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
  type Row,
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
/** One month of the year before, anchored first: everyone of HISTORY_PERIODS is in it. */
export const EARLIER_PERIOD = "1402-12";
export const DEMO_CODE = "246810";
export const PENSION_PERIODS = ["1403-01", "1403-02"];
/** The foreign worker's foreign national code (کد فراگیر اتباع). */
export const FOREIGN_CODE = "409876543210";
/** The survivors' pension file and each beneficiary's net payment (Rials). */
export const SURVIVORS = {
  pensionFile: "790001",
  nets: [61_000_000n, 42_000_000n, 27_000_000n],
};
/** The decade fixture's years. */
export const DECADE_YEARS = Array.from({ length: 10 }, (_, i) => 1394 + i);

export interface HistoryStack {
  chain: DevChain;
  contract: string;
  dataDir: string;
  /** The trust policy of the stack's witnessed ledger log (for `shafaf verify --policy`). */
  policyFile: string;
  vrfSeed: Uint8Array;
  vrfPublicKey: Uint8Array;
  persons: {
    complete: string;
    missing: string;
    pensioner: string;
    /** `foreign:<FOREIGN_CODE>` (absent from the decade fixture's batches). */
    foreign: string;
    /** The three beneficiaries of the survivors' pension, in SURVIVORS.nets order. */
    survivors: string[];
  };
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

/** Premium rows for the foreign worker of `period`: no national ID, their foreign code. */
function foreignRows(period: string): Row[] {
  // Row index 30: not covered by unemployment insurance (premiumRows covers n % 3 !== 0).
  return premiumRows(1, { period, prefix: `F${period}`, start: 30 }).map((r) => ({
    ...r,
    national_id: "",
    foreign_id: FOREIGN_CODE,
    nationality: "افغانی",
  }));
}

/** The survivors' pension rows of `period`: one file, three beneficiaries, each their own share. */
function survivorRows(period: string) {
  return SURVIVORS.nets.map((net, k) => ({
    record_id: `S${period}-${k}`,
    period,
    national_id: nationalIdFor(600 + k),
    pension_file: SURVIVORS.pensionFile,
    category: "survivors",
    province: "IR-23",
    gross: (net + 1_000_000n).toString(),
    deductions: "1000000",
    net: net.toString(),
    due_on: `${period}-01`,
    paid_on: `${period}-01`,
  }));
}

export async function startHistoryStack(
  options: { fixture?: "half-year" | "decade" } = {},
): Promise<HistoryStack> {
  const decade = options.fixture === "decade";
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
    await writeFile(file, toCsv([...PREMIUM_COLUMNS, "foreign_id", "nationality"], rows));
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
  let corrected: HistoryStack["corrected"] | undefined;
  const anchorPensions = async (period: string, rows: ReturnType<typeof pensionRows>) => {
    const file = path.join(dataDir, `pension-${period}.csv`);
    await writeFile(file, toCsv(PENSION_COLUMNS, rows));
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
  };
  try {
    if (decade) {
      // Small months (4 workers, 2 pensioners): what is measured is the person's side.
      for (const year of DECADE_YEARS)
        for (let m = 1; m <= 12; m++) {
          const period = `${year}-${String(m).padStart(2, "0")}`;
          batches.set(
            period,
            await anchor(period, premiumRows(4, { period, prefix: `P${period}` })),
          );
          await anchorPensions(period, pensionRows(2, { period, prefix: `N${period}` }));
        }
    } else await anchorHalfYear();
  } finally {
    await personKeying.close();
  }
  async function anchorHalfYear() {
    // First, the last month of the year before (batch 1): the timeline then has two years, the
    // earlier one checked only when opened.
    batches.set(
      EARLIER_PERIOD,
      await anchor(EARLIER_PERIOD, [...monthRows(EARLIER_PERIOD), ...foreignRows(EARLIER_PERIOD)]),
    );
    for (const period of HISTORY_PERIODS)
      batches.set(period, await anchor(period, [...monthRows(period), ...foreignRows(period)]));
    const original = batches.get("1403-04")!;
    const fixed = [...monthRows("1403-04"), ...foreignRows("1403-04")];
    fixed[0]!.days = "29";
    const correction = await anchor("1403-04", fixed, {
      supersedes: original,
      reason: "wage-correction",
    });
    batches.set("1403-04", correction);
    corrected = { original, correction, period: "1403-04" };
    // Two months of pensions: the pensioner (pensionRows' first, a retirement pension) in both,
    // and the three beneficiaries of one survivors' pension.
    for (const period of PENSION_PERIODS)
      await anchorPensions(period, [
        ...pensionRows(9, { period, prefix: `N${period}` }),
        ...survivorRows(period),
      ]);
    // Last, a correction of the year before's month (the same records, one worker's days fixed):
    // the latest batch is of 1402, yet 1403 holds batches — the timeline must still list it.
    const earlier = [...monthRows(EARLIER_PERIOD), ...foreignRows(EARLIER_PERIOD)];
    earlier[2]!.days = "28";
    batches.set(
      EARLIER_PERIOD,
      await anchor(EARLIER_PERIOD, earlier, {
        supersedes: batches.get(EARLIER_PERIOD)!,
        reason: "wage-correction",
      }),
    );
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
      foreign: `foreign:${FOREIGN_CODE}`,
      survivors: SURVIVORS.nets.map((_, k) => nationalIdFor(600 + k)),
    },
    batches,
    pensionBatches,
    corrected: corrected ?? { original: 0, correction: 0, period: "" },
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

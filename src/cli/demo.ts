/**
 * The demo behind `npm start`: on a fresh development chain, deploys the ledger with a demo
 * finance key and a demo auditor key, writes a year of realistic synthetic inputs (DBF insurance
 * lists and pension CSVs), anchors every month through the same pipeline as `shafaf anchor`,
 * anchors a few corrections, and audits and attests part of it with the same code as
 * `shafaf audit` / `shafaf attest`.
 */
import { InvariantError } from "../core/errors.ts";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { createAnchorChain, type AnchorChain } from "../anchor/anchor-chain.ts";
import { loadPseudonymKey } from "../anchor/pseudonym-key.ts";
import { runAnchorJob, type AnchorJobResult } from "../anchor/run-anchor-job.ts";
import { deployLedger } from "../chain/deploy-ledger.ts";
import { registerVrfKey } from "../chain/register-vrf-key.ts";
import { openPersonKeying, type PersonKeying } from "../anchor/person-keying.ts";
import { vrfSecretKey } from "../core/vrf.ts";
import { provePerson } from "../anchor/prove-person.ts";
import { readBatchArtifact } from "../store/batch-artifact.ts";
import { connectSigner, type ConnectedSigner } from "../chain/signer.ts";
import type { RecordKind } from "../core/record.ts";
import { writeDemoInputs, type DemoInputs } from "../demo/demo-inputs.ts";
import type { LedgerStore } from "../store/ledger-store.ts";
import { dataKeyOf, type DataKey } from "../store/private-store.ts";
import { loadDataKeystore, newDataKeystore } from "../chain/data-keystore.ts";
import { writeKeystoreFile } from "../chain/keystore.ts";

/** Bumped whenever the generated inputs change, so that a cached copy is not reused. */
const DEMO_INPUTS_VERSION = 2;

/** Well-known development accounts (chain 31337 only) and what they play in the demo. */
export const DEMO_ACCOUNTS = { admin: "dev:0", finance: "dev:1", auditor: "dev:2" } as const;

export interface SeedDemoOptions {
  chainUrl: string;
  /** Holds the cached inputs (`inputs-…/`) and this run's stores (`run/`). */
  demoDir: string;
  /** The ledger store of this run (opened by the caller on `runDir`). */
  store: LedgerStore;
  runDir: string;
  seed: number;
  scale: number;
  log: (line: string) => void;
}

export interface DemoBatch {
  kind: RecordKind;
  period: string;
  batchId: number;
  recordCount: number;
  supersedes: number | null;
}

export interface SeededDemo {
  contract: string;
  chainId: number;
  finance: ConnectedSigner;
  auditor: ConnectedSigner;
  batches: DemoBatch[];
  inputs: DemoInputs;
  inputsDir: string;
  /** The demo's person-key VRF seed (demo only: `person prove` needs it). */
  vrfSeed: Uint8Array;
}

/**
 * Generates the inputs once per (seed, scale, version) and reuses them afterwards: they are
 * deterministic, and writing tens of thousands of DBF files takes a while.
 */
async function cachedInputs(
  demoDir: string,
  seed: number,
  scale: number,
  log: (line: string) => void,
): Promise<{ inputs: DemoInputs; dir: string }> {
  const dir = path.join(demoDir, `inputs-v${DEMO_INPUTS_VERSION}-seed${seed}-scale${scale}`);
  const marker = path.join(dir, "complete.json");
  if (existsSync(marker)) {
    // Regenerating the population in memory is fast; only the files are skipped.
    const inputs = await writeDemoInputs({ outDir: dir, seed, scale, dryRun: true });
    const saved = JSON.parse(await readFile(marker, "utf8")) as { months: number };
    if (saved.months === inputs.months.length) return { inputs, dir };
  }
  log(`writing the demo inputs (seed ${seed}, scale ${scale}) into ${dir} …`);
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  const written = await writeDemoInputs({ outDir: tmp, seed, scale });
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
  await writeFile(marker, JSON.stringify({ months: written.months.length }) + "\n");
  return { inputs: await writeDemoInputs({ outDir: dir, seed, scale, dryRun: true }), dir };
}

function anchored(
  result: AnchorJobResult,
  what: string,
): Extract<AnchorJobResult, { status: "anchored" }> {
  if (result.status === "anchored") return result;
  if (result.status === "invalid") {
    const first = result.issues
      .slice(0, 5)
      .map((i) => `${i.file}:${i.line} ${i.field} ${i.rule}: ${i.message}`)
      .join("\n  ");
    throw new InvariantError(
      `the demo's ${what} did not validate (${result.issues.length} issues):\n  ${first}`,
      { code: "demo.invalid" },
    );
  }
  throw new InvariantError(`the demo's ${what} was not anchored (${result.status})`, {
    code: "demo.not-anchored",
  });
}

/**
 * Deploys, anchors a year of data and its corrections. Returns what it anchored.
 */
export async function seedDemo(options: SeedDemoOptions): Promise<SeededDemo> {
  const { log } = options;
  const admin = await connectSigner({
    rpcUrl: options.chainUrl,
    spec: { dev: DEMO_ACCOUNTS.admin },
  });
  const finance = await connectSigner({
    rpcUrl: options.chainUrl,
    spec: { dev: DEMO_ACCOUNTS.finance },
  });
  const auditor = await connectSigner({
    rpcUrl: options.chainUrl,
    spec: { dev: DEMO_ACCOUNTS.auditor },
  });
  const deployed = await deployLedger({
    signer: admin.wallet,
    admin: admin.address,
    adminDelaySeconds: 86_400,
    anchorers: [finance.address],
    auditors: [auditor.address],
    pausers: [admin.address],
    vrfRegistrars: [admin.address],
  });
  log(`deployed the TransparencyLedger at ${deployed.address} (chain ${deployed.chainId})`);
  const vrfSeed = await demoVrfSeed(options.demoDir);
  const registered = await registerVrfKey({
    wallet: admin.wallet,
    address: deployed.address,
    publicKey: vrfSecretKey(vrfSeed).publicKey,
  });
  admin.provider.destroy();
  log(
    `registered the person-key VRF key ${registered.keyId.slice(0, 18)}… (shafaf-tree/2 batches)`,
  );
  await writeDemoNames(options.runDir, {
    admin: admin.address,
    finance: finance.address,
    auditor: auditor.address,
  });

  const { inputs, dir } = await cachedInputs(options.demoDir, options.seed, options.scale, log);
  const chain: AnchorChain = createAnchorChain({
    wallet: finance.wallet,
    provider: finance.provider,
    chainId: finance.chainId,
    address: deployed.address,
    pollMs: 50,
  });
  const pseudonymKey = (await loadPseudonymKey(
    options.runDir,
    {},
    { create: true, dataKey: options.store.dataKey },
  ))!;
  // The person-key cache outlives the run (like the inputs): a second start enrols nobody.
  const personKeying = await openPersonKeying({
    seed: vrfSeed,
    cacheDir: path.join(options.demoDir, "person-keys"),
    dataKey: options.store.dataKey,
  });
  try {
    const year = await anchorDemoYear(options, {
      chain,
      pseudonymKey,
      personKeying,
      inputs,
      dir,
      deployed,
      finance,
      auditor,
    });
    return { ...year, vrfSeed };
  } finally {
    await personKeying.close();
  }
}

async function anchorDemoYear(
  options: SeedDemoOptions,
  ctx: {
    chain: AnchorChain;
    pseudonymKey: Uint8Array;
    personKeying: PersonKeying;
    inputs: DemoInputs;
    dir: string;
    deployed: { address: string; chainId: number };
    finance: SeededDemo["finance"];
    auditor: SeededDemo["auditor"];
  },
): Promise<Omit<SeededDemo, "vrfSeed">> {
  const { log } = options;
  const { chain, pseudonymKey, personKeying, inputs, dir, deployed, finance, auditor } = ctx;
  const common = { chain, store: options.store, pseudonymKey, personKeying, confirmations: 1 };
  const batches: DemoBatch[] = [];
  const record = (r: Extract<AnchorJobResult, { status: "anchored" }>) => {
    batches.push({
      kind: r.kind,
      period: r.period,
      batchId: r.batchId,
      recordCount: r.recordCount,
      supersedes: r.supersedes,
    });
    log(
      `  batch ${String(r.batchId).padStart(2)}  ${r.kind.padEnd(7)} ${r.period}  ${String(r.recordCount).padStart(6)} records` +
        (r.supersedes === null ? "" : `  (corrects batch ${r.supersedes})`),
    );
  };

  log("anchoring twelve months of premiums (SSO DBF lists) and pensions (CSV) …");
  for (const month of inputs.months) {
    record(
      anchored(
        await runAnchorJob({
          ...common,
          inputs: [month.premiumDir],
          kind: "premium",
          period: month.period,
          workshopProvinces: inputs.workshopsCsv,
        }),
        `premium lists of ${month.period}`,
      ),
    );
    record(
      anchored(
        await runAnchorJob({
          ...common,
          inputs: [month.pensionCsv],
          kind: "pension",
          period: month.period,
        }),
        `pension payments of ${month.period}`,
      ),
    );
  }
  for (const correction of inputs.corrections) {
    const original = batches.find(
      (b) => b.kind === correction.kind && b.period === correction.period && b.supersedes === null,
    );
    if (original === undefined)
      throw new InvariantError(`no batch to correct for ${correction.kind} ${correction.period}`, {
        code: "demo.no-batch-to-correct",
      });
    record(
      anchored(
        await runAnchorJob({
          ...common,
          inputs: [correction.input],
          kind: correction.kind,
          period: correction.period,
          supersedes: original.batchId,
          reason: correction.reason,
          ...(correction.kind === "premium" ? { workshopProvinces: inputs.workshopsCsv } : {}),
        }),
        `correction of ${correction.kind} ${correction.period}`,
      ),
    );
  }
  return {
    contract: deployed.address,
    chainId: deployed.chainId,
    finance,
    auditor,
    batches,
    inputs,
    inputsDir: dir,
  };
}

/**
 * The demo's person-key VRF seed, made once and kept beside the cached inputs (mode 0600), so
 * that the person-key cache stays valid across starts. A real deployment keeps it in an
 * encrypted keystore (`shafaf keys new-vrf`).
 */
async function demoVrfSeed(demoDir: string): Promise<Uint8Array> {
  const file = path.join(demoDir, "demo-vrf-seed.hex");
  try {
    const text = (await readFile(file, "utf8")).trim();
    if (/^[0-9a-f]{64}$/.test(text)) return new Uint8Array(Buffer.from(text, "hex"));
  } catch {
    // made below
  }
  await mkdir(demoDir, { recursive: true });
  const seed = new Uint8Array(randomBytes(32));
  await writeFile(file, Buffer.from(seed).toString("hex") + "\n", { mode: 0o600 });
  await chmod(file, 0o600);
  return seed;
}

/** The demo data keystore's password (demo only, like its development accounts). */
export const DEMO_DATA_KEY_PASSWORD = "shafaf-demo-data-key";

/**
 * The demo's data-encryption key: a `shafaf-data-key/1` keystore in the demo folder with a
 * published demo password, made on the first start and kept (the person-key cache it seals
 * outlives the run). A real deployment makes its own with `shafaf keys new-data`.
 */
export async function demoDataKey(demoDir: string): Promise<DataKey> {
  const file = path.join(demoDir, "demo-data-key.json");
  if (!existsSync(file)) {
    await mkdir(demoDir, { recursive: true, mode: 0o700 });
    const { json } = await newDataKeystore({ password: DEMO_DATA_KEY_PASSWORD });
    await writeKeystoreFile(file, json);
  }
  const { key } = await loadDataKeystore(file, DEMO_DATA_KEY_PASSWORD);
  return dataKeyOf(key);
}

/**
 * Governance's names of the demo's accounts (`shafaf-names/1`, read by `shafaf serve` from
 * `<data-dir>/names.json`), so that the portal names the auditor instead of showing its address.
 */
async function writeDemoNames(
  runDir: string,
  accounts: { admin: string; finance: string; auditor: string },
): Promise<void> {
  const names = {
    format: "shafaf-names/1",
    accounts: {
      [accounts.auditor.toLowerCase()]: { fa: "دیوان محاسبات", en: "Supreme Audit Court" },
      [accounts.finance.toLowerCase()]: {
        fa: "معاونت مالی سازمان تأمین اجتماعی",
        en: "SSO finance department",
      },
      [accounts.admin.toLowerCase()]: { fa: "شورای راهبری دفتر", en: "Ledger governance council" },
    },
  };
  await writeFile(path.join(runDir, "names.json"), `${JSON.stringify(names, null, 2)}\n`);
}

/** Makes `dir` empty (the demo's per-run state: the embedded chain starts fresh every time). */
export async function freshDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
}

/** A person proof the demo wrote, for the start banner. */
export interface DemoPersonProof {
  file: string;
  type: "range" | "absence";
  records: number;
  batchId: number;
}

/**
 * Writes two `shafaf-person-proof/1` files for batch 1 with the same code as `shafaf person
 * prove`: a worker with several records in it (a range proof), and a valid national ID with none
 * (an absence proof). Demo data only: real proofs are made for, and handed to, their person.
 */
export async function writeDemoPersonProofs(
  store: LedgerStore,
  seeded: SeededDemo,
  outDir: string,
): Promise<DemoPersonProof[]> {
  const first = seeded.batches[0];
  const entry = first === undefined ? undefined : await store.getBatch(first.batchId);
  if (first === undefined || entry === undefined) return [];
  const artifact = await readBatchArtifact(path.join(store.batchesDir, entry.jobId), {
    dataKey: store.dataKey,
  });
  const keys = artifact?.keys;
  if (artifact === undefined || keys === undefined) return [];
  // The person with the most records in the batch (the first one, on a tie).
  const seen = new Map<string, number>();
  let several: string | undefined;
  let most = 0;
  const people = new Set<string>();
  for await (const line of artifact.records()) {
    const person = String(line.record.nationalId);
    people.add(person);
    const key = Buffer.from(keys.subarray(line.index * 32, line.index * 32 + 32)).toString("hex");
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    if (n > most) [most, several] = [n, person];
  }
  const absent = ["0012345679", "0023456781", "0034567892"].find((id) => !people.has(id));
  await mkdir(outDir, { recursive: true, mode: 0o700 });
  const out: DemoPersonProof[] = [];
  for (const [personId, name] of [
    [several, `batch-${first.batchId}-range.json`],
    [absent, `batch-${first.batchId}-absence.json`],
  ] as const) {
    if (personId === undefined) continue;
    const proof = await provePerson({
      store,
      batchId: first.batchId,
      personId,
      vrfSeed: seeded.vrfSeed,
    });
    const file = path.join(outDir, name);
    await writeFile(file, JSON.stringify(proof, null, 2) + "\n", { mode: 0o600 });
    out.push({
      file,
      type: proof.records.length > 0 ? "range" : "absence",
      records: proof.records.length,
      batchId: first.batchId,
    });
  }
  return out;
}

/** The demo persons `npm start` prints for "My insurance history". */
export interface DemoHistoryPersons {
  /** A worker with a premium record in every month of the year. */
  complete?: string;
  /** A worker recorded in the first and the last month with months missing in between. */
  missing?: { personId: string; missingPeriods: string[] };
  /** A pensioner paid every month. */
  pensioner?: string;
}

/**
 * Picks the demo persons of "My insurance history" from what was anchored: workers join and
 * leave workshops from month to month (src/demo/synthetic.ts), so the year has both a worker
 * recorded every month and one with gaps. Reads the current batches' artifacts once.
 */
export async function pickDemoHistoryPersons(
  store: LedgerStore,
  seeded: SeededDemo,
): Promise<DemoHistoryPersons> {
  const current = seeded.batches.filter(
    (b) => !seeded.batches.some((c) => c.supersedes === b.batchId),
  );
  const monthsOf = async (kind: RecordKind) => {
    const batches = current
      .filter((b) => b.kind === kind)
      .sort((a, b) => a.period.localeCompare(b.period));
    const seen = new Map<string, Set<string>>();
    for (const b of batches) {
      const entry = await store.getBatch(b.batchId);
      const artifact =
        entry === undefined
          ? undefined
          : await readBatchArtifact(path.join(store.batchesDir, entry.jobId), {
              dataKey: store.dataKey,
            });
      if (artifact === undefined) continue;
      for await (const line of artifact.records()) {
        const person = String(line.record.nationalId);
        let months = seen.get(person);
        if (months === undefined) seen.set(person, (months = new Set()));
        months.add(b.period);
      }
    }
    return { periods: batches.map((b) => b.period), seen };
  };
  const premium = await monthsOf("premium");
  const out: DemoHistoryPersons = {};
  const first = premium.periods[0];
  const last = premium.periods.at(-1);
  for (const [person, months] of premium.seen) {
    if (!/^\d{10}$/.test(person)) continue;
    if (out.complete === undefined && months.size === premium.periods.length) out.complete = person;
    const gaps = premium.periods.filter((p) => !months.has(p));
    if (
      out.missing === undefined &&
      gaps.length >= 1 &&
      gaps.length <= 3 &&
      months.has(first!) &&
      months.has(last)
    )
      out.missing = { personId: person, missingPeriods: gaps };
    if (out.complete !== undefined && out.missing !== undefined) break;
  }
  const pension = await monthsOf("pension");
  for (const [person, months] of pension.seen)
    if (/^\d{10}$/.test(person) && months.size === pension.periods.length) {
      out.pensioner = person;
      break;
    }
  return out;
}

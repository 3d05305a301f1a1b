/**
 * `npm run national -- --dir DIR [--rows N] [--people P] [--warm] [--clean]`: a national month
 * on one machine (issue #14), measured from the outside. Not part of `npm run bench` nor CI: at
 * the default 15,000,000 rows it runs for hours and writes tens of gigabytes.
 *
 * DIR holds `vrf.json` (shafaf keys new-vrf) and `data-key.json` (shafaf keys new-data), both
 * opened with SHAFAF_KEYSTORE_PASSWORD, and `DIR/data/person-keys/`, the person-key cache, warm
 * for the people this run generates (`--warm` enrols them first, in this process, for a try on a
 * directory of your own). The script starts the embedded development chain, deploys the ledger,
 * registers the VRF key, writes the N-row premium CSV (people nationalId(1…P), P = N unless
 * `--people`, the same generator and columns as `npm run bench -- anchor`; provinces spread over
 * the 31 IR-dd codes), then runs as child processes under `/usr/bin/time -v`:
 *
 *   shafaf anchor CSV --kind premium --period 1403-07 --vrf-key --data-key --data-dir RUN/data
 *   shafaf audit RUN/data/batches/<job> --batch ID --rpc --contract --data-dir --data-key
 *
 * and prints each one's wall time, CPU (user + system) and peak RSS, the disk bytes per record
 * of everything kept (`du --apparent-size`, per part), and the plain line split of the same CSV
 * (the floor of any reader). Each run gets a fresh `DIR/runs/<stamp>/data` whose `person-keys`
 * is a symbolic link to `DIR/data/person-keys` (a data directory belongs to one chain and
 * contract, and the chain is new at every run; the cache is the organization's, shared).
 *
 * `npm run national -- --dir DIR --audit-only DIR/runs/<stamp>` audits a run's batch again: the
 * chain it was anchored on is gone (the development chain lives as long as its process), so a
 * new one is started, the ledger deployed, the VRF key registered, and the batch anchored again
 * from its artifact's descriptor (the same root, lanes, manifest hash and idempotency key); then
 * the audit runs as above, logged to `audit-only.log` (`.time`, `audit-only.json`).
 */
import { execFileSync, spawn } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { mkdir, readFile, readdir, rm, stat, symlink } from "node:fs/promises";
import { once } from "node:events";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { startDevChain } from "../src/chain/dev-chain.ts";
import { deployLedger } from "../src/chain/deploy-ledger.ts";
import { loadDataKeystore } from "../src/chain/data-keystore.ts";
import { loadVrfKeystore } from "../src/chain/keystore.ts";
import { registerVrfKey } from "../src/chain/register-vrf-key.ts";
import { connectProvider, devWallet } from "../src/chain/signer.ts";
import { createAnchorChain } from "../src/anchor/anchor-chain.ts";
import { periodToNumber } from "../src/core/period.ts";
import { PROVINCES } from "../src/core/province.ts";
import { KIND_NUMBER } from "../src/core/record.ts";
import type { BatchArtifactDescriptor } from "../src/store/batch-artifact.ts";
import { openPersonKeying } from "../src/anchor/person-keying.ts";
import { dataKeyOf } from "../src/store/private-store.ts";
import { nationalId, plainSplit, writePremiumCsv } from "./lib/synthetic-premiums.ts";

const PERIOD = "1403-07";
const ROOT = path.resolve(import.meta.dirname, "..");

const { values } = parseArgs({
  options: {
    dir: { type: "string" },
    rows: { type: "string", default: "15000000" },
    people: { type: "string" },
    warm: { type: "boolean", default: false },
    clean: { type: "boolean", default: false },
    "audit-only": { type: "string" },
  },
});
if (values.dir === undefined) {
  console.error(
    "usage: npm run national -- --dir DIR [--rows N] [--people P] [--warm] [--clean]\n" +
      "       npm run national -- --dir DIR --audit-only DIR/runs/<stamp>\n" +
      "DIR holds vrf.json, data-key.json and data/person-keys (SHAFAF_KEYSTORE_PASSWORD opens them)",
  );
  process.exit(64);
}
const DIR = path.resolve(values.dir);
const ROWS = Number(values.rows);
const PEOPLE = Number(values.people ?? values.rows);
if (!Number.isSafeInteger(ROWS) || ROWS < 1) throw new Error("--rows is a whole number ≥ 1");
if (!Number.isSafeInteger(PEOPLE) || PEOPLE < 1 || PEOPLE > ROWS)
  throw new Error("--people is a whole number from 1 to --rows");
const password = process.env.SHAFAF_KEYSTORE_PASSWORD;
if (password === undefined) throw new Error("set SHAFAF_KEYSTORE_PASSWORD");
const vrfFile = path.join(DIR, "vrf.json");
const dataKeyFile = path.join(DIR, "data-key.json");
const cacheDir = path.join(DIR, "data", "person-keys");

interface Timed {
  code: number;
  stdout: string;
  wall: number;
  cpu: number;
  maxRssKiB: number;
}

/** Runs `shafaf ARGS` under /usr/bin/time -v; its stderr (progress) goes to `log`. */
async function shafaf(args: string[], log: string): Promise<Timed> {
  const timeFile = `${log}.time`;
  const child = spawn(
    "/usr/bin/time",
    ["-v", "-o", timeFile, process.execPath, "--import", "tsx", "src/cli/main.ts", ...args],
    {
      cwd: ROOT,
      env: { ...process.env, SHAFAF_KEYSTORE_PASSWORD: password },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stdout = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
  const err = createWriteStream(log);
  child.stderr.pipe(err);
  const [code] = (await once(child, "close")) as [number];
  const t = await readFile(timeFile, "utf8");
  const num = (label: string): number => {
    const m = new RegExp(`${label}: ([0-9.:]+)`).exec(t);
    if (m === null) throw new Error(`/usr/bin/time printed no "${label}"`);
    return m[1]!
      .split(":")
      .map(Number)
      .reduce((a, b) => a * 60 + b, 0);
  };
  return {
    code,
    stdout,
    wall: num("Elapsed \\(wall clock\\) time \\(h:mm:ss or m:ss\\)"),
    cpu: num("User time \\(seconds\\)") + num("System time \\(seconds\\)"),
    maxRssKiB: num("Maximum resident set size \\(kbytes\\)"),
  };
}

/** Apparent bytes under `p` (files and folders), as `du -sb --apparent-size` counts them. */
function du(p: string): number {
  if (!existsSync(p)) return 0;
  return Number(
    execFileSync("du", ["-sb", "--apparent-size", p], { encoding: "utf8" }).split("\t")[0],
  );
}

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const n = (v: number): string => Math.round(v).toLocaleString("en-US");

/** `--audit-only RUN`: RUN's one batch anchored again on a new chain, then audited; the exit status. */
async function auditOnly(run: string): Promise<number> {
  const dataDir = path.join(run, "data");
  const batches = path.join(dataDir, "batches");
  const jobs = (await readdir(batches)).filter((name) => !name.includes(".tmp-"));
  if (jobs.length !== 1)
    throw new Error(`${batches} holds ${jobs.length} artifacts; --audit-only audits a run's one`);
  const artifactDir = path.join(batches, jobs[0]!);
  const d = JSON.parse(
    await readFile(path.join(artifactDir, "artifact.json"), "utf8"),
  ) as BatchArtifactDescriptor;
  if (d.scheme !== "shafaf-tree/2" || d.lanes === undefined || d.vrfKeyId === undefined)
    throw new Error(`${artifactDir} is not a shafaf-tree/2 batch`);
  const { publicKey } = await loadVrfKeystore(vrfFile, password!);
  const chain = await startDevChain();
  try {
    const provider = connectProvider(chain.url, 31337);
    const wallet = devWallet(0).connect(provider);
    const { address } = await deployLedger({
      signer: wallet,
      admin: wallet.address,
      adminDelaySeconds: 0,
      anchorers: [wallet.address],
      vrfRegistrars: [wallet.address],
    });
    await registerVrfKey({ wallet, address, publicKey });
    const ledger = createAnchorChain({ wallet, provider, chainId: 31337, address, pollMs: 50 });
    const signed = await ledger.signAnchorV2({
      root: d.root,
      kind: KIND_NUMBER[d.kind],
      period: periodToNumber(d.period),
      totals: d.lanes.map((l) => BigInt(l)),
      manifestHash: d.manifestHash,
      supersedes: d.supersedes ?? 0,
      idempotencyKey: d.idempotencyKey,
      vrfKeyId: d.vrfKeyId,
    });
    if ("existing" in signed) throw new Error("the new chain already holds the batch");
    await ledger.broadcast(signed.rawTx, signed.txHash);
    const mined = await ledger.waitForAnchor(signed.txHash, 1);
    provider.destroy();
    if (mined === undefined || "reverted" in mined) throw new Error("anchoring again failed");
    console.log(`audit only: ${run}, batch ${mined.batchId} anchored again on a new chain`);
    const audit = await shafaf(
      [
        ...["audit", artifactDir, "--batch", String(mined.batchId)],
        ...["--rpc", chain.url, "--contract", address],
        ...["--data-key", dataKeyFile, "--data-dir", dataDir],
        ...["--report", path.join(run, "audit-only.json")],
      ],
      path.join(run, "audit-only.log"),
    );
    console.log(
      `| shafaf audit of the artifact, --data-dir (${n(d.recordCount)} records) | ${audit.wall.toFixed(0)} s | ${audit.cpu.toFixed(0)} s — ${n(d.recordCount / audit.cpu)} rows per CPU-second | ${mib(audit.maxRssKiB * 1024)} | ${audit.code} |`,
    );
    console.log(audit.stdout.trim().split("\n").at(-1) ?? "");
    return audit.code;
  } finally {
    await chain.stop();
  }
}

if (values["audit-only"] !== undefined)
  process.exit(await auditOnly(path.resolve(values["audit-only"])));

const stamp = new Date().toISOString().replace(/[:.]/g, "-");
const run = path.join(DIR, "runs", stamp);
const dataDir = path.join(run, "data");
await mkdir(dataDir, { recursive: true, mode: 0o700 });
await mkdir(cacheDir, { recursive: true, mode: 0o700 });
await symlink(cacheDir, path.join(dataDir, "person-keys"));
console.log(`national run: ${n(ROWS)} rows of ${n(PEOPLE)} people in ${run}`);

const { seed, publicKey } = await loadVrfKeystore(vrfFile, password);
if (values.warm) {
  const { key } = await loadDataKeystore(dataKeyFile, password);
  const keying = await openPersonKeying({ seed, cacheDir, dataKey: dataKeyOf(key) });
  const t = performance.now();
  let computed = 0;
  for (let from = 1; from <= PEOPLE; from += 500_000) {
    const count = Math.min(500_000, PEOPLE - from + 1);
    const r = await keying.batchKeys(count, (i) => nationalId(from + i), {
      kind: "premium",
      period: PERIOD,
    });
    computed += r.computed;
  }
  await keying.close();
  console.log(
    `warm: ${n(PEOPLE)} people in the cache (${n(computed)} enrolled now) in ${((performance.now() - t) / 1000).toFixed(0)} s`,
  );
}

const chain = await startDevChain();
try {
  const wallet = devWallet(0).connect(connectProvider(chain.url, 31337));
  const { address } = await deployLedger({
    signer: wallet,
    admin: wallet.address,
    adminDelaySeconds: 0,
    anchorers: [wallet.address],
    vrfRegistrars: [wallet.address],
  });
  await registerVrfKey({ wallet, address, publicKey });
  wallet.provider?.destroy();

  const csv = path.join(run, "premiums.csv");
  let t = performance.now();
  await writePremiumCsv(csv, {
    rows: ROWS,
    people: PEOPLE,
    period: PERIOD,
    provinces: PROVINCES.map((p) => p.code),
  });
  const csvBytes = (await stat(csv)).size;
  console.log(
    `generated ${mib(csvBytes)} of CSV in ${((performance.now() - t) / 1000).toFixed(0)} s`,
  );
  const split = await plainSplit(csv);
  if (split.rows !== ROWS) throw new Error(`the plain split saw ${split.rows} rows`);

  const chainArgs = ["--rpc", chain.url, "--contract", address];
  const keyArgs = ["--data-key", dataKeyFile, "--data-dir", dataDir];
  t = performance.now();
  const anchor = await shafaf(
    [
      "anchor",
      csv,
      "--kind",
      "premium",
      "--period",
      PERIOD,
      ...chainArgs,
      "--signer",
      "dev:0",
      "--vrf-key",
      vrfFile,
      ...keyArgs,
      "--json",
    ],
    path.join(run, "anchor.log"),
  );
  if (anchor.code !== 0)
    throw new Error(`shafaf anchor exited ${anchor.code}; see ${run}/anchor.log`);
  const anchored = JSON.parse(anchor.stdout) as {
    batchId: number;
    jobId: string;
    personKeys?: { people: number; cached: number; enrolled: number };
  };
  const artifactDir = path.join(dataDir, "batches", anchored.jobId);
  const audit = await shafaf(
    [
      "audit",
      artifactDir,
      "--batch",
      String(anchored.batchId),
      ...chainArgs,
      ...keyArgs,
      "--report",
      path.join(run, "audit.json"),
    ],
    path.join(run, "audit.log"),
  );

  const parts = {
    "artifact (records.jsonl, records.idx, keys.bin, manifest, …)":
      du(artifactDir) - du(path.join(artifactDir, "tiles")),
    "tiles (public and private)": du(path.join(artifactDir, "tiles")),
    "ledger/ (LevelDB: jobs, batch, locators, record ids)": du(path.join(dataDir, "ledger")),
    "other (secrets, quarantine, data-key.json)":
      du(dataDir) -
      du(artifactDir) -
      du(path.join(dataDir, "ledger")) -
      du(path.join(dataDir, "person-keys")),
  };
  const kept = Object.values(parts).reduce((a, b) => a + b, 0);
  const row = (what: string, x: Timed) =>
    `| ${what} | ${x.wall.toFixed(0)} s | ${x.cpu.toFixed(0)} s — ${n(ROWS / x.cpu)} rows per CPU-second | ${mib(x.maxRssKiB * 1024)} | ${x.code} |`;
  console.log("");
  console.log(
    `| ${n(ROWS)} premium rows, ${n(PEOPLE)} people | wall | CPU (user + system) | peak RSS | exit |`,
  );
  console.log("|---|---|---|---|---|");
  console.log(row("shafaf anchor (warm person-key cache)", anchor));
  console.log(row("shafaf audit of the artifact", audit));
  console.log(
    `| reference: plain line split of the CSV, same run | ${split.wall.toFixed(0)} s | ${split.cpu.toFixed(1)} s — ${n(ROWS / split.cpu)} rows per CPU-second | | |`,
  );
  console.log("");
  console.log(
    `person keys: ${JSON.stringify(anchored.personKeys)}; anchor CPU is ${((split.cpu / anchor.cpu) * 100).toFixed(2)} % of the plain split's rate`,
  );
  console.log(`disk kept (du --apparent-size), ${(kept / ROWS).toFixed(0)} bytes per record:`);
  for (const [what, bytes] of Object.entries(parts))
    console.log(`  ${what}: ${mib(bytes)} = ${(bytes / ROWS).toFixed(0)} bytes per record`);
  console.log(
    `  not per batch: the person-key cache ${mib(du(cacheDir))} (${(du(cacheDir) / PEOPLE).toFixed(0)} bytes per person); the CSV ${mib(csvBytes)}`,
  );
  console.log(
    `load average at the end: ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(", ")} on ${os.availableParallelism()} cores; logs and reports in ${run}`,
  );
  if (audit.code !== 0) process.exitCode = 1;
} finally {
  await chain.stop();
  if (values.clean) await rm(run, { recursive: true, force: true });
}

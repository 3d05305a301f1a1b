/**
 * `npm run bench -- anchor`: N synthetic premium rows (default 1,000,000; `BENCH_ANCHOR_ROWS`)
 * from CSV to an anchored batch with a receipt per record, on the embedded development chain
 * (its own process), the pipeline in this process. Reports records/s, CPU time and peak memory
 * beside two references measured in the same run on the same file: a plain line-split parse (the
 * floor of any CSV reader) and a sha256 pass; then the disk bytes per record and the rate of
 * receipt lookups by code (assembled on demand). `BENCH_JSON=1` also prints one line
 * `BENCH_JSON {…}` with the figures (read by test/anchor/cost-guard.test.ts).
 *
 * `BENCH_ANCHOR_SCHEME=2` (the default, as `shafaf anchor`'s): `shafaf-tree/2` batches with a
 * registered VRF key, anchored twice — a cold month (every person enrolled: VRF on the worker
 * threads) and the next month of the same people (warm: every person key from the cache), the
 * pipeline rate the issue asks for. `BENCH_ANCHOR_SCHEME=1`: one `shafaf-tree/1` batch.
 * `BENCH_ANCHOR_PEOPLE=P` (default: one person per row): the rows are P distinct people, each in
 * ROWS/P workshops — the CI guard's v2 run uses it to enrol fewer people while the warm month
 * still goes through every row's person-key lookup. `BENCH_CPU_PROFILE=FILE` writes a V8 CPU
 * profile of the measured job alone (the warm month; not the cold one, the references or the
 * lookups) to FILE (`.cpuprofile`, opened by Chrome's DevTools or `node --cpu-prof`'s readers).
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startDevChain } from "../../src/chain/dev-chain.ts";
import { deployLedger } from "../../src/chain/deploy-ledger.ts";
import { connectProvider, devWallet } from "../../src/chain/signer.ts";
import { plainSplit, writePremiumCsv } from "../lib/synthetic-premiums.ts";
import { createAnchorChain } from "../../src/anchor/anchor-chain.ts";
import { runAnchorJob } from "../../src/anchor/run-anchor-job.ts";
import { openLedgerStore } from "../../src/store/ledger-store.ts";
import { openPersonKeying, type PersonKeying } from "../../src/anchor/person-keying.ts";
import { registerVrfKey } from "../../src/chain/register-vrf-key.ts";
import { vrfSecretKey } from "../../src/core/vrf.ts";

const ROWS = Number(process.env.BENCH_ANCHOR_ROWS ?? 1_000_000);
const PERIOD = "1403-07";
const SCHEME = process.env.BENCH_ANCHOR_SCHEME ?? "2";
const PEOPLE = Number(process.env.BENCH_ANCHOR_PEOPLE ?? ROWS);
if (!Number.isSafeInteger(PEOPLE) || PEOPLE < 1 || PEOPLE > ROWS)
  throw new Error("BENCH_ANCHOR_PEOPLE is a whole number from 1 to BENCH_ANCHOR_ROWS");
if (SCHEME !== "1" && SCHEME !== "2") throw new Error("BENCH_ANCHOR_SCHEME is 1 or 2");

const PROVINCES = ["IR-23", "IR-10", "IR-07", "IR-04", "IR-15"];
const writeCsv = (file: string, rows: number, period = PERIOD): Promise<void> =>
  writePremiumCsv(file, { rows, people: PEOPLE, period, provinces: PROVINCES });

async function sha256Pass(file: string): Promise<void> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }))
    h.update(chunk as Buffer);
  h.digest();
}

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/** Bytes of the files under `dir` (apparent size). */
async function du(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(path.join(entry.parentPath, entry.name))).size;
  }
  return total;
}

const work = await mkdtemp(path.join(os.tmpdir(), "shafaf-bench-anchor-"));
const chain = await startDevChain();
try {
  const csv = path.join(work, "premiums.csv");
  let t = performance.now();
  await writeCsv(csv, ROWS);
  const size = (await stat(csv)).size;
  console.log(
    `generated ${ROWS.toLocaleString("en-US")} rows, ${mib(size)} of CSV in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );

  const wallet = devWallet(0).connect(connectProvider(chain.url, 31337));
  const { address } = await deployLedger({
    signer: wallet,
    admin: wallet.address,
    adminDelaySeconds: 0,
    anchorers: [wallet.address],
    ...(SCHEME === "2" ? { vrfRegistrars: [wallet.address] } : {}),
  });
  let personKeying: PersonKeying | undefined;
  if (SCHEME === "2") {
    const seed = new Uint8Array(randomBytes(32));
    await registerVrfKey({ wallet, address, publicKey: vrfSecretKey(seed).publicKey });
    personKeying = await openPersonKeying({ seed, cacheDir: path.join(work, "person-keys") });
  }
  const provider = connectProvider(chain.url, 31337);
  const anchorChain = createAnchorChain({
    wallet: devWallet(0).connect(provider),
    provider,
    chainId: 31337,
    address,
  });
  const store = await openLedgerStore(path.join(work, "data"));

  global.gc?.();
  let peakRss = process.memoryUsage().rss;
  /** Peak sampled RSS per phase of the job being run (the phase its progress last named). */
  let phasePeaks = new Map<string, number>();
  let phase = "start";
  const sampler = setInterval(() => {
    const rss = process.memoryUsage().rss;
    peakRss = Math.max(peakRss, rss);
    phasePeaks.set(phase, Math.max(phasePeaks.get(phase) ?? 0, rss));
  }, 50);
  const anchorOnce = async (file: string, period: string, profile?: string) => {
    const phases = new Map<string, number>();
    /** CPU seconds of this process when each phase started. */
    const phaseCpu = new Map<string, number>();
    const cpuNow = (): number => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1e6;
    };
    phasePeaks = new Map();
    phase = "start";
    const session = profile === undefined ? undefined : new Session();
    if (session !== undefined) {
      session.connect();
      await session.post("Profiler.enable");
      await session.post("Profiler.start");
    }
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const result = await runAnchorJob({
      inputs: [file],
      kind: "premium",
      period,
      chain: anchorChain,
      store,
      pseudonymKey,
      personKeying,
      log: {
        progress(p) {
          phase = p;
          if (!phases.has(p)) {
            phases.set(p, performance.now() - started);
            phaseCpu.set(p, cpuNow());
          }
        },
        info: () => undefined,
      },
    });
    const wall = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpuBefore);
    if (session !== undefined) {
      const { profile: taken } = await session.post("Profiler.stop");
      await writeFile(profile!, JSON.stringify(taken));
      session.disconnect();
    }
    // CPU seconds of each phase: from its start to the next one's (the last: to the job's end).
    const ends = [...phaseCpu.values()].slice(1).concat(cpuNow());
    const cpuOf = new Map([...phaseCpu].map(([p, at], i) => [p, ends[i]! - at]));
    if (result.status !== "anchored") throw new Error(`bench batch not anchored: ${result.status}`);
    return {
      result,
      wall,
      cpu: (used.user + used.system) / 1e6,
      phases,
      cpuOf,
      peaks: phasePeaks,
    };
  };
  const pseudonymKey = new Uint8Array(randomBytes(32));
  let cold: Awaited<ReturnType<typeof anchorOnce>> | undefined;
  if (SCHEME === "2") {
    cold = await anchorOnce(csv, PERIOD);
    const next = path.join(work, "premiums-next.csv");
    await writeCsv(next, ROWS, "1403-08");
    global.gc?.();
  }
  const last =
    SCHEME === "2"
      ? await anchorOnce(
          path.join(work, "premiums-next.csv"),
          "1403-08",
          process.env.BENCH_CPU_PROFILE,
        )
      : await anchorOnce(csv, PERIOD, process.env.BENCH_CPU_PROFILE);
  const { result, phases } = last;
  const anchorSeconds = last.wall;
  const cpuSeconds = last.cpu;
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const maxRss = process.resourceUsage().maxRSS * 1024;
  await personKeying?.close();
  const receipts = await store.listReceiptsOfBatch(result.batchId, { after: ROWS - 2, limit: 5 });
  if (receipts.length !== 1) throw new Error("the last receipt is missing");

  // Receipt lookups by code (assembled from the artifact, checked against the root): 2,000 codes
  // spread over the batch; the tree is already loaded (warm), as on a serving API.
  const artifact = await store.getBatchArtifact(result.batchId);
  const every = Math.max(1, Math.floor(ROWS / 2000));
  const codes: string[] = [];
  for await (const line of artifact!.records()) if (line.index % every === 0) codes.push(line.code);
  const lookupCpu = process.cpuUsage();
  let lookupT = performance.now();
  for (const code of codes) {
    if ((await store.getReceiptByCode(code)) === undefined) throw new Error("a receipt is missing");
  }
  lookupT = performance.now() - lookupT;
  const lookupCpuUsage = process.cpuUsage(lookupCpu);
  const lookupCpuMs = (lookupCpuUsage.user + lookupCpuUsage.system) / 1000;
  await store.close();
  const ledgerBytes = await du(path.join(work, "data", "ledger"));
  const artifactBytes = await du(path.join(work, "data", "batches", result.jobId));
  provider.destroy();
  wallet.provider?.destroy();

  t = performance.now();
  const split = await plainSplit(csv);
  const parsed = split.rows;
  const parseSeconds = split.wall;
  const parseCpuSeconds = split.cpu;
  if (parsed !== ROWS) throw new Error(`plain parse saw ${parsed} rows`);
  t = performance.now();
  await sha256Pass(csv);
  const shaSeconds = (performance.now() - t) / 1000;

  const rate = (s: number): string => `${Math.round(ROWS / s).toLocaleString("en-US")} rows/s`;
  console.log("");
  console.log("| measurement | time | rate |");
  console.log("|---|---|---|");
  console.log(
    `| reference: plain line split of the CSV | ${parseSeconds.toFixed(1)} s | ${rate(parseSeconds)} |`,
  );
  console.log(
    `| reference: sha256 of the CSV | ${shaSeconds.toFixed(1)} s | ${(size / 2 ** 20 / shaSeconds).toFixed(0)} MiB/s |`,
  );
  if (cold !== undefined) {
    const pk = cold.result.status === "anchored" ? cold.result.v2?.personKeys : undefined;
    console.log(
      `| shafaf anchor, shafaf-tree/2, cold: every person enrolled (${pk?.enrolled.toLocaleString("en-US") ?? "?"} VRF evaluations on the workers) | ${cold.wall.toFixed(1)} s | ${rate(cold.wall)} |`,
    );
    console.log(
      `| … its CPU time (all threads) | ${cold.cpu.toFixed(1)} s | ${rate(cold.cpu)} per CPU-second |`,
    );
  }
  console.log(
    `| shafaf anchor${SCHEME === "2" ? ", shafaf-tree/2, warm person cache (the next month, same people)" : ", shafaf-tree/1"}: CSV → validated → tree → artifact → anchored → ${ROWS.toLocaleString("en-US")} receipt locators | ${anchorSeconds.toFixed(1)} s | ${rate(anchorSeconds)} |`,
  );
  console.log(
    `| shafaf anchor, CPU time of this process (user + system) | ${cpuSeconds.toFixed(1)} s | ${rate(cpuSeconds)} per CPU-second |`,
  );
  console.log("");
  console.log(
    `CPU-time ratio (independent of other load): ${((parseCpuSeconds / cpuSeconds) * 100).toFixed(1)} % of the plain parse (${rate(parseCpuSeconds)} per CPU-second)`,
  );
  console.log(
    `load average at the end: ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(", ")} on ${os.availableParallelism()} cores`,
  );
  console.log(
    `ratio: the pipeline runs at ${((parseSeconds / anchorSeconds) * 100).toFixed(1)} % of the plain-parse rate`,
  );
  console.log(
    `phase starts (s from job start): ${[...phases].map(([p, ms]) => `${p} ${(ms / 1000).toFixed(1)}`).join(", ")}`,
  );
  console.log(
    `CPU per phase (s of this process; receipts = the locator pass, record-id index and publish): ${[...last.cpuOf].map(([p, c]) => `${p} ${c.toFixed(2)}`).join(", ")}`,
  );
  console.log(
    `peak RSS sampled per phase of the ${SCHEME === "2" ? "warm month" : "job"} (the phase its progress last named): ${[...last.peaks].map(([p, b]) => `${p} ${mib(b)}`).join(", ")}`,
  );
  console.log(
    `peak memory: RSS ${mib(peakRss)} sampled, maxRSS ${mib(maxRss)} (limit 1536 MiB: ${maxRss <= 1.5 * 2 ** 30 ? "within" : "EXCEEDED"})`,
  );
  console.log(
    `disk: ledger (LevelDB) ${mib(ledgerBytes)} = ${(ledgerBytes / ROWS).toFixed(0)} bytes per record; artifact ${mib(artifactBytes)} = ${(artifactBytes / ROWS).toFixed(0)} bytes per record`,
  );
  console.log(
    `receipt lookups by code (on demand, warm tree): ${codes.length} in ${lookupT.toFixed(0)} ms, ${(lookupCpuMs / codes.length).toFixed(3)} ms of CPU each (${Math.round((codes.length / lookupCpuMs) * 1000).toLocaleString("en-US")} per CPU-second)`,
  );
  console.log(`batch ${result.batchId}, root ${result.root}, total ${result.total} Rials`);
  if (process.env.BENCH_JSON === "1") {
    console.log(
      "BENCH_JSON " +
        JSON.stringify({
          rows: ROWS,
          scheme: SCHEME,
          cpuSeconds,
          wallSeconds: anchorSeconds,
          maxRssBytes: maxRss,
          sampledPeakRssBytes: peakRss,
          plainParseCpuSeconds: parseCpuSeconds,
          ledgerBytes,
          artifactBytes,
          lookupCpuMsEach: lookupCpuMs / codes.length,
        }),
    );
  }
} finally {
  await chain.stop();
  await rm(work, { recursive: true, force: true });
}

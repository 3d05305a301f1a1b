/**
 * `npm run bench:api`: receipt lookups (`GET /api/v1/receipts/{code}`) and verify calls
 * (`POST /api/v1/verify`) per second against a ledger store of 100,000 receipts, with p50 and p99
 * latency, beside the static JSON route of the same server (`GET /healthz`) measured in the same
 * run: the ratio is the figure. The server's CPU time per request (its own process, measured
 * around each route) gives a second ratio that other load on the machine does not distort. The server runs in a child process (its own core); the load is
 * bounded (a fixed number of requests at a fixed concurrency, and a time cap per route) and goes
 * to 127.0.0.1 only.
 *
 * The store is built as the anchor pipeline builds it: a batch artifact (records.jsonl, records.idx,
 * tree.bin), its locator tables (receipts.loc, subjects.loc) and published.json, served as
 * `shafaf serve` serves it — from the published files, not the writer's LevelDB (`--layout
 * on-demand`, default); `--layout leveldb-locators` writes one LevelDB locator per receipt and
 * serves from the ledger store (the layout before the locator tables); `--layout stored` builds
 * the layout before receipts on demand (every receipt stored whole in LevelDB) for comparison.
 *
 * Then the load check: the latency of a normal read (`GET /api/v1/batches/1`, one at a time)
 * alone, and again while `--verify-concurrency` clients send verifications without pause; the
 * ratio of the two (same run, same server) is the figure. Verifications refused with 503 `busy`
 * (the server's bounded queue) are counted, not errors.
 *
 * Options: --receipts N (default 100000) --requests N (default 4000) --concurrency N (default 16)
 * --cap-seconds S (default 20) --verify-concurrency N (default 200) --gets N (default 300)
 * --verify-slots N (the server's concurrent verifications; default the API's own, 4; a large
 * number shows the server without its bound) --layout on-demand|leveldb-locators|stored.
 *
 * `--scheme v2`: a `shafaf-tree/2` batch (31 provinces, a person with two records every fifth
 * record) written as the anchor job writes it — artifact with keys.bin, batch tiles
 * (docs/spec/batch-tiles-v1.md), locators — served with receipts and person proofs
 * (`POST /api/v1/persons/proof`) assembled from the tiles. Before the load, the server process
 * measures its first receipt and first person proof on a freshly opened store (what a restart
 * costs) beside recomputing the batch's tree from its artifact (what the first request cost before
 * tiles).
 *
 * With `--scheme v2` a second reference is measured beside the person proof, labelled as such:
 * `GET /person-proof.json`, a static file holding the bytes of one person proof answer, served by
 * the same server's static file route (the portal's `express.static`, at the end of the same
 * middleware chain). The static JSON route stays the figure's reference; this one says what the
 * size alone costs (a person proof of 31 provinces is ≈ 90 KB).
 *
 * `--routes static,receipt,…` measures only these routes (static is always measured: the
 * reference), and skips the read-under-load check; `--rounds N` (default 2) interleaves N rounds
 * (the better of each route's rounds is reported): one route's cost before and after a change,
 * with less of the other routes' noise.
 *
 * `--profile FILE`: the server process writes a V8 CPU profile (.cpuprofile, open it in Chrome
 * DevTools) of everything it did after the store was built, when the bench stops it.
 */
import { fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { keccak256 } from "ethers";
import { createApp } from "../src/api/create-app.ts";
import { startServer } from "../src/api/start-server.ts";
import { leafHashes, leafValues, type LeafValues } from "../src/core/leaf.ts";
import { buildMerkleTree } from "../src/core/merkle-tree.ts";
import { subjectPseudonym } from "../src/core/pseudonym.ts";
import { buildReceipt, recordToJson } from "../src/core/receipt.ts";
import { newReceiptCode } from "../src/core/receipt-code.ts";
import type { PremiumRecord } from "../src/core/record.ts";
import { verifyReceipt } from "../src/core/verify-receipt.ts";
import { verifyDocument } from "../src/core/verify-document.ts";
import { createSumTreeBatchCollector } from "../src/core/sum-tree-batch.ts";
import { bytesToHex } from "../src/core/hex.ts";
import { readBatchArtifact } from "../src/store/batch-artifact.ts";
import { writeBatchLocators } from "../src/store/batch-locators.ts";
import { openPublishedStore, type PublishedStore } from "../src/store/published-store.ts";
import { writeBatchTiles } from "../src/store/batch-tiles.ts";
import { loadArtifactSumTree } from "../src/store/sum-tree-artifact.ts";
import type { Hex } from "../src/core/hex.ts";
import { hexKey, openIndexStore } from "../src/store/index-store.ts";
import { createBatchArtifactWriter } from "../src/store/batch-artifact.ts";
import {
  openLedgerStore,
  type BatchEntry,
  type LedgerStore,
  type StoredReceipt,
} from "../src/store/ledger-store.ts";

const { values: opts } = parseArgs({
  options: {
    receipts: { type: "string", default: "100000" },
    requests: { type: "string", default: "4000" },
    concurrency: { type: "string", default: "16" },
    "cap-seconds": { type: "string", default: "20" },
    "verify-concurrency": { type: "string", default: "200" },
    gets: { type: "string", default: "300" },
    "verify-slots": { type: "string" },
    routes: { type: "string" },
    rounds: { type: "string", default: "2" },
    layout: { type: "string", default: "on-demand" },
    scheme: { type: "string", default: "v1" },
    serve: { type: "string" },
    profile: { type: "string" },
  },
});
const CONTRACT = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
const hex = (n: number) => ("0x" + randomBytes(n).toString("hex")) as Hex;

function nationalId(n: number): string {
  const body = String(100_000_000 + n).slice(-9);
  let s = 0;
  for (let i = 0; i < 9; i++) s += Number(body[i]) * (10 - i);
  const r = s % 11;
  return body + String(r < 2 ? r : 11 - r);
}

interface Built {
  count: number;
  tree: ReturnType<typeof buildMerkleTree>;
  records: PremiumRecord[];
  values: LeafValues[];
  txHash: Hex;
}

const sampleEvery = (count: number): number => Math.max(1, Math.floor(count / 2000));

/** The layout before receipts on demand: every receipt built and stored whole. */
async function writeStored(ledger: LedgerStore, b: Built): Promise<StoredReceipt[]> {
  const batch = { batchId: 1, kind: "premium", period: "1403-07" } as BatchEntry;
  const samples: StoredReceipt[] = [];
  for (let start = 0; start < b.count; start += 1000) {
    const chunk = [];
    for (let i = start; i < Math.min(b.count, start + 1000); i++) {
      const code = newReceiptCode((n) => new Uint8Array(randomBytes(n)));
      const receipt = buildReceipt({
        chainId: 31337,
        contract: CONTRACT,
        batchId: 1,
        tree: b.tree,
        index: i,
        record: b.records[i]!,
        values: b.values[i]!,
        anchor: { txHash: b.txHash, blockNumber: 2 },
        code,
      }) as unknown as StoredReceipt;
      if (i % sampleEvery(b.count) === 0) samples.push(receipt);
      chunk.push({
        index: i,
        code,
        subject: b.values[i]![5],
        recordId: b.records[i]!.recordId,
        receipt,
      });
    }
    await ledger.writeReceipts(batch, chunk);
  }
  return samples;
}

/** As the anchor pipeline writes a batch: the artifact, then one locator per receipt. */
async function writeOnDemand(
  ledger: LedgerStore,
  b: Built & { salts: Hex[]; total: string },
  layout: string,
): Promise<StoredReceipt[]> {
  const jobId = randomBytes(32).toString("hex");
  const writer = await createBatchArtifactWriter(ledger.batchesDir, jobId);
  const codes: string[] = [];
  for (let i = 0; i < b.count; i++) {
    const code = newReceiptCode((n) => new Uint8Array(randomBytes(n)));
    codes.push(code);
    await writer.append({
      index: i,
      code,
      salt: b.salts[i]!,
      subject: b.values[i]![5],
      source: { file: "bench.csv", line: i + 2 },
      record: recordToJson(b.records[i]!),
    });
  }
  const manifestBytes = new TextEncoder().encode('{"format":"bench"}');
  const facts = {
    kind: "premium" as const,
    period: "1403-07",
    recordCount: b.count,
    total: b.total,
    root: b.tree.root,
    manifestHash: keccak256(manifestBytes) as Hex,
    idempotencyKey: hex(32),
    supersedes: null,
    reason: null,
  };
  await writer.commit({
    manifestBytes,
    tree: b.tree.serialize(),
    descriptor: { ...facts, createdAt: new Date().toISOString() },
  });
  const entry: BatchEntry = {
    format: "shafaf-batch-entry/1",
    batchId: 1,
    jobId,
    chainId: 31337,
    contract: CONTRACT,
    ...facts,
    supersededBy: null,
    txHash: b.txHash,
    blockNumber: 2,
    blockHash: hex(32),
    anchoredAt: 1_727_000_000,
    receipts: "on-demand",
  };
  await writeLocators(ledger, entry, layout, (i) => ({
    index: i,
    code: codes[i]!,
    subject: b.values[i]![5],
    recordId: b.records[i]!.recordId,
  }));
  await ledger.completeJob(
    {
      format: "shafaf-job/1",
      jobId,
      state: "complete",
      ...facts,
      createdAt: new Date().toISOString(),
      batchId: 1,
    },
    entry,
  );
  await ledger.publish();
  const samples: StoredReceipt[] = [];
  for (let i = 0; i < b.count; i += sampleEvery(b.count))
    samples.push((await ledger.getReceiptByCode(codes[i]!))!);
  return samples;
}

/** A `shafaf-tree/2` batch as the anchor job writes it: artifact (keys.bin), tiles, locators. */
async function writeV2(
  ledger: LedgerStore,
  count: number,
  records: PremiumRecord[],
  salts: Hex[],
  txHash: Hex,
  layout: string,
): Promise<{
  samples: { code: string; key: string }[];
  root: Hex;
  lanes: string[];
  tilesMs: number;
  jobId: string;
}> {
  const keys = new Uint8Array(randomBytes(32 * count));
  // every fifth record is a second record of the person before it (same key, same province)
  for (let i = 1; i < count; i += 5) keys.copyWithin(i * 32, (i - 1) * 32, i * 32);
  const batch = createSumTreeBatchCollector("premium");
  for (let i = 0; i < count; i++) batch.push(records[i]!, Buffer.from(salts[i]!.slice(2), "hex"));
  const tree = batch.build(keys);
  const jobId = randomBytes(32).toString("hex");
  const writer = await createBatchArtifactWriter(ledger.batchesDir, jobId);
  const codes: string[] = [];
  const subjects: Hex[] = [];
  for (let i = 0; i < count; i++) {
    const code = newReceiptCode((n) => new Uint8Array(randomBytes(n)));
    codes.push(code);
    subjects.push(hex(32));
    await writer.append({
      index: i,
      code,
      salt: salts[i]!,
      subject: subjects[i]!,
      source: { file: "bench.csv", line: i + 2 },
      record: recordToJson(records[i]!),
    });
  }
  const manifestBytes = new TextEncoder().encode('{"format":"bench"}');
  const lanes = tree.lanes.map(String);
  const facts = {
    kind: "premium" as const,
    period: "1403-07",
    recordCount: count,
    total: records.reduce((a, r) => a + r.total, 0n).toString(),
    root: tree.root,
    manifestHash: keccak256(manifestBytes) as Hex,
    idempotencyKey: hex(32),
    supersedes: null,
    reason: null,
  };
  const vrfKeyId = hex(32);
  const { dir } = await writer.commit({
    manifestBytes,
    keys,
    descriptor: {
      scheme: "shafaf-tree/2",
      vrfKeyId,
      lanes,
      ...facts,
      createdAt: new Date().toISOString(),
    },
  });
  const t = performance.now();
  await writeBatchTiles(dir, tree, keys);
  const tilesMs = performance.now() - t;
  const entry: BatchEntry = {
    format: "shafaf-batch-entry/1",
    batchId: 1,
    jobId,
    chainId: 31337,
    contract: CONTRACT,
    ...facts,
    supersededBy: null,
    txHash,
    blockNumber: 2,
    blockHash: hex(32),
    anchoredAt: 1_727_000_000,
    receipts: "on-demand",
    scheme: "shafaf-tree/2",
  };
  await writeLocators(ledger, entry, layout, (i) => ({
    index: i,
    code: codes[i]!,
    subject: subjects[i]!,
    recordId: records[i]!.recordId,
  }));
  await ledger.completeJob(
    {
      format: "shafaf-job/1",
      jobId,
      state: "complete",
      ...facts,
      createdAt: new Date().toISOString(),
      batchId: 1,
    },
    entry,
  );
  await ledger.publish();
  const samples: { code: string; key: string }[] = [];
  for (let i = 0; i < count; i += sampleEvery(count))
    samples.push({ code: codes[i]!, key: bytesToHex(keys.subarray(i * 32, i * 32 + 32)) });
  return { samples, root: tree.root, lanes, tilesMs, jobId };
}

/**
 * A batch's locators as the anchor job writes them: its locator tables and record ids
 * (`--layout on-demand`), or, before the tables, one LevelDB locator per receipt
 * (`--layout leveldb-locators`).
 */
async function writeLocators(
  ledger: LedgerStore,
  entry: BatchEntry,
  layout: string,
  line: (i: number) => { index: number; code: string; subject: string; recordId: string },
): Promise<void> {
  if (layout === "leveldb-locators") {
    for (let start = 0; start < entry.recordCount; start += 1000) {
      const chunk = [];
      for (let i = start; i < Math.min(entry.recordCount, start + 1000); i++) chunk.push(line(i));
      await ledger.writeReceiptLocators(entry, chunk);
    }
    return;
  }
  const artifact = await readBatchArtifact(path.join(ledger.batchesDir, entry.jobId));
  await writeBatchLocators(artifact!, undefined, (records) =>
    ledger.writeRecordIds(entry, records),
  );
  entry.locators = "files";
}

/** Child: builds a store of `count` receipts in one batch, serves it, reports URL and samples. */
async function serve(dir: string, count: number, layout: string): Promise<void> {
  const t0 = performance.now();
  const key = new Uint8Array(32).fill(9);
  const records: PremiumRecord[] = [];
  const salts: Hex[] = [];
  const values: LeafValues[] = [];
  for (let i = 0; i < count; i++) {
    const total = 30_000_000n + BigInt(i % 1000) * 1000n;
    const record: PremiumRecord = {
      kind: "premium",
      recordId: `P-${i}`,
      period: "1403-07",
      nationalId: nationalId(i + 1),
      workshopCode: String(1_000_000_000 + (i % 5000)),
      insuranceNo: String(10_000_000 + i),
      province: opts.scheme === "v2" ? `IR-${String((i * 7) % 31).padStart(2, "0")}` : "IR-23",
      days: 30,
      wageBase: (total * 10n) / 3n,
      workerShare: (total * 7n) / 30n,
      employerShare: (total * 20n) / 30n,
      unemploymentShare: total - (total * 7n) / 30n - (total * 20n) / 30n,
      hazardShare: 0n,
      total,
    };
    records.push(record);
    salts.push(hex(32));
    if (opts.scheme !== "v2")
      values.push(
        leafValues(record, { salt: salts[i]!, subject: subjectPseudonym(key, record.nationalId) }),
      );
  }
  const tree = buildMerkleTree(
    opts.scheme === "v2" ? new Uint8Array(32).fill(1) : leafHashes(values),
  );
  const txHash = hex(32);
  const ledger = await openLedgerStore(dir);
  const v2 =
    opts.scheme === "v2" ? await writeV2(ledger, count, records, salts, txHash, layout) : undefined;
  const index = await openIndexStore(path.join(dir, "index"));
  await index.initialize({
    chainId: 31337,
    contract: CONTRACT,
    genesisHash: hex(32),
    deployBlock: 1,
    confirmations: 0,
  });
  const tx = index.begin();
  tx.at({ number: 2, hash: hex(32), parentHash: hex(32) });
  tx.put("batches", hexKey(1), {
    ...(v2 === undefined ? {} : { scheme: "shafaf-tree/2", lanes: v2.lanes, vrfKeyId: hex(32) }),
    batchId: 1,
    kind: "premium",
    period: "1403-07",
    root: v2?.root ?? tree.root,
    recordCount: count,
    total: records.reduce((a, r) => a + r.total, 0n).toString(),
    manifestHash: hex(32),
    idempotencyKey: hex(32),
    headAfter: hex(32),
    anchorer: CONTRACT,
    anchoredAt: 1_727_000_000,
    txHash,
    blockNumber: 2,
    blockHash: hex(32),
    supersedes: null,
    supersededBy: null,
    status: "anchored",
    attestations: [],
    manifest: { status: "missing" },
  });
  await index.commit(tx, { cursor: { number: 2, hash: hex(32) }, keepFrom: 0 });
  const total = records.reduce((a, r) => a + r.total, 0n).toString();
  let samples: unknown[] =
    v2 !== undefined
      ? v2.samples
      : layout === "stored"
        ? await writeStored(ledger, { count, tree, records, values, txHash })
        : await writeOnDemand(
            ledger,
            { count, tree, records, values, salts, txHash, total },
            layout,
          );
  const built = performance.now() - t0;
  let restart: Record<string, number> | undefined;
  let served: LedgerStore | PublishedStore = ledger;
  if (layout === "on-demand") {
    // As `shafaf serve` reads a data directory: the published files, not the writer's LevelDB.
    await ledger.close();
    served = await openPublishedStore(dir);
  } else if (v2 !== undefined) {
    await ledger.close();
    served = await openLedgerStore(dir);
  }
  if (v2 !== undefined) {
    // A restart: the store opened afresh (a fresh assembler, nothing cached), then the
    // first receipt and the first person proof; beside it, the tree recomputed from the artifact
    // (what the first request of a v2 batch cost before tiles).
    const s0 = v2.samples[0]!;
    let t = performance.now();
    if ((await served.getReceiptByCode(s0.code)) === undefined) throw new Error("no receipt");
    const firstReceiptMs = performance.now() - t;
    t = performance.now();
    const key = Buffer.from(v2.samples[1]!.key.slice(2), "hex");
    if ((await served.getPersonBatch(1, key)) === undefined) throw new Error("no person proof");
    const firstPersonMs = performance.now() - t;
    t = performance.now();
    await loadArtifactSumTree((await readBatchArtifact(path.join(dir, "batches", v2.jobId)))!);
    const recomputeMs = performance.now() - t;
    restart = { firstReceiptMs, firstPersonMs, recomputeMs, tilesMs: v2.tilesMs };
    // fetch the sample receipts for the verify route
    const withReceipts = [];
    for (const x of v2.samples.slice(0, 200))
      withReceipts.push({ ...x, receipt: await served.getReceiptByCode(x.code) });
    samples = withReceipts;
  }
  // v2: the static file route of the second reference (the parent writes the file into it)
  const webRoot = path.join(dir, "web");
  if (v2 !== undefined) mkdirSync(webRoot);
  const api = createApp({
    index,
    ledger: served,
    ...(v2 !== undefined ? { webRoot } : {}),
    verify: v2 !== undefined ? verifyDocument : verifyReceipt,
    apiKeys: [],
    rateLimit: false,
    log: { info() {}, warn() {}, error() {} },
    ...(opts["verify-slots"] === undefined
      ? {}
      : { verifyConcurrency: Number(opts["verify-slots"]), verifyQueue: 0 }),
  });
  const running = await startServer({
    api,
    port: 0,
    onClosed: async () => {
      await index.close();
      await served.close();
    },
  });
  const samplesFile = path.join(dir, "samples.json");
  writeFileSync(samplesFile, JSON.stringify(samples));
  // --profile FILE: a CPU profile of the server while it serves (the fixture build left out).
  const profiler =
    opts.profile === undefined
      ? undefined
      : new (await import("node:inspector/promises")).Session();
  if (profiler !== undefined) {
    profiler.connect();
    await profiler.post("Profiler.enable");
    await profiler.post("Profiler.start");
  }
  process.send!({ url: running.url, samplesFile, builtMs: built, restart });
  process.on("message", (m) => {
    // "cpu": the server's CPU time so far (user + system, µs), for the per-request figure.
    if (m === "cpu") {
      const u = process.cpuUsage();
      process.send!({ cpuMicros: u.user + u.system });
      return;
    }
    const profiled =
      profiler === undefined
        ? Promise.resolve()
        : profiler
            .post("Profiler.stop")
            .then(({ profile }) => writeFileSync(opts.profile!, JSON.stringify(profile)));
    void profiled.then(() => running.close()).then(() => process.exit(0));
  });
}

interface RouteResult {
  name: string;
  requests: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
  /** Server CPU time (user + system) per request, ms: independent of other load on the machine. */
  serverCpuMs: number;
}

/** Sends `total` requests at `concurrency`, stopping early at `capMs`; latencies in ms. */
async function load(
  name: string,
  url: URL,
  make: (i: number) => { method: string; path: string; body?: string },
  total: number,
  concurrency: number,
  capMs: number,
): Promise<RouteResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const start = performance.now();
  const one = (i: number) =>
    new Promise<void>((resolve) => {
      const { method, path: p, body } = make(i);
      const t = performance.now();
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: p,
          method,
          agent,
          headers:
            body === undefined
              ? {}
              : { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on("end", () => {
            if (res.statusCode !== 200) errors++;
            latencies.push(performance.now() - t);
            resolve();
          });
        },
      );
      req.on("error", () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total && performance.now() - start < capMs) await one(next++);
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const q = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return {
    name,
    requests: latencies.length,
    seconds,
    perSecond: latencies.length / seconds,
    p50: q(0.5),
    p99: q(0.99),
    errors,
    serverCpuMs: NaN,
  };
}

/** One request on its own connection; resolves with the status and the latency in ms. */
function once(
  url: URL,
  agent: Agent,
  method: string,
  p: string,
  body?: string,
): Promise<{ status: number; ms: number }> {
  const t = performance.now();
  return new Promise((resolve) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: p,
        method,
        agent,
        headers:
          body === undefined
            ? {}
            : { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t }));
      },
    );
    req.on("error", () => resolve({ status: 0, ms: performance.now() - t }));
    req.end(body);
  });
}

interface ReadUnderLoad {
  alone: { p50: number; p99: number };
  loaded: { p50: number; p99: number };
  gets: number;
  getErrors: number;
  verifies: number;
  busy: number;
  verifyErrors: number;
}

/**
 * `gets` sequential reads of batch 1 alone, then the same while `clients` verification clients
 * loop (each sends, waits for the answer, sends again) until the reads are done.
 */
async function readUnderLoad(
  url: URL,
  bodies: readonly string[],
  clients: number,
  gets: number,
): Promise<ReadUnderLoad> {
  const readAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  const q = (xs: number[], p: number) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
  };
  let getErrors = 0;
  const reads = async (): Promise<number[]> => {
    const ms: number[] = [];
    for (let i = 0; i < gets; i++) {
      const r = await once(url, readAgent, "GET", "/api/v1/batches/1");
      if (r.status !== 200) getErrors++;
      ms.push(r.ms);
    }
    return ms;
  };
  await reads(); // warm-up
  const alone = await reads();
  const verifyAgent = new Agent({ keepAlive: true, maxSockets: clients });
  let stop = false;
  let verifies = 0;
  let busy = 0;
  let verifyErrors = 0;
  const load = Array.from({ length: clients }, async (_, c) => {
    for (let i = c; !stop; i += clients) {
      const r = await once(url, verifyAgent, "POST", "/api/v1/verify", bodies[i % bodies.length]);
      if (r.status === 200) verifies++;
      else if (r.status === 503) {
        busy++;
        await new Promise((w) => setTimeout(w, 1_000)); // as Retry-After asks
      } else verifyErrors++;
    }
  });
  await new Promise((r) => setTimeout(r, 300)); // let the load build up
  const loaded = await reads();
  stop = true;
  await Promise.all(load);
  readAgent.destroy();
  verifyAgent.destroy();
  return {
    alone: { p50: q(alone, 0.5), p99: q(alone, 0.99) },
    loaded: { p50: q(loaded, 0.5), p99: q(loaded, 0.99) },
    gets,
    getErrors,
    verifies,
    busy,
    verifyErrors,
  };
}

async function main(): Promise<void> {
  if (opts.serve !== undefined) return serve(opts.serve, Number(opts.receipts), opts.layout);
  if (!["on-demand", "leveldb-locators", "stored"].includes(opts.layout))
    throw new Error("--layout must be on-demand, leveldb-locators or stored");
  const count = Number(opts.receipts);
  const total = Number(opts.requests);
  const concurrency = Number(opts.concurrency);
  const capMs = Number(opts["cap-seconds"]) * 1000;
  const dir = mkdtempSync(path.join(tmpdir(), "shafaf-bench-api-"));
  const child = fork(
    import.meta.filename,
    [
      "--serve",
      dir,
      "--receipts",
      String(count),
      "--layout",
      opts.layout,
      "--scheme",
      opts.scheme,
      ...(opts["verify-slots"] === undefined ? [] : ["--verify-slots", opts["verify-slots"]]),
      ...(opts.profile === undefined ? [] : ["--profile", path.resolve(opts.profile)]),
    ],
    {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    },
  );
  try {
    const ready = await new Promise<{
      url: string;
      samplesFile: string;
      builtMs: number;
      restart?: Record<string, number>;
    }>((resolve, reject) => {
      child.once("message", (m) => resolve(m as never));
      child.once("exit", (code) => reject(new Error(`server exited ${code}`)));
    });
    const { readFileSync } = await import("node:fs");
    const v2 = opts.scheme === "v2";
    const raw = JSON.parse(readFileSync(ready.samplesFile, "utf8")) as {
      code: string;
      key?: string;
      receipt?: unknown;
    }[];
    const samples = raw;
    const bodies = raw.map((s) => JSON.stringify(v2 ? s.receipt : s));
    const url = new URL(ready.url);
    console.log(
      `store (${v2 ? "shafaf-tree/2, tiles" : opts.layout}): ${count.toLocaleString("en-US")} receipts built and written in ${(ready.builtMs / 1000).toFixed(1)} s`,
    );
    if (ready.restart !== undefined) {
      const r = ready.restart;
      console.log(
        `tiles written in ${(r.tilesMs! / 1000).toFixed(2)} s; after a restart: first receipt ${r.firstReceiptMs!.toFixed(0)} ms, first person proof ${r.firstPersonMs!.toFixed(0)} ms; the tree recomputed from the artifact (the first request before tiles) ${r.recomputeMs!.toFixed(0)} ms`,
      );
    }
    let proofBytes = 0;
    if (v2) {
      // the second reference: one person proof's answer, as a static file of the same server
      const res = await fetch(new URL("/api/v1/persons/proof", url), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ batchId: 1, key: samples[0]!.key }),
      });
      const bytes = new Uint8Array(await res.arrayBuffer());
      if (res.status !== 200) throw new Error(`the first person proof answered ${res.status}`);
      proofBytes = bytes.length;
      writeFileSync(path.join(dir, "web", "person-proof.json"), bytes);
    }
    console.log(
      `load: ${total} requests per route, concurrency ${concurrency}, cap ${capMs / 1000} s, 127.0.0.1, keep-alive\n`,
    );
    const routes: Record<string, (i: number) => { method: string; path: string; body?: string }> = {
      static: () => ({ method: "GET", path: "/healthz" }),
      receipt: (i: number) => ({
        method: "GET",
        path: `/api/v1/receipts/${samples[i % samples.length]!.code}`,
      }),
      ...(v2
        ? {
            person: (i: number) => ({
              method: "POST",
              path: "/api/v1/persons/proof",
              body: JSON.stringify({ batchId: 1, key: samples[i % samples.length]!.key }),
            }),
            "person-file": () => ({ method: "GET", path: "/person-proof.json" }),
          }
        : {}),
      verify: (i: number) => ({
        method: "POST",
        path: "/api/v1/verify",
        body: bodies[i % bodies.length]!,
      }),
    };
    if (opts.routes !== undefined) {
      const only = new Set(["static", ...opts.routes.split(",")]);
      for (const name of only)
        if (!(name in routes))
          throw new Error(`--routes: no route "${name}" (${Object.keys(routes).join(", ")})`);
      for (const name of Object.keys(routes)) if (!only.has(name)) delete routes[name];
    }
    for (const make of Object.values(routes))
      await load("warm-up", url, make, 300, concurrency, 5_000);
    const serverCpu = () =>
      new Promise<number>((resolve) => {
        child.once("message", (m) => resolve((m as { cpuMicros: number }).cpuMicros));
        child.send("cpu");
      });
    const results: RouteResult[] = [];
    // Interleave rounds so that drift on a shared machine hits every route alike; report the better run.
    for (let round = 0; round < Number(opts.rounds); round++) {
      for (const [name, make] of Object.entries(routes)) {
        const before = await serverCpu();
        const r = await load(name, url, make, total, concurrency, capMs);
        r.serverCpuMs = ((await serverCpu()) - before) / 1000 / r.requests;
        results.push(r);
      }
    }
    const best = (name: string) =>
      results.filter((r) => r.name === name).sort((a, b) => b.perSecond - a.perSecond)[0]!;
    const reference = best("static");
    const cpuOf = (name: string) =>
      Math.min(...results.filter((r) => r.name === name).map((r) => r.serverCpuMs));
    console.log(
      "| route | requests | req/s | p50 ms | p99 ms | errors | vs static | server CPU ms/request | vs static by CPU |",
    );
    console.log("|---|---|---|---|---|---|---|---|---|");
    for (const [name, label] of [
      ["static", "GET /healthz (static JSON)"],
      ["receipt", "GET /api/v1/receipts/{code}"],
      ...(v2 ? [["person", "POST /api/v1/persons/proof"] as const] : []),
      ["verify", "POST /api/v1/verify"],
      ...(v2
        ? [
            [
              "person-file",
              `GET /person-proof.json (second reference: a static file of ${proofBytes.toLocaleString("en-US")} bytes, one person proof)`,
            ] as const,
          ]
        : []),
    ] as const) {
      if (!(name in routes)) continue;
      const r = best(name);
      console.log(
        `| ${label} | ${r.requests} | ${r.perSecond.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.errors} | ${(r.perSecond / reference.perSecond).toFixed(2)} | ${cpuOf(name).toFixed(3)} | ${(cpuOf("static") / cpuOf(name)).toFixed(2)} |`,
      );
    }
    if (v2 && "person" in routes && "person-file" in routes) {
      const file = cpuOf("person-file");
      const person = cpuOf("person");
      console.log(
        `\nperson proof beside the second reference (a static file of the same size, same server): ${(file / person).toFixed(2)} by CPU (${person.toFixed(3)} against ${file.toFixed(3)} ms), ${(best("person").perSecond / best("person-file").perSecond).toFixed(2)} by req/s; the reference of the figure stays the static JSON route`,
      );
    }
    if (opts.routes !== undefined) {
      const failed = results.some((r) => r.errors > 0);
      if (failed) console.error("\nsome requests failed: the figures above are not valid");
      process.exitCode = failed ? 1 : 0;
      return;
    }
    const clients = Number(opts["verify-concurrency"]);
    const rl = await readUnderLoad(url, bodies, clients, Number(opts.gets));
    console.log(
      `\nread under load: GET /api/v1/batches/1, ${rl.gets} sequential reads alone, then while ${clients} clients verify without pause`,
    );
    console.log("| GET /api/v1/batches/1 | p50 ms | p99 ms |");
    console.log("|---|---|---|");
    console.log(`| alone | ${rl.alone.p50.toFixed(2)} | ${rl.alone.p99.toFixed(2)} |`);
    console.log(`| while verifying | ${rl.loaded.p50.toFixed(2)} | ${rl.loaded.p99.toFixed(2)} |`);
    console.log(
      `| ratio | ${(rl.loaded.p50 / rl.alone.p50).toFixed(1)} | ${(rl.loaded.p99 / rl.alone.p99).toFixed(1)} |`,
    );
    console.log(
      `verifications meanwhile: ${rl.verifies} answered, ${rl.busy} refused 503 busy (bounded queue), ${rl.verifyErrors} errors`,
    );
    const failed = results.some((r) => r.errors > 0) || rl.getErrors > 0 || rl.verifyErrors > 0;
    if (failed) console.error("\nsome requests failed: the figures above are not valid");
    process.exitCode = failed ? 1 : 0;
  } finally {
    child.send("stop");
    await new Promise((r) => child.once("exit", r));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();

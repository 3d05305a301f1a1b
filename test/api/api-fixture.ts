/**
 * A served dataset for the API tests: real LevelDB stores (index and ledger) in a temp folder.
 * Batches are built from synthetic people (national IDs with valid check digits, insurance
 * numbers, Persian names) with real OpenZeppelin Merkle trees and receipts, and recorded as a
 * ledger event log (ABI-encoded logs, test/indexer/scripted-history.ts); the index is written by
 * the real indexer syncing that log from a scripted node, never by hand, so the API is tested
 * against the views the indexer writes. The real app serves them on 127.0.0.1:0. Nothing here
 * runs at import time.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { keccak256 } from "ethers";
import type { ApiLog } from "../../src/api/app-deps.ts";
import type { Hex } from "../../src/core/hex.ts";
import { leafHashes, leafValues, type LeafValues } from "../../src/core/leaf.ts";
import { buildMerkleTree } from "../../src/core/merkle-tree.ts";
import { subjectPseudonym } from "../../src/core/pseudonym.ts";
import { buildReceipt } from "../../src/core/receipt.ts";
import { newReceiptCode } from "../../src/core/receipt-code.ts";
import type { LedgerRecord } from "../../src/core/record.ts";
import { verifyReceipt } from "../../src/core/verify-receipt.ts";
import { createApp, type CreateAppOptions } from "../../src/api/create-app.ts";
import { startServer, type RunningServer } from "../../src/api/start-server.ts";
import {
  openIndexStore,
  type BatchView,
  type WritableIndexStore,
} from "../../src/store/index-store.ts";
import {
  openLedgerStore,
  type BatchEntry,
  type LedgerStore,
  type StoredReceipt,
} from "../../src/store/ledger-store.ts";
import {
  A,
  H,
  indexScripted,
  ledgerHistory,
  type LedgerHistory,
} from "../indexer/scripted-history.ts";

export const CONTRACT = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
export const ANCHORER = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";
export const AUDITOR = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
/** The organization's pseudonym key in the fixture (32 bytes). */
const PSEUDONYM_KEY = new Uint8Array(32).fill(7);
/** The index serves blocks this deep, as `shafaf index --confirmations 2` does. */
const CONFIRMATIONS = 2;

const FIRST = ["علی", "زهرا", "محمد", "فاطمه", "حسین", "مریم", "رضا", "سارا", "مهدی", "نرگس"];
const LAST = [
  "رضایی",
  "احمدی",
  "کریمی",
  "حسینی",
  "موسوی",
  "جعفری",
  "صادقی",
  "نوری",
  "کاظمی",
  "تهرانی",
];

/** One person of the input file: everything here is personal data. */
export interface Person {
  nationalId: string;
  insuranceNo: string;
  firstName: string;
  lastName: string;
  subject: string;
}

export interface FixtureBatch {
  view: BatchView;
  receipts: { code: string; person: Person; receipt: StoredReceipt }[];
}

export interface Dataset {
  people: Person[];
  batches: FixtureBatch[];
  /** A receipt whose batch is not in the index (anchored, not yet indexed). */
  unindexed: { code: string; receipt: StoredReceipt };
  /** A stored receipt that has been tampered with (its amount changed). */
  tampered: { code: string; receipt: StoredReceipt };
  /**
   * The disputing auditor's `shafaf-audit/1` report on batch 2 (its keccak256 is that
   * attestation's reportHash). Like a real one it holds personal data: a person's amounts,
   * national ID and name, which the public findings MUST NOT repeat.
   */
  disputeReport: Uint8Array;
}

/** A report shaped like `auditBatch`'s, naming `person`'s record with its values. */
function disputeReportOf(person: Person): Uint8Array {
  const report = {
    format: "shafaf-audit/1",
    batchId: 2,
    kind: "pension",
    period: "1403-07",
    generatedAt: null,
    verdict: "mismatch",
    checks: [
      {
        name: "kind-period",
        ok: true,
        anchored: "pension 1403-07",
        recomputed: "pension 1403-07",
        detail: "",
      },
      {
        name: "root",
        ok: false,
        anchored: "0x" + "aa".repeat(32),
        recomputed: "0x" + "bb".repeat(32),
        detail: "",
      },
      { name: "total", ok: false, anchored: "123456789", recomputed: "121956789", detail: "" },
    ],
    mismatches: [
      {
        problem: "changed",
        recordId: `P-${person.insuranceNo}`,
        anchoredIndex: 3,
        source: `pension-${person.lastName}.csv:5`,
        field: "deductions",
        anchored: "2500000",
        recomputed: "4000000",
        detail: `deductions of ${person.firstName} ${person.lastName} (${person.nationalId}) differ`,
      },
      {
        problem: "changed",
        recordId: `P-${person.insuranceNo}`,
        anchoredIndex: 3,
        source: null,
        field: `national id ${person.nationalId}`,
        anchored: person.nationalId,
        recomputed: null,
        detail: "",
      },
    ],
    anomalies: [
      {
        check: "late-pension",
        subject: person.subject,
        recordIds: [],
        field: null,
        expected: null,
        found: null,
        detail: person.nationalId,
      },
    ],
  };
  return new TextEncoder().encode(`${JSON.stringify(report, null, 2)}\n`);
}

/** A valid national ID (check digit per DOMAIN.md) from a 9-digit body; repdigits avoided. */
export function nationalIdFrom(n: number): string {
  const body = String(100_000_000 + n * 7919).slice(-9);
  let s = 0;
  for (let i = 0; i < 9; i++) s += Number(body[i]) * (10 - i);
  const r = s % 11;
  return body + String(r < 2 ? r : 11 - r);
}

const hex = (bytes: number) => "0x" + randomBytes(bytes).toString("hex");
export const newCode = () => newReceiptCode((n) => new Uint8Array(randomBytes(n)));

/** Core's verifier, as the CLI wires it. */
export const verifyWithCore = verifyReceipt;

/** Synthetic people; `n` of them. */
export function makePeople(n: number): Person[] {
  return Array.from({ length: n }, (_, i) => ({
    nationalId: nationalIdFrom(i + 1),
    insuranceNo: String(40_000_000 + i * 37),
    firstName: FIRST[i % FIRST.length]!,
    lastName: LAST[(i * 3) % LAST.length]! + (i >= 10 ? `-${i}` : ""),
    subject: subjectPseudonym(PSEUDONYM_KEY, nationalIdFrom(i + 1)),
  }));
}

interface BatchSpec {
  batchId: number;
  kind: "premium" | "pension";
  period: string;
  /** Province → how many people of `people` (taken in order). */
  provinces: Record<string, number>;
  supersedes?: number;
  verdicts?: ("confirmed" | "disputed")[];
  /** The reportHash of each "disputed" attestation (random when absent). */
  disputeReportHash?: string;
}

/** A batch before it is anchored: its records, leaves and tree, and the manifest's figures. */
interface BuiltBatch {
  spec: BatchSpec;
  rows: { person: Person; province: string; amount: bigint }[];
  records: LedgerRecord[];
  values: LeafValues[];
  tree: ReturnType<typeof buildMerkleTree>;
  total: bigint;
  byProvince: Record<string, { count: number; total: string }>;
}

function buildBatch(spec: BatchSpec, people: Person[], offset: number): BuiltBatch {
  const rows: { person: Person; province: string; amount: bigint }[] = [];
  let k = offset;
  for (const [province, n] of Object.entries(spec.provinces)) {
    for (let i = 0; i < n; i++) {
      const person = people[k++ % people.length]!;
      rows.push({ person, province, amount: 1_000_000n + BigInt(k) * 12_345n });
    }
  }
  const records: LedgerRecord[] = rows.map((r, i) =>
    spec.kind === "premium"
      ? {
          kind: "premium",
          recordId: `R${spec.batchId}-${i}`,
          period: spec.period,
          nationalId: r.person.nationalId,
          workshopCode: String(1_000_000_000 + i),
          insuranceNo: r.person.insuranceNo,
          province: r.province,
          days: 30,
          wageBase: (r.amount * 100n) / 30n,
          workerShare: (r.amount * 7n) / 30n,
          employerShare: (r.amount * 20n) / 30n,
          unemploymentShare: r.amount - (r.amount * 7n) / 30n - (r.amount * 20n) / 30n,
          hazardShare: 0n,
          total: r.amount,
        }
      : {
          kind: "pension",
          recordId: `R${spec.batchId}-${i}`,
          period: spec.period,
          nationalId: r.person.nationalId,
          pensionFile: String(5_000_000 + i),
          category: "retirement",
          province: r.province,
          gross: r.amount + 50_000n,
          deductions: 50_000n,
          net: r.amount,
          dueOn: `${spec.period}-05`,
          paidOn: `${spec.period}-05`,
        },
  );
  const values: LeafValues[] = records.map((record, i) =>
    leafValues(record, { salt: hex(32) as Hex, subject: rows[i]!.person.subject as Hex }),
  );
  const tree = buildMerkleTree(leafHashes(values));
  const total = rows.reduce((s, r) => s + r.amount, 0n);
  const byProvince: Record<string, { count: number; total: string }> = {};
  for (const r of rows) {
    const cell = (byProvince[r.province] ??= { count: 0, total: "0" });
    cell.count++;
    cell.total = (BigInt(cell.total) + r.amount).toString();
  }
  return { spec, rows, records, values, tree, total, byProvince };
}

/** The receipts of `b` anchored in `txHash` at `block`, each under a fresh code. */
function receiptsOf(b: BuiltBatch, anchor: { txHash: string; blockNumber: number }) {
  return b.rows.map((r, i) => {
    const code = newCode();
    const receipt = buildReceipt({
      chainId: 31337,
      contract: CONTRACT,
      batchId: b.spec.batchId,
      tree: b.tree,
      index: i,
      record: b.records[i]!,
      values: b.values[i]!,
      anchor: { txHash: anchor.txHash, blockNumber: anchor.blockNumber },
      code,
    }) as unknown as StoredReceipt;
    return { code, person: r.person, receipt };
  });
}

const ROLE_ANCHORER = H("ANCHORER_ROLE");
export interface DatasetOptions {
  /** Add three `shafaf-tree/2` batches (BatchAnchoredV2) after the v1 ones. */
  v2?: boolean;
}

/** The VRF key registered at block 3 (its id is the keccak256 of its public key). */
const VRF_PUBLIC_KEY = "0x" + "42".repeat(32);

/**
 * The dataset as a ledger's event log: premium 1403-07 (batch 1, superseded by batch 3), pension
 * 1403-07 (batch 2, confirmed then disputed), premium 1403-08 with 6 people (a row under 10),
 * province cells of 3 people, a role grant, a VRF key, a pause and an unpause; with `v2`, three
 * `shafaf-tree/2` batches follow (5: premium, 4 persons; 6: pension, 40; 7: premium, 25; no
 * receipts). The `view`s of the
 * batches are filled in by `writeStores` from what the real indexer writes.
 */
export async function makeDataset(
  options: DatasetOptions = {},
): Promise<{ dataset: Dataset; history: LedgerHistory }> {
  const people = makePeople(120);
  const disputeReport = disputeReportOf(people[4]!);
  const specs: BatchSpec[] = [
    {
      batchId: 1,
      kind: "premium",
      period: "1403-07",
      provinces: { "IR-23": 30, "IR-07": 14, "IR-16": 3 },
      verdicts: ["confirmed"],
    },
    {
      batchId: 2,
      kind: "pension",
      period: "1403-07",
      provinces: { "IR-23": 25, "IR-01": 22 },
      verdicts: ["confirmed", "disputed"],
      disputeReportHash: keccak256(disputeReport),
    },
    {
      batchId: 3,
      kind: "premium",
      period: "1403-07",
      provinces: { "IR-23": 31, "IR-07": 14, "IR-16": 3, "IR-29": 12 },
      supersedes: 1,
    },
    { batchId: 4, kind: "premium", period: "1403-08", provinces: { "IR-23": 6 } },
  ];
  const history = await ledgerHistory(CONTRACT);
  history.emit(2, "RoleGranted", [ROLE_ANCHORER, ANCHORER, ANCHORER]);
  history.emit(3, "VrfKeyRegistered", [keccak256(VRF_PUBLIC_KEY), VRF_PUBLIC_KEY, 0, ANCHORER]);
  let offset = 0;
  const batches: FixtureBatch[] = specs.map((spec, i) => {
    const b = buildBatch(spec, people, offset);
    offset += b.rows.length;
    const blockNumber = 10 + i * 2;
    const txHash = history.anchorAt(
      blockNumber,
      spec.batchId,
      spec.kind === "premium" ? 0 : 1,
      Number(spec.period.replace("-", "")),
      b.rows.length,
      b.total,
      spec.supersedes ?? 0,
      { byProvince: b.byProvince, people: b.rows.length },
      { root: b.tree.root, anchorer: ANCHORER },
    );
    (spec.verdicts ?? []).forEach((verdict, j) => {
      const reportHash =
        verdict === "disputed" ? (spec.disputeReportHash ?? hex(32)) : H(`report ${i} ${j}`);
      history.emit(blockNumber + 1, "BatchAttested", [
        spec.batchId,
        j === 0 ? AUDITOR : A(0xb2 + j),
        verdict === "confirmed" ? 1 : 2,
        0,
        reportHash,
      ]);
    });
    return {
      view: undefined as unknown as BatchView,
      receipts: receiptsOf(b, { txHash, blockNumber }),
    };
  });
  history.emit(30, "Paused", [ANCHORER]);
  history.emit(31, "Unpaused", [ANCHORER]);
  if (options.v2 === true) {
    const keyId = keccak256(VRF_PUBLIC_KEY);
    const lanes = (l: number[]) => l.map(BigInt);
    history.anchorV2At(40, 5, 0, 140308, lanes([5, 4, 90_000_000, 150, 27_000_000, 0]), 0, keyId);
    history.anchorV2At(
      41,
      6,
      1,
      140308,
      lanes([48, 40, 9_000_000_000, 1_000_000_000, 8_000_000_000, 45]),
      0,
      keyId,
    );
    history.anchorV2At(42, 7, 0, 140308, lanes([30, 25, 900, 300, 270, 0]), 0, keyId);
  }
  // the next batch is anchored after the indexed range: its receipt exists, it is not indexed
  const extra = buildBatch(
    {
      batchId: options.v2 === true ? 8 : 5,
      kind: "pension",
      period: "1403-08",
      provinces: { "IR-01": 11 },
    },
    people,
    7,
  );
  const extraReceipt = receiptsOf(extra, { txHash: hex(32), blockNumber: 60 })[0]!;
  const tamperedSource = batches[1]!.receipts[0]!;
  const values = [...(tamperedSource.receipt.values as string[])];
  values[3] = (BigInt(values[3]!) + 1n).toString();
  const record = { ...(tamperedSource.receipt.record as Record<string, unknown>), net: values[3] };
  const dataset: Dataset = {
    people,
    batches,
    unindexed: { code: extraReceipt.code, receipt: extraReceipt.receipt },
    tampered: { code: newCode(), receipt: { ...tamperedSource.receipt, values, record } },
    disputeReport,
  };
  return { dataset, history };
}

export interface Served {
  url: string;
  dataset: Dataset;
  index: WritableIndexStore;
  ledger: LedgerStore;
  running: RunningServer;
  logs: { level: string; event: string; fields: Record<string, unknown> }[];
  close(): Promise<void>;
}

/**
 * Fills real stores under a temp data dir: the index by running the real indexer over `history`
 * (served at the JSON-RPC boundary, 2 confirmations, caught up to `indexedUpTo`), then the ledger
 * store with each batch's entry and receipts as the anchor pipeline writes them. Sets each
 * `dataset.batches[i].view` to the view the indexer wrote.
 */
export async function writeStores(
  dir: string,
  dataset: Dataset,
  history: LedgerHistory,
  options: { indexedUpTo?: number; headBlock?: number } = {},
): Promise<{ index: WritableIndexStore; ledger: LedgerStore }> {
  const index = await openIndexStore(path.join(dir, "index"));
  const last = options.indexedUpTo ?? 50;
  await indexScripted(history, index, {
    headBlock: last + CONFIRMATIONS,
    confirmations: CONFIRMATIONS,
    holders: [`${ROLE_ANCHORER}!${ANCHORER}`],
    fromBlock: 1,
  });
  // a log the indexer finds inconsistent (a gap in batch ids, a wrong headAfter) is a broken fixture
  const info = await index.getChainInfo();
  if (info?.headCheck.status !== "ok")
    throw new Error(
      `the fixture's event log fails the indexer's head check: ${JSON.stringify(info?.headCheck)}`,
    );
  // the chain moved on after the sync (the indexer's head watcher records it the same way)
  if (options.headBlock !== undefined) await index.setHeadBlock(options.headBlock);
  for (const b of dataset.batches) {
    const id = b.receipts[0]!.receipt.batchId as number;
    const view = await index.getBatch(id);
    if (view === undefined) throw new Error(`the indexer wrote no view of batch ${id}`);
    b.view = view;
  }

  const ledger = await openLedgerStore(dir);
  await ledger.bindChain({ chainId: 31337, contract: CONTRACT });
  const all = [...dataset.batches];
  const writeBatch = async (
    view: BatchView,
    receipts: { code: string; person: Person; receipt: StoredReceipt }[],
  ) => {
    const entry: BatchEntry = {
      format: "shafaf-batch-entry/1",
      batchId: view.batchId,
      jobId: `job-${view.batchId}`,
      chainId: 31337,
      contract: CONTRACT,
      kind: view.kind,
      period: view.period,
      root: view.root,
      manifestHash: view.manifestHash,
      idempotencyKey: view.idempotencyKey,
      recordCount: view.recordCount,
      total: view.total,
      supersedes: view.supersedes,
      supersededBy: view.supersededBy,
      reason: null,
      txHash: view.txHash,
      blockNumber: view.blockNumber,
      blockHash: view.blockHash,
      anchoredAt: view.anchoredAt,
    };
    await ledger.writeReceipts(
      entry,
      receipts.map((r, i) => ({
        index: i,
        code: r.code,
        subject: r.person.subject,
        recordId: `R${view.batchId}-${i}`,
        receipt: r.receipt,
      })),
    );
  };
  for (const b of all) await writeBatch(b.view, b.receipts);
  const t = dataset.tampered;
  const src = dataset.batches[1]!;
  await ledger.writeReceipts(
    { batchId: 2, kind: src.view.kind, period: src.view.period } as BatchEntry,
    [{ index: 9999, code: t.code, subject: hex(32), recordId: "tampered", receipt: t.receipt }],
  );
  await ledger.writeReceipts({ batchId: 5, kind: "pension", period: "1403-08" } as BatchEntry, [
    {
      index: 0,
      code: dataset.unindexed.code,
      subject: hex(32),
      recordId: "unindexed",
      receipt: dataset.unindexed.receipt,
    },
  ]);
  return { index, ledger };
}

/** Serves a fresh dataset through the real stores and the real app on 127.0.0.1:0. */
export async function serveDataset(
  overrides: Partial<CreateAppOptions> = {},
  storeOptions: { indexedUpTo?: number; headBlock?: number } & DatasetOptions = {},
  serverOptions: { requestTimeoutMs?: number } = {},
): Promise<Served> {
  const dir = mkdtempSync(path.join(tmpdir(), "shafaf-api-"));
  const { dataset, history } = await makeDataset({ v2: storeOptions.v2 === true });
  const { index, ledger } = await writeStores(dir, dataset, history, storeOptions);
  const logs: Served["logs"] = [];
  const log: ApiLog = {
    info: (event, fields = {}) => logs.push({ level: "info", event, fields }),
    warn: (event, fields = {}) => logs.push({ level: "warn", event, fields }),
    error: (event, fields = {}) => logs.push({ level: "error", event, fields }),
  };
  const reportHash = keccak256(dataset.disputeReport);
  const api = createApp({
    index,
    ledger,
    verify: verifyWithCore,
    apiKeys: [],
    log,
    rateLimit: false,
    // The disputing auditor published its report (as `shafaf serve` finds it in <data-dir>/audits).
    auditReports: {
      read: (hash) =>
        Promise.resolve(hash.toLowerCase() === reportHash ? dataset.disputeReport : undefined),
    },
    ...overrides,
  });
  const running = await startServer({
    api,
    port: 0,
    graceMs: 2_000,
    ...serverOptions,
    onClosed: async () => {
      await index.close();
      await ledger.close();
    },
  });
  return {
    url: running.url,
    dataset,
    index,
    ledger,
    running,
    logs,
    async close() {
      await running.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

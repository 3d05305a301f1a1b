/**
 * The route modules' own pieces (src/api/routes/, public-batch, readiness), each without the
 * whole app; one route module is mounted alone on a bare app to show it stands on its own.
 */
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { keccak256 } from "ethers";
import { expect } from "chai";
import express from "express";
import {
  UploadRejectedError,
  type ApiLog,
  type BatchView,
  type ChainInfo,
  type UploadIssue,
} from "../../src/api/app-deps.ts";
import { createConcurrencyGate } from "../../src/api/concurrency-gate.ts";
import { errorHandler } from "../../src/api/middleware.ts";
import { ApiProblem } from "../../src/api/problem.ts";
import { publicBatch } from "../../src/api/public-batch.ts";
import { createReadiness, isCaughtUp } from "../../src/api/readiness.ts";
import { createRequestValidators } from "../../src/api/request-validator.ts";
import { batchOr404, batchRoutes, listQuery } from "../../src/api/routes/batches.ts";
import { headCheckView } from "../../src/api/routes/chain.ts";
import { documentedRouter, expressPath } from "../../src/api/routes/documented.ts";
import { attestedReport } from "../../src/api/routes/findings.ts";
import { receiptBatchId } from "../../src/api/routes/receipts.ts";
import { uploadFailure } from "../../src/api/routes/staff.ts";
import { verifyRoutes } from "../../src/api/routes/verify.ts";
import type { StoredReceipt } from "../../src/store/ledger-store.ts";
import { makeDataset } from "./api-fixture.ts";
import { call, postJson } from "./http.ts";

const silent: ApiLog = { info() {}, warn() {}, error() {} };

function recordingLog() {
  const logs: { level: string; event: string; fields: Record<string, unknown> }[] = [];
  const log: ApiLog = {
    info: (event, fields = {}) => logs.push({ level: "info", event, fields }),
    warn: (event, fields = {}) => logs.push({ level: "warn", event, fields }),
    error: (event, fields = {}) => logs.push({ level: "error", event, fields }),
  };
  return { log, logs };
}

const BATCH: BatchView = {
  batchId: 7,
  kind: "pension",
  period: "1403-07",
  root: "0x" + "11".repeat(32),
  recordCount: 40,
  total: "1000",
  manifestHash: "0x" + "22".repeat(32),
  idempotencyKey: "0x" + "33".repeat(32),
  headAfter: "0x" + "44".repeat(32),
  anchorer: "0x" + "55".repeat(20),
  anchoredAt: 1,
  txHash: "0x" + "66".repeat(32),
  blockNumber: 9,
  blockHash: "0x" + "77".repeat(32),
  supersedes: null,
  supersededBy: null,
  status: "anchored",
  attestations: [],
  manifest: { status: "ok", byProvince: { "IR-01": { people: 3, total: "5" } } } as never,
};

async function listen(app: express.Express): Promise<{ url: string; server: Server }> {
  const server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe("API route modules", function () {
  const validators = createRequestValidators();

  it("documented router: OpenAPI paths become Express paths and label res.locals.route", async function () {
    expect(expressPath("/api/v1/batches/{id}/attestations/{index}/findings")).to.equal(
      "/api/v1/batches/:id/attestations/:index/findings",
    );
    const { router, route } = documentedRouter(validators);
    route("get", "/api/v1/batches/{id}", (req, res) => {
      res.json({ route: res.locals.route, id: req.params.id });
    });
    const { url, server } = await listen(express().use(router));
    try {
      expect((await call(`${url}/api/v1/batches/42`)).json).to.deep.equal({
        route: "/api/v1/batches/{id}",
        id: "42",
      });
    } finally {
      server.close();
    }
  });

  it("batches: the list query, from ≤ to, and 404 for an unindexed batch", async function () {
    expect(listQuery({ limit: 5, kind: "premium", from: "1403-01", to: "1403-02" })).to.deep.equal({
      limit: 5,
      kind: "premium",
      fromPeriod: "1403-01",
      toPeriod: "1403-02",
    });
    expect(() => listQuery({ limit: 5, from: "1403-03", to: "1403-02" }))
      .to.throw(ApiProblem)
      .with.property("slug", "invalid-request");
    const index = { getBatch: (id: number) => Promise.resolve(id === 7 ? BATCH : undefined) };
    expect(await batchOr404(index, 7)).to.equal(BATCH);
    let problem: unknown;
    await batchOr404(index, 8).catch((e: unknown) => (problem = e));
    expect(problem).to.be.instanceOf(ApiProblem).with.property("slug", "batch-not-found");
  });

  it("batches: mounted alone, serves the public projection with small cells suppressed", async function () {
    const app = express();
    app.use(
      batchRoutes(validators, {
        index: {
          getBatch: (id) => Promise.resolve(id === 7 ? BATCH : undefined),
          listBatches: () => Promise.resolve({ items: [BATCH] }),
        },
      }),
    );
    app.use(errorHandler(silent));
    const { url, server } = await listen(app);
    try {
      const one = await call(`${url}/api/v1/batches/7`);
      expect(one.status).to.equal(200);
      expect(one.json).to.deep.equal(JSON.parse(JSON.stringify(publicBatch(BATCH))));
      expect(one.json.manifest.byProvince).not.to.deep.equal(BATCH.manifest.byProvince);
      expect((await call(`${url}/api/v1/batches/8`)).json.type).to.match(/batch-not-found$/);
      expect((await call(`${url}/api/v1/batches/x`)).status).to.equal(400);
      expect((await call(`${url}/api/v1/batches?limit=2`)).json.nextCursor).to.equal(null);
    } finally {
      server.close();
    }
  });

  it("public batch: a v2 batch shows its named lanes, or hides them under 10 persons", function () {
    const totals = ["40", "12", "900", "50", "850", "800"];
    const v2 = publicBatch({ ...BATCH, scheme: "shafaf-tree/2", totals, vrfKeyId: "0xkey" });
    expect(v2).to.include({ scheme: "shafaf-tree/2", persons: 12, vrfKeyId: "0xkey" });
    expect(v2.lanes).to.deep.equal({ gross: "900", deductions: "50", net: "850", onTime: "800" });
    const few = publicBatch({
      ...BATCH,
      scheme: "shafaf-tree/2",
      totals: ["4", "4", "1", "1", "1", "1"],
    });
    expect(few.lanes).to.deep.equal({ suppressed: true });
    expect(publicBatch(BATCH).scheme).to.equal("shafaf-tree/1");
    expect(Object.keys(publicBatch(BATCH))).not.to.include("lanes");
  });

  it("chain: the head check keeps documented members; an outside alarm overrides it", function () {
    const head = { status: "ok", onChain: "0xa", recomputed: "0xa", atBlock: 5, extra: 1 } as never;
    expect(headCheckView(head, undefined)).to.deep.equal({
      status: "ok",
      onChain: "0xa",
      recomputed: "0xa",
      atBlock: 5,
    });
    expect(headCheckView(head, "another chain")).to.deep.equal({
      status: "mismatch",
      onChain: "0xa",
      recomputed: "0xa",
      atBlock: 5,
      detail: "another chain",
    });
  });

  it("readiness: ready once caught up, and stays ready; a failing read is not ready", async function () {
    const info = (lastIndexedBlock: number) =>
      ({ lastIndexedBlock, headBlock: 100, confirmations: 5 }) as ChainInfo;
    expect(isCaughtUp(info(95))).to.equal(true);
    expect(isCaughtUp(info(94))).to.equal(false);
    let next: ChainInfo | Error = new Error("closed");
    const readiness = createReadiness({
      getChainInfo: () => (next instanceof Error ? Promise.reject(next) : Promise.resolve(next)),
    });
    expect(await readiness.check()).to.equal(false);
    next = info(10);
    expect(await readiness.check()).to.equal(false);
    expect(readiness.observe(info(95))).to.equal(true);
    expect(readiness.observe(info(10))).to.equal(false);
    expect(await readiness.check()).to.equal(true);
  });

  it("findings: only the bytes whose keccak256 was attested are the report", async function () {
    const bytes = new TextEncoder().encode("{}");
    const hash = keccak256(bytes);
    const where = { batchId: 2, attestation: 1 };
    const { log, logs } = recordingLog();
    const reports = {
      read: (h: string) => Promise.resolve(h === hash ? bytes : new Uint8Array([1])),
    };
    expect(await attestedReport(reports, hash, log, where)).to.equal(bytes);
    expect(await attestedReport(reports, "0x" + "00".repeat(32), log, where)).to.equal(undefined);
    expect(await attestedReport(undefined, hash, log, where)).to.equal(undefined);
    const broken = { read: () => Promise.reject(new RangeError("disk")) };
    expect(await attestedReport(broken, hash, log, where)).to.equal(undefined);
    expect(logs.map((l) => [l.event, l.fields])).to.deep.equal([
      ["audit-report-mismatch", where],
      ["audit-report-unreadable", { batchId: 2, error: "RangeError" }],
    ]);
  });

  it("receipts: a stored receipt's batch id must be a positive safe integer", function () {
    const r = (batchId: unknown) => ({ batchId }) as unknown as StoredReceipt;
    expect(receiptBatchId(r(3))).to.equal(3);
    for (const bad of [0, -1, 1.5, "3", 2 ** 53, undefined])
      expect(receiptBatchId(r(bad))).to.equal(undefined);
  });

  it("staff upload: record issues become upload-rejected (documented members only), the rest anchor-failed", function () {
    const { log, logs } = recordingLog();
    const rejected = uploadFailure(
      new UploadRejectedError([
        {
          line: 3,
          field: "nid",
          rule: "check-digit",
          message: "m",
          hint: "h",
          value: "0012345678",
        } as UploadIssue,
      ]),
      log,
      "payroll",
    );
    expect(rejected.slug).to.equal("upload-rejected");
    expect(rejected.extensions.issues).to.deep.equal([
      { line: 3, field: "nid", rule: "check-digit", message: "m", hint: "h" },
    ]);
    const issue: UploadIssue = { field: "f", rule: "r", message: "m", hint: "h" };
    const many = uploadFailure(
      new UploadRejectedError(Array.from({ length: 150 }, () => issue)),
      log,
      "k",
    );
    expect((many.extensions.issues as unknown[]).length).to.equal(100);
    expect(many.detail).to.equal("150 record issue(s); fix the file and upload it again");
    expect(logs).to.deep.equal([]);
    // The rejection is a typed error, not a shape: an object that merely has `issues` is a failure.
    const duck = uploadFailure({ issues: [issue] }, log, "k");
    expect(duck.slug).to.equal("anchor-failed");
    logs.length = 0;
    const failed = uploadFailure(new TypeError("rpc"), log, "payroll");
    expect(failed.slug).to.equal("anchor-failed");
    expect(logs).to.deep.equal([
      { level: "error", event: "anchor-failed", fields: { keyId: "payroll", error: "TypeError" } },
    ]);
  });

  it("verify: past the gate's queue a call is told busy (503, Retry-After: 1) before its body is read", async function () {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const decisions: unknown[] = [];
    const app = express();
    app.use(
      verifyRoutes(validators, {
        gate: createConcurrencyGate({ concurrency: 1, queue: 0 }),
        policy: {
          decide: async (receipt) => {
            decisions.push(receipt);
            await held;
            return { status: "inconclusive", checks: [] };
          },
        },
      }),
    );
    app.use(errorHandler(silent));
    const { url, server } = await listen(app);
    try {
      const receipt = (await makeDataset()).dataset.batches[2]!.receipts[0]!.receipt;
      const first = postJson(`${url}/api/v1/verify`, receipt);
      while (decisions.length === 0) await new Promise((r) => setTimeout(r, 5));
      const busy = await postJson(`${url}/api/v1/verify`, receipt);
      expect(busy.status).to.equal(503);
      expect(busy.headers.get("retry-after")).to.equal("1");
      expect(busy.json.retryAfter).to.equal(1);
      release();
      const done = await first;
      expect(done.status).to.equal(200);
      expect(done.headers.get("cache-control")).to.equal("no-store");
      expect(done.json).to.deep.equal({ status: "inconclusive", checks: [] });
      const text = await call(`${url}/api/v1/verify`, { method: "POST", body: "{}" });
      expect(text.json.type).to.match(/unsupported-media-type$/);
    } finally {
      server.close();
    }
  });
});

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return -- walking an untyped JSON document and Express internals */
import { expect } from "chai";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { createApiKey } from "../../src/api/api-keys.ts";
import { createApp } from "../../src/api/create-app.ts";
import { openApiDocument } from "../../src/api/openapi.ts";
import { publicBatch, publicBatchesPage } from "../../src/api/public-batch.ts";
import type {
  Findings,
  PublicBatch,
  PublicBatchesPage,
  PublicChainInfo,
  Stats,
} from "../../src/core/public-views.ts";
import { serveDataset, verifyWithCore, type Served } from "./api-fixture.ts";
import { call, postJson } from "./http.ts";
import { personKeyProver } from "../../src/cli/serve-stack.ts";

const addFormats = ((addFormatsModule as any).default ?? addFormatsModule) as (
  a: Ajv2020,
) => Ajv2020;
const doc = openApiDocument as any;
const anchorKey = createApiKey("payroll", ["anchor"]);
const readerKey = createApiKey("helpdesk", ["subjects:read"]);
const personsKey = createApiKey("sign-in", ["persons:key"]);
/** The person endpoints with a VRF key and the demo login (npm start's). */
const persons = { personKey: personKeyProver(new Uint8Array(32).fill(5)), demoLoginCode: "123456" };

/** Strict Ajv over the document: an unknown keyword or a bad $ref in a schema fails here. */
function documentAjv(): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
  addFormats(ajv);
  for (const [name, schema] of Object.entries(doc.components.schemas)) {
    ajv.addSchema(rewrite(schema), `#/components/schemas/${name}`);
  }
  return ajv;
}
function rewrite(schema: any): any {
  if (Array.isArray(schema)) return schema.map(rewrite);
  if (schema !== null && typeof schema === "object") {
    return Object.fromEntries(
      Object.entries(schema).map(([k, v]) => [k, k === "$ref" ? v : rewrite(v)]),
    );
  }
  return schema;
}

/** Each member of a wire type, spelt out: the compiler rejects a missing or an extra one. */
const BATCH_KEYS: Record<keyof PublicBatch, true> = {
  batchId: true,
  kind: true,
  period: true,
  root: true,
  recordCount: true,
  total: true,
  manifestHash: true,
  idempotencyKey: true,
  headAfter: true,
  anchorer: true,
  anchoredAt: true,
  txHash: true,
  blockNumber: true,
  blockHash: true,
  supersedes: true,
  supersededBy: true,
  status: true,
  attestations: true,
  manifest: true,
  sealedBy: true,
  scheme: true,
  persons: true,
  lanes: true,
  vrfKeyId: true,
};
const BATCH_PAGE_KEYS: Record<keyof PublicBatchesPage, true> = { items: true, nextCursor: true };
const ATTESTATION_KEYS: Record<keyof PublicBatch["attestations"][number], true> = {
  auditor: true,
  verdict: true,
  reportHash: true,
  txHash: true,
  blockNumber: true,
};
const STATS_KEYS: Record<keyof Stats, true> = {
  minCellPeople: true,
  periods: true,
  provinces: true,
};
/** The portal reads only part of `GET /chain`. */
const CHAIN_KEYS: Record<keyof PublicChainInfo, true> = {
  chainId: true,
  contract: true,
  batchCount: true,
  lastIndexedBlock: true,
  headBlock: true,
  paused: true,
  rpcUrl: true,
  names: true,
  headCheck: true,
};
const FINDINGS_KEYS: Record<keyof Findings, true> = {
  format: true,
  batchId: true,
  index: true,
  auditor: true,
  verdict: true,
  reportHash: true,
  report: true,
  findings: true,
};

const operations = (): { path: string; method: string; op: any }[] =>
  Object.entries(doc.paths).flatMap(([path, item]: [string, any]) =>
    Object.entries(item).map(([method, op]) => ({ path, method, op })),
  );

describe("OpenAPI document", function () {
  let s: Served;
  let ajv: Ajv2020;
  before(async function () {
    s = await serveDataset(
      {
        accountNames: {
          "0x70997970c51812dc3a010c7d01b50e0d17dc79c8": { fa: "دیوان", en: "Court" },
        },
        apiKeys: [anchorKey.entry, readerKey.entry, personsKey.entry],
        persons,
        anchorJob: () =>
          Promise.resolve({
            batchId: 7,
            txHash: "0x" + "11".repeat(32),
            root: "0x" + "22".repeat(32),
            recordCount: 3,
            total: "42",
          }),
      },
      { v2: true },
    );
    ajv = documentAjv();
  });
  after(async function () {
    await s.close();
  });

  /** Validates a reply against the documented response for its status and media type. */
  function expectDocumented(
    path: string,
    method: string,
    r: { status: number; headers: Headers; text: string; json: any },
  ) {
    const op = doc.paths[path][method];
    const response = op.responses[String(r.status)];
    expect(
      response,
      `${method.toUpperCase()} ${path} answered ${r.status}, which is not documented`,
    ).to.not.equal(undefined);
    if (response.content === undefined) return expect(r.text).to.equal("");
    const type = (r.headers.get("content-type") ?? "").split(";")[0]!;
    const media = response.content[type];
    expect(media, `${method.toUpperCase()} ${path} ${r.status} sent ${type}`).to.not.equal(
      undefined,
    );
    if (type.endsWith("json")) {
      const validate = ajv.compile(rewrite(media.schema));
      expect(
        validate(r.json),
        `${method.toUpperCase()} ${path} ${r.status}: ${ajv.errorsText(validate.errors)}`,
      ).to.equal(true);
    }
    for (const header of Object.keys(response.headers ?? {})) {
      expect(
        r.headers.get(header),
        `${method.toUpperCase()} ${path} ${r.status} lacks ${header}`,
      ).to.be.a("string");
    }
  }

  it("is OpenAPI 3.1 with unique operation ids and schemas that compile strictly", function () {
    expect(doc.openapi).to.equal("3.1.0");
    const ids = operations().map((o) => o.op.operationId);
    expect(new Set(ids).size).to.equal(ids.length);
    for (const name of Object.keys(doc.components.schemas)) {
      expect(() => ajv.getSchema(`#/components/schemas/${name}`), name).not.to.throw();
    }
    for (const { op } of operations()) {
      for (const p of op.parameters ?? [])
        expect(() => ajv.compile(rewrite(p.schema))).not.to.throw();
    }
  });

  it("documents every route of the app, and the app serves every documented operation", function () {
    const { app } = createApp({
      index: {} as never,
      ledger: {} as never,
      verify: verifyWithCore,
      apiKeys: [],
      log: { info() {}, warn() {}, error() {} },
      persons,
    });
    // Route modules (src/api/routes/) are routers mounted at `/`: walk into them.
    const layers = (stack: any[]): any[] =>
      stack.flatMap((layer: any) =>
        Array.isArray(layer.handle?.stack) ? layers(layer.handle.stack) : [layer],
      );
    const routes = layers((app as any).router.stack)
      .filter((layer: any) => layer.route !== undefined)
      .flatMap((layer: any) =>
        Object.keys(layer.route.methods).map(
          (m) => `${m.toUpperCase()} ${String(layer.route.path).replace(/:(\w+)/g, "{$1}")}`,
        ),
      )
      .sort();
    const documented = operations()
      .map((o) => `${o.method.toUpperCase()} ${o.path}`)
      .sort();
    expect(routes).to.deep.equal(documented);
  });

  it("every documented operation answers with a documented, schema-valid response", async function () {
    const receipt = s.dataset.batches[2]!.receipts[0]!;
    const requests: Record<string, () => Promise<any>> = {
      "get /api/v1/batches": () => call(`${s.url}/api/v1/batches?kind=premium&limit=2`),
      "post /api/v1/batches": () =>
        call(`${s.url}/api/v1/batches?kind=pension&period=1403-09&format=jsonl`, {
          method: "POST",
          headers: {
            "content-type": "application/x-ndjson",
            authorization: `Bearer ${anchorKey.token}`,
          },
          body: '{"record_id":"P1"}\n',
        }),
      "get /api/v1/batches/{id}": () => call(`${s.url}/api/v1/batches/3`),
      "get /api/v1/batches/{id}/attestations/{index}/findings": () =>
        call(`${s.url}/api/v1/batches/2/attestations/1/findings`),
      "get /api/v1/stats": () => call(`${s.url}/api/v1/stats`),
      "get /api/v1/receipts/{code}": () => call(`${s.url}/api/v1/receipts/${receipt.code}`),
      "post /api/v1/verify": () =>
        call(`${s.url}/api/v1/verify`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(receipt.receipt),
        }),
      "get /api/v1/chain": () => call(`${s.url}/api/v1/chain`),
      "get /api/v1/events": () => call(`${s.url}/api/v1/events`),
      "get /api/v1/vrf-keys": () => call(`${s.url}/api/v1/vrf-keys`),
      "get /api/v1/subjects/{pseudonym}/receipts": () =>
        call(`${s.url}/api/v1/subjects/${receipt.person.subject}/receipts`, {
          headers: { authorization: `Bearer ${readerKey.token}` },
        }),
      "get /api/v1/openapi.json": () => call(`${s.url}/api/v1/openapi.json`),
      "post /api/v1/persons/key": () =>
        postJson(
          `${s.url}/api/v1/persons/key`,
          { personId: "0012345679" },
          { authorization: `Bearer ${personsKey.token}` },
        ),
      "post /api/v1/demo/login": () =>
        postJson(`${s.url}/api/v1/demo/login`, { personId: "0012345679", code: "123456" }),
      // The fixture's v2 batches have no artifacts here: a documented 404. The 200 is checked
      // against its schema on a real v2 stack in test/api/persons.test.ts.
      "post /api/v1/persons/proof": () =>
        postJson(`${s.url}/api/v1/persons/proof`, { batchId: 5, key: `0x${"11".repeat(32)}` }),
      // Each item answered with its own documented problem (the same 404).
      "post /api/v1/persons/proofs": () =>
        postJson(`${s.url}/api/v1/persons/proofs`, {
          items: [{ batchId: 5, key: `0x${"11".repeat(32)}` }],
        }),
      // The fixture's batches have no artifacts here: a documented 404. The 200s (bytes, headers)
      // are checked on a real store in test/api/batch-tiles.test.ts.
      "get /api/v1/batches/{id}/tiles": () => call(`${s.url}/api/v1/batches/5/tiles`),
      "get /api/v1/batches/{id}/tiles/{province}/tile/{level}/{index}": () =>
        call(`${s.url}/api/v1/batches/5/tiles/IR-07/tile/1/000`),
      "get /api/v1/batches/{id}/tiles/{province}/tile/{level}/{index}.p/{width}": () =>
        call(`${s.url}/api/v1/batches/5/tiles/IR-07/tile/1/000.p/3`),
      "get /healthz": () => call(`${s.url}/healthz`),
      "get /readyz": () => call(`${s.url}/readyz`),
      "get /metrics": () => call(`${s.url}/metrics`),
    };
    expect(Object.keys(requests).sort()).to.deep.equal(
      operations()
        .map((o) => `${o.method} ${o.path}`)
        .sort(),
    );
    for (const { path, method } of operations()) {
      const r = await requests[`${method} ${path}`]!();
      if (path === "/api/v1/persons/proof" || path.includes("/tiles"))
        expect(r.status, `${path}: ${r.text}`).to.equal(404);
      else expect(r.status, `${method} ${path}: ${r.text.slice(0, 300)}`).to.be.within(200, 299);
      expectDocumented(path, method, r);
    }
    const served = await call(`${s.url}/api/v1/openapi.json`);
    expect(served.json).to.deep.equal(JSON.parse(JSON.stringify(openApiDocument)));
  });

  it("shafaf-tree/2 batches (lanes named per kind, or suppressed) answer schema-valid", async function () {
    const lanes: unknown[] = [];
    // indexed from BatchAnchoredV2 events (serveDataset's v2 option)
    for (const id of [7, 6, 5]) {
      const r = await call(`${s.url}/api/v1/batches/${id}`);
      expectDocumented("/api/v1/batches/{id}", "get", r);
      lanes.push(r.json.lanes);
    }
    expect(lanes).to.deep.equal([
      { insurableWage: "900", days: "300", premium: "270" },
      { gross: "9000000000", deductions: "1000000000", net: "8000000000", onTime: "45" },
      { suppressed: true },
    ]);
    expectDocumented("/api/v1/batches", "get", await call(`${s.url}/api/v1/batches?limit=5`));
  });

  it("the shared wire types (src/core/public-views.ts) name the schemas' members", function () {
    const members = (name: string) => Object.keys(doc.components.schemas[name].properties).sort();
    expect(Object.keys(BATCH_KEYS).sort()).to.deep.equal(members("Batch"));
    expect(Object.keys(BATCH_PAGE_KEYS).sort()).to.deep.equal(members("BatchPage"));
    expect(Object.keys(ATTESTATION_KEYS).sort()).to.deep.equal(members("Attestation"));
    expect(Object.keys(STATS_KEYS).sort()).to.deep.equal(members("Stats"));
    expect(Object.keys(FINDINGS_KEYS).sort()).to.deep.equal(members("Findings"));
    expect(members("Chain")).to.include.members(Object.keys(CHAIN_KEYS));
  });

  it("the projection's values, typed by the shared wire types, are schema-valid", async function () {
    const page = await s.index.listBatches({ limit: 100 });
    expect(page.items.length).to.be.greaterThan(2);
    const batch = ajv.compile(rewrite(doc.components.schemas.Batch));
    for (const view of page.items) {
      const value: PublicBatch = publicBatch(view);
      expect(batch(value), `batch ${view.batchId}: ${ajv.errorsText(batch.errors)}`).to.equal(true);
    }
    const batchPage = ajv.compile(rewrite(doc.components.schemas.BatchPage));
    const value: PublicBatchesPage = publicBatchesPage(page);
    expect(batchPage(value), ajv.errorsText(batchPage.errors)).to.equal(true);
  });

  it("error responses are documented problems", async function () {
    const receipt = s.dataset.batches[0]!.receipts[0]!;
    const cases: [string, string, () => Promise<any>][] = [
      ["/api/v1/batches", "get", () => call(`${s.url}/api/v1/batches?limit=0`)],
      ["/api/v1/batches/{id}", "get", () => call(`${s.url}/api/v1/batches/77`)],
      [
        "/api/v1/batches/{id}",
        "get",
        () => call(`${s.url}/api/v1/batches/3`, { headers: { "if-none-match": "*" } }),
      ],
      ["/api/v1/receipts/{code}", "get", () => call(`${s.url}/api/v1/receipts/ZZZZZZZZZZZZ`)],
      [
        "/api/v1/receipts/{code}",
        "get",
        () => call(`${s.url}/api/v1/receipts/${s.dataset.tampered.code}`),
      ],
      [
        "/api/v1/receipts/{code}",
        "get",
        () => call(`${s.url}/api/v1/receipts/${s.dataset.unindexed.code}`),
      ],
      [
        "/api/v1/verify",
        "post",
        () =>
          call(`${s.url}/api/v1/verify`, {
            method: "POST",
            headers: { "content-type": "text/plain" },
            body: "x",
          }),
      ],
      [
        "/api/v1/verify",
        "post",
        () =>
          call(`${s.url}/api/v1/verify`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ ...receipt.receipt, extra: 1 }),
          }),
      ],
      [
        "/api/v1/subjects/{pseudonym}/receipts",
        "get",
        () => call(`${s.url}/api/v1/subjects/${receipt.person.subject}/receipts`),
      ],
      [
        "/api/v1/subjects/{pseudonym}/receipts",
        "get",
        () =>
          call(`${s.url}/api/v1/subjects/${receipt.person.subject}/receipts`, {
            headers: { authorization: `Bearer ${anchorKey.token}` },
          }),
      ],
      [
        "/api/v1/batches",
        "post",
        () =>
          call(`${s.url}/api/v1/batches?kind=premium`, {
            method: "POST",
            headers: { authorization: `Bearer ${anchorKey.token}` },
          }),
      ],
    ];
    for (const [path, method, request] of cases) expectDocumented(path, method, await request());
  });
});

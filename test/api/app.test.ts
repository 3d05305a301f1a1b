/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return -- HTTP reply bodies are untyped JSON, checked by the assertions */
import { expect } from "chai";
import type { StoredReceipt } from "../../src/store/ledger-store.ts";
import { newCode, serveDataset, type Served } from "./api-fixture.ts";
import { call, postJson } from "./http.ts";

function expectProblem(
  r: { status: number; headers: Headers; json: any },
  status: number,
  slug: string,
) {
  expect(r.status, JSON.stringify(r.json)).to.equal(status);
  expect(r.headers.get("content-type")).to.match(/^application\/problem\+json/);
  expect(r.json.type).to.equal(`urn:shafaf:problem:${slug}`);
  expect(r.json.status).to.equal(status);
  expect(r.json.title).to.be.a("string").and.not.empty;
  expect(r.json.detail).to.be.a("string").and.not.empty;
}

describe("createApp (public API over real stores)", function () {
  let s: Served;
  before(async function () {
    s = await serveDataset({ rpcUrlForBrowsers: "https://rpc.example.org:8545/path" });
  });
  after(async function () {
    await s.close();
  });

  describe("GET /api/v1/batches", function () {
    it("lists batches newest first with documented fields only", async function () {
      const r = await call(`${s.url}/api/v1/batches`);
      expect(r.status).to.equal(200);
      expect(r.json.items.map((b: any) => b.batchId)).to.deep.equal([4, 3, 2, 1]);
      expect(r.json.nextCursor).to.equal(null);
      expect(r.json.items[3].status).to.equal("superseded");
      expect(r.json.items[3].supersededBy).to.equal(3);
    });

    it("filters by kind, status and an inclusive period range", async function () {
      const ids = async (q: string) =>
        (await call(`${s.url}/api/v1/batches?${q}`)).json.items.map((b: any) => b.batchId);
      expect(await ids("kind=pension")).to.deep.equal([2]);
      expect(await ids("status=disputed")).to.deep.equal([2]);
      expect(await ids("from=1403-08")).to.deep.equal([4]);
      expect(await ids("to=1403-07&kind=premium")).to.deep.equal([3, 1]);
      expect(await ids("from=1403-07&to=1403-07")).to.deep.equal([3, 2, 1]);
    });

    it("pages with an opaque cursor", async function () {
      const first = await call(`${s.url}/api/v1/batches?limit=3`);
      expect(first.json.items.map((b: any) => b.batchId)).to.deep.equal([4, 3, 2]);
      const next = await call(`${s.url}/api/v1/batches?limit=3&cursor=${first.json.nextCursor}`);
      expect(next.json.items.map((b: any) => b.batchId)).to.deep.equal([1]);
      expect(next.json.nextCursor).to.equal(null);
    });

    for (const [q, name] of [
      ["limit=0", "limit"],
      ["limit=101", "limit"],
      ["limit=ten", "limit"],
      ["kind=salary", "kind"],
      ["from=1403-13", "from"],
      ["cursor=zz", "cursor"],
      ["colour=blue", "colour"],
      ["kind=premium&kind=pension", "kind"],
      ["from=1403-09&to=1403-02", "from"],
    ] as const) {
      it(`rejects ?${q} naming "${name}"`, async function () {
        const r = await call(`${s.url}/api/v1/batches?${q}`);
        expectProblem(r, 400, "invalid-request");
        expect(r.json.errors.map((e: any) => e.name)).to.include(name);
      });
    }
  });

  describe("GET /api/v1/batches/{id}", function () {
    it("returns the batch with attestations, supersession and a suppressed provincial breakdown", async function () {
      const r = await call(`${s.url}/api/v1/batches/3`);
      expect(r.status).to.equal(200);
      expect(r.json.supersedes).to.equal(1);
      expect(r.json.manifest.byProvince).to.deep.equal({
        "IR-07": s.dataset.batches[2]!.view.manifest.byProvince!["IR-07"],
        // IR-16 covers 3 people; IR-29 (12, the smallest other cell) is suppressed with it so
        // that the batch total minus the published cells reveals only their sum (15 people).
        "IR-16": { suppressed: true },
        "IR-23": s.dataset.batches[2]!.view.manifest.byProvince!["IR-23"],
        "IR-29": { suppressed: true },
      });
      const two = await call(`${s.url}/api/v1/batches/2`);
      expect(two.json.attestations.map((a: any) => a.verdict)).to.deep.equal([
        "confirmed",
        "disputed",
      ]);
    });

    it("sends a strong ETag and answers 304 to If-None-Match", async function () {
      const r = await call(`${s.url}/api/v1/batches/2`);
      const etag = r.headers.get("etag")!;
      expect(etag).to.match(/^"[A-Za-z0-9_-]{43}"$/);
      expect(r.headers.get("cache-control")).to.equal("public, max-age=30, must-revalidate");
      const again = await call(`${s.url}/api/v1/batches/2`, {
        headers: { "if-none-match": `W/"x", ${etag}` },
      });
      expect(again.status).to.equal(304);
      expect(again.text).to.equal("");
      const other = await call(`${s.url}/api/v1/batches/2`, {
        headers: { "if-none-match": '"nope"' },
      });
      expect(other.status).to.equal(200);
    });

    it("404s an unknown batch and 400s a malformed id", async function () {
      expectProblem(await call(`${s.url}/api/v1/batches/999`), 404, "batch-not-found");
      expectProblem(await call(`${s.url}/api/v1/batches/0`), 400, "invalid-request");
      expectProblem(await call(`${s.url}/api/v1/batches/abc`), 400, "invalid-request");
      expectProblem(await call(`${s.url}/api/v1/batches/2?x=1`), 400, "invalid-request");
    });
  });

  describe("GET /api/v1/stats", function () {
    it("suppresses rows and cells under 10 people so that no small cell is recoverable", async function () {
      const r = await call(`${s.url}/api/v1/stats`);
      expect(r.status).to.equal(200);
      expect(r.json.minCellPeople).to.equal(10);
      expect(r.headers.get("etag")).to.be.a("string");
      const row = (p: string, k: string) =>
        r.json.periods.find((x: any) => x.period === p && x.kind === k);
      expect(row("1403-08", "premium")).to.deep.equal({
        period: "1403-08",
        kind: "premium",
        suppressed: true,
      });
      expect(row("1403-07", "premium").total).to.equal(s.dataset.batches[2]!.view.total);
      expect(row("1403-07", "premium").corrections).to.equal(1);
      const cells = r.json.provinces.filter(
        (c: any) => c.period === "1403-07" && c.kind === "premium",
      );
      expect(cells.filter((c: any) => c.suppressed).map((c: any) => c.province)).to.deep.equal([
        "IR-16",
        "IR-29",
      ]);
      for (const c of r.json.provinces.filter((x: any) => x.suppressed)) {
        expect(Object.keys(c).sort()).to.deep.equal(["kind", "period", "province", "suppressed"]);
      }
      expect(r.json.provinces.filter((c: any) => c.period === "1403-08" && c.kind === "premium"))
        .to.have.length(1)
        .and.satisfy((xs: any[]) => xs.every((x) => x.suppressed === true));
      // Subtraction reveals only a group of ≥ 2 cells covering ≥ 10 people.
      const total = BigInt(row("1403-07", "premium").total);
      const published = cells
        .filter((c: any) => !c.suppressed)
        .reduce((a: bigint, c: any) => a + BigInt(c.total), 0n);
      const byProvince = s.dataset.batches[2]!.view.manifest.byProvince!;
      expect(total - published).to.equal(
        BigInt(byProvince["IR-16"]!.total) + BigInt(byProvince["IR-29"]!.total),
      );
    });
  });

  describe("GET /api/v1/receipts/{code}", function () {
    it("returns the stored receipt after verifying it against the indexed root", async function () {
      const { code, receipt } = s.dataset.batches[1]!.receipts[5]!;
      const r = await call(`${s.url}/api/v1/receipts/${code}`);
      expect(r.status).to.equal(200);
      expect(r.json).to.deep.equal(receipt);
      expect(r.headers.get("cache-control")).to.equal("private, max-age=3600");
      const again = await call(`${s.url}/api/v1/receipts/${code}`, {
        headers: { "if-none-match": r.headers.get("etag")! },
      });
      expect(again.status).to.equal(304);
    });

    it("normalises case, spaces, dashes and Persian or Arabic digits", async function () {
      const { code, receipt } = s.dataset.batches[0]!.receipts[0]!;
      const persian = (t: string) =>
        t.replace(/[0-9]/g, (d) => String.fromCharCode(0x06f0 + Number(d)));
      const arabic = (t: string) =>
        t.replace(/[0-9]/g, (d) => String.fromCharCode(0x0660 + Number(d)));
      const dashed = code
        .toLowerCase()
        .match(/.{1,4}/g)!
        .join("-");
      for (const variant of [
        dashed,
        code.replace(/-/g, "").toLowerCase(),
        `${code.slice(0, 9)} ${code.slice(9)}`,
        persian(code),
        arabic(dashed),
      ]) {
        const r = await call(`${s.url}/api/v1/receipts/${encodeURIComponent(variant)}`);
        expect(r.status, variant).to.equal(200);
        expect(r.json.code).to.equal(receipt.code);
      }
    });

    it("404s an unknown or impossible code as a problem", async function () {
      expectProblem(await call(`${s.url}/api/v1/receipts/${newCode()}`), 404, "receipt-not-found");
      expectProblem(
        await call(`${s.url}/api/v1/receipts/0123456789ABCDEFGHJKMNPQRS`),
        404,
        "receipt-not-found",
      );
      // one mistyped character: the check symbol catches it before any lookup
      const { code } = s.dataset.batches[0]!.receipts[0]!;
      const typo = (code[0] === "7" ? "8" : "7") + code.slice(1);
      const r = await call(`${s.url}/api/v1/receipts/${typo}`);
      expectProblem(r, 404, "receipt-not-found");
      expect(r.json.hint).to.match(/27 letters and digits/);
      expectProblem(
        await call(`${s.url}/api/v1/receipts/${encodeURIComponent("«not a code»")}`),
        404,
        "receipt-not-found",
      );
      expectProblem(await call(`${s.url}/api/v1/receipts/abc`), 400, "invalid-request");
    });

    it("withholds a stored receipt that does not verify, alerting without the code", async function () {
      const r = await call(`${s.url}/api/v1/receipts/${s.dataset.tampered.code}`);
      expectProblem(r, 500, "receipt-integrity");
      expect(r.text).not.to.include(s.dataset.tampered.code);
      const alert = s.logs.find((l) => l.event === "receipt-integrity");
      expect(alert?.fields).to.deep.equal({ batchId: 2, failed: ["proof", "anchored-root"] });
      expect(JSON.stringify(s.logs)).not.to.include(s.dataset.tampered.code);
    });

    it("answers 503 with Retry-After while the receipt's batch is not indexed", async function () {
      const r = await call(`${s.url}/api/v1/receipts/${s.dataset.unindexed.code}`);
      expectProblem(r, 503, "batch-not-indexed");
      expect(r.headers.get("retry-after")).to.equal("5");
    });
  });

  describe("POST /api/v1/verify", function () {
    const verify = (body: unknown) => postJson(`${s.url}/api/v1/verify`, body);
    const checks = (r: any) => Object.fromEntries(r.json.checks.map((c: any) => [c.name, c.ok]));

    it("verifies a current, confirmed receipt check by check", async function () {
      const r = await verify(s.dataset.batches[2]!.receipts[0]!.receipt);
      expect(r.status).to.equal(200);
      expect(r.json.status).to.equal("verified");
      expect(r.json.current).to.equal(true);
      expect(r.json.checks.every((c: any) => c.ok === true)).to.equal(true);
      expect(Object.keys(checks(r))).to.include.members([
        "format",
        "code",
        "record",
        "leaf",
        "proof",
        "anchored-root",
        "chain",
        "contract",
        "root-indexed",
        "superseded",
        "attestations",
      ]);
    });

    it("reports a superseded batch and a disputed one without failing the proof", async function () {
      const old = await verify(s.dataset.batches[0]!.receipts[0]!.receipt);
      expect(old.json.status).to.equal("verified");
      expect(old.json.current).to.equal(false);
      expect(old.json.checks.find((c: any) => c.name === "superseded").detail).to.include(
        "batch 3",
      );
      const disputed = await verify(s.dataset.batches[1]!.receipts[0]!.receipt);
      expect(checks(disputed).attestations).to.equal(false);
      expect(disputed.json.checks.find((c: any) => c.name === "attestations").detail).to.equal(
        "1 auditor(s) confirm the batch, 1 dispute it",
      );
    });

    it("fails a tampered value, a foreign proof and a wrong root, naming the check", async function () {
      const tampered = await verify(s.dataset.tampered.receipt);
      expect(tampered.json.status).to.equal("failed");
      expect(checks(tampered).proof).to.equal(false);
      expect(tampered.json.checks.find((c: any) => c.name === "proof").outcome).to.equal("fail");
      const foreign = {
        ...s.dataset.batches[1]!.receipts[0]!.receipt,
        proof: s.dataset.batches[1]!.receipts[1]!.receipt.proof,
      };
      expect((await verify(foreign)).json.status).to.equal("failed");
      const wrongRoot = {
        ...s.dataset.batches[1]!.receipts[0]!.receipt,
        root: s.dataset.batches[2]!.view.root,
      };
      const w = await verify(wrongRoot);
      expect(w.json.status).to.equal("failed");
      const c = w.json.checks.find((x: any) => x.name === "root-indexed");
      expect(c).to.include({
        ok: false,
        expected: s.dataset.batches[1]!.view.root,
        computed: s.dataset.batches[2]!.view.root,
      });
    });

    it("is inconclusive when the batch is neither indexed nor on chain", async function () {
      const r = await verify(s.dataset.unindexed.receipt);
      expect(r.json.status).to.equal("inconclusive");
      expect(r.json.checks).to.deep.equal([
        { name: "batch", ok: false, detail: "batch 5 is neither indexed nor readable on chain" },
      ]);
    });

    it("rejects unknown members, wrong types, malformed JSON, other media types and big bodies", async function () {
      const receipt: StoredReceipt = s.dataset.batches[2]!.receipts[0]!.receipt;
      const unknown = await verify({ ...receipt, nationalId: "0012345679" });
      expectProblem(unknown, 400, "invalid-request");
      expect(unknown.json.errors, JSON.stringify(unknown.json.errors)).to.deep.equal([
        { in: "body", pointer: "/nationalId", message: "unknown member" },
      ]);
      expect(unknown.text).not.to.include("0012345679");
      expectProblem(await verify({ ...receipt, batchId: "3" }), 400, "invalid-request");
      expectProblem(
        await verify({ ...receipt, format: "shafaf-receipt/2" }),
        400,
        "invalid-request",
      );
      expectProblem(await verify("{not json"), 400, "malformed-body");
      expectProblem(await verify("[]"), 400, "invalid-request");
      const form = await call(`${s.url}/api/v1/verify`, {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body: JSON.stringify(receipt),
      });
      expectProblem(form, 415, "unsupported-media-type");
      const text = await call(`${s.url}/api/v1/verify`, {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body: "not json at all",
      });
      expectProblem(text, 415, "unsupported-media-type");
      const none = await call(`${s.url}/api/v1/verify`, { method: "POST" });
      expectProblem(none, 415, "unsupported-media-type");
      expectProblem(
        await verify({ ...receipt, record: { pad: "x".repeat(70_000) } }),
        413,
        "body-too-large",
      );
    });
  });

  describe("GET /api/v1/chain, /events, /healthz, /readyz, /metrics", function () {
    it("reports chain, lag, head check and the browsers' RPC URL", async function () {
      const r = await call(`${s.url}/api/v1/chain`);
      expect(r.status).to.equal(200);
      expect(r.json).to.include({
        chainId: 31337,
        headBlock: 52,
        lastIndexedBlock: 50,
        lag: 2,
        confirmations: 2,
        caughtUp: true,
        batchCount: 4,
      });
      expect(r.json.headCheck.status).to.equal("ok");
      expect(r.json.rpcUrl).to.equal("https://rpc.example.org:8545/path");
      expect(r.headers.get("cache-control")).to.equal("no-store");
    });

    it("lists governance events newest first, paged", async function () {
      const first = await call(`${s.url}/api/v1/events?limit=2`);
      expect(first.json.items.map((e: any) => e.type)).to.deep.equal(["Unpaused", "Paused"]);
      const next = await call(
        `${s.url}/api/v1/events?limit=2&cursor=${encodeURIComponent(first.json.nextCursor)}`,
      );
      expect(next.json.items.map((e: any) => e.type)).to.deep.equal(["RoleGranted"]);
      expect(next.json.nextCursor).to.equal(null);
      expectProblem(await call(`${s.url}/api/v1/events?cursor=1`), 400, "invalid-request");
    });

    it("is alive and ready once the index has caught up", async function () {
      expect((await call(`${s.url}/healthz`)).json).to.deep.equal({ status: "ok" });
      const ready = await call(`${s.url}/readyz`);
      expect(ready.status).to.equal(200);
      expect(ready.json.ready).to.equal(true);
    });

    it("exports request counts and latency by route template, and the indexer lag", async function () {
      const { code } = s.dataset.batches[2]!.receipts[1]!;
      await call(`${s.url}/api/v1/receipts/${code}`);
      const m = await call(`${s.url}/metrics`);
      expect(m.status).to.equal(200);
      expect(m.headers.get("content-type")).to.match(/^text\/plain/);
      expect(m.text).to.match(
        /shafaf_http_requests_total\{method="GET",route="\/api\/v1\/receipts\/\{code\}",status="200"\} \d+/,
      );
      expect(m.text).to.match(
        /shafaf_http_request_duration_seconds_bucket\{le="0\.1",method="GET",route="\/api\/v1\/batches\/\{id\}"\} \d+/,
      );
      expect(m.text).to.match(/^shafaf_indexer_lag_blocks 2$/m);
      expect(m.text).to.match(/^shafaf_indexer_head_check_ok 1$/m);
      expect(m.text).not.to.include(code);
    });
  });

  describe("errors, headers and CORS", function () {
    it("answers unknown paths 404 and wrong methods 405 as problems", async function () {
      expectProblem(await call(`${s.url}/api/v1/nothing`), 404, "not-found");
      expectProblem(await call(`${s.url}/elsewhere`), 404, "not-found");
      const r = await call(`${s.url}/api/v1/stats`, { method: "DELETE" });
      expectProblem(r, 405, "method-not-allowed");
      expect(r.headers.get("allow")).to.equal("GET, HEAD");
    });

    it("sends security headers with a CSP that allows only self and the chain RPC origin", async function () {
      const r = await call(`${s.url}/api/v1/stats`);
      const csp = r.headers.get("content-security-policy")!;
      expect(csp).to.include("default-src 'self'");
      expect(csp).to.include("script-src 'self' 'wasm-unsafe-eval';");
      expect(csp).to.not.include("'unsafe-eval'");
      expect(csp).to.not.include("'unsafe-inline'");
      expect(csp).to.include("connect-src 'self' https://rpc.example.org:8545;");
      expect(csp).to.include("frame-ancestors 'none'");
      expect(csp).not.to.include("unsafe-inline");
      expect(r.headers.get("x-content-type-options")).to.equal("nosniff");
      expect(r.headers.get("referrer-policy")).to.equal("no-referrer");
      expect(r.headers.get("x-powered-by")).to.equal(null);
      expect(r.headers.get("access-control-allow-origin")).to.equal(null);
    });
  });
});

describe("createApp options", function () {
  it("CORS: allows only the configured origins, answers preflights", async function () {
    const s = await serveDataset({ cors: ["https://portal.example"] });
    try {
      const ok = await call(`${s.url}/api/v1/stats`, {
        headers: { origin: "https://portal.example" },
      });
      expect(ok.headers.get("access-control-allow-origin")).to.equal("https://portal.example");
      expect(ok.headers.get("vary")).to.include("Origin");
      const other = await call(`${s.url}/api/v1/stats`, {
        headers: { origin: "https://evil.example" },
      });
      expect(other.headers.get("access-control-allow-origin")).to.equal(null);
      const pre = await call(`${s.url}/api/v1/verify`, {
        method: "OPTIONS",
        headers: { origin: "https://portal.example", "access-control-request-method": "POST" },
      });
      expect(pre.status).to.equal(204);
      expect(pre.headers.get("access-control-allow-methods")).to.include("POST");
      expect(pre.headers.get("access-control-allow-headers")).not.to.match(/authorization/i);
    } finally {
      await s.close();
    }
  });

  it("rate limits public endpoints per client with 429 and Retry-After, never the probes", async function () {
    const s = await serveDataset({ rateLimit: { capacity: 3, refillPerSecond: 0.5 } });
    try {
      for (let i = 0; i < 3; i++)
        expect((await call(`${s.url}/api/v1/stats`)).status).to.equal(200);
      const r = await call(`${s.url}/api/v1/batches`);
      expectProblem(r, 429, "rate-limited");
      expect(r.headers.get("retry-after")).to.equal("2");
      expect(r.json.retryAfter).to.equal(2);
      expect((await call(`${s.url}/healthz`)).status).to.equal(200);
      expect((await call(`${s.url}/metrics`)).status).to.equal(200);
      // guessing staff keys draws on the same bucket
      const guess = await call(`${s.url}/api/v1/subjects/0x${"ab".repeat(32)}/receipts`, {
        headers: { authorization: "Bearer shafaf_sk_guess" },
      });
      expectProblem(guess, 429, "rate-limited");
    } finally {
      await s.close();
    }
  });

  it("readyz stays 503 until the index has caught up with the chain", async function () {
    const s = await serveDataset({}, { indexedUpTo: 50, headBlock: 90 });
    try {
      const r = await call(`${s.url}/readyz`);
      expect(r.status).to.equal(503);
      expect(r.json.ready).to.equal(false);
      expect((await call(`${s.url}/api/v1/chain`)).json).to.include({ lag: 40, caughtUp: false });
      await s.index.setHeadBlock(51);
      expect((await call(`${s.url}/readyz`)).status).to.equal(200);
      await s.index.setHeadBlock(95);
      expect((await call(`${s.url}/readyz`)).status, "ready once means ready").to.equal(200);
    } finally {
      await s.close();
    }
  });
});

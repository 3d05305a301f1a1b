/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return -- HTTP reply bodies are untyped JSON, checked by the assertions */
/**
 * Hostile clients against the real server on 127.0.0.1 (issue #19): oversized and slow bodies,
 * malformed HTTP, floods of verifications, and receipts with a replaced code.
 */
import { expect } from "chai";
import net from "node:net";
import type { VerifyReceiptFn } from "../../src/api/app-deps.ts";
import { createConcurrencyGate } from "../../src/api/concurrency-gate.ts";
import { newCode, serveDataset, verifyWithCore, type Served } from "./api-fixture.ts";
import { call, postJson } from "./http.ts";

/** Writes `request` on a raw socket; resolves with everything read until the server closes. */
function raw(
  url: string,
  request: string,
  options: { waitMs?: number } = {},
): Promise<{ text: string; closed: boolean; ms: number }> {
  const u = new URL(url);
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect(Number(u.port), u.hostname);
    let text = "";
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed: false, ms: performance.now() - started });
    }, options.waitMs ?? 5_000);
    socket.on("data", (d) => (text += d.toString("latin1")));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ text, closed: true, ms: performance.now() - started });
    });
    socket.write(request);
  });
}

/** Status and problem document of a raw HTTP/1.1 response. */
function parseRaw(text: string): { status: number; headers: string; body: any } {
  const [head, body = ""] = text.split("\r\n\r\n");
  return {
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head ?? "")?.[1]),
    headers: (head ?? "").toLowerCase(),
    body: body === "" ? undefined : JSON.parse(body),
  };
}

function expectRawProblem(text: string, status: number, slug: string): void {
  const r = parseRaw(text);
  expect(r.status, text.slice(0, 200)).to.equal(status);
  expect(r.headers).to.include("content-type: application/problem+json");
  expect(r.body.type).to.equal(`urn:shafaf:problem:${slug}`);
  expect(r.body.status).to.equal(status);
  expect(r.body.detail).to.be.a("string").and.not.empty;
}

describe("the API against hostile clients", function () {
  this.timeout(30_000);

  describe("oversized and slow requests", function () {
    let s: Served;
    before(async function () {
      s = await serveDataset({}, {}, { requestTimeoutMs: 1_500 });
    });
    after(async function () {
      await s.close();
    });

    it("refuses a declared Content-Length over the limit at once with 413 and closes", async function () {
      const r = await raw(
        s.url,
        "POST /api/v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
          "Content-Length: 99999999999\r\n\r\n{",
      );
      expect(r.closed).to.equal(true);
      expect(r.ms).to.be.below(1_000);
      expectRawProblem(r.text, 413, "body-too-large");
    });

    it("refuses an upload whose Content-Length is over the upload limit before authenticating", async function () {
      const r = await raw(
        s.url,
        "POST /api/v1/batches?kind=premium&period=1403-07&format=csv HTTP/1.1\r\nHost: x\r\n" +
          "Content-Type: text/csv\r\nContent-Length: 99999999999\r\n\r\nrecord_id",
      );
      expect(r.closed).to.equal(true);
      expect(r.ms).to.be.below(1_000);
      expectRawProblem(r.text, 413, "body-too-large");
    });

    it("closes a slow body after the request timeout with a 408 problem", async function () {
      const r = await raw(
        s.url,
        "POST /api/v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
          "Content-Length: 1000\r\n\r\n{",
        { waitMs: 6_000 },
      );
      expect(r.closed).to.equal(true);
      // the timeout (1.5 s) is checked every second at most: never twice the timeout
      expect(r.ms).to.be.within(1_400, 3_200);
      expectRawProblem(r.text, 408, "request-timeout");
    });

    it("closes a connection that never finishes its headers", async function () {
      const r = await raw(s.url, "GET /api/v1/batches HTTP/1.1\r\nHost: x\r\n", {
        waitMs: 6_000,
      });
      expect(r.closed).to.equal(true);
      expect(r.ms).to.be.below(3_200);
      expectRawProblem(r.text, 408, "request-timeout");
    });

    it("answers malformed HTTP with a 400 problem and oversized headers with a 431 problem", async function () {
      expectRawProblem((await raw(s.url, "GARBAGE\r\n\r\n")).text, 400, "bad-request");
      const big = await raw(s.url, `GET / HTTP/1.1\r\nHost: x\r\nX: ${"a".repeat(20_000)}\r\n\r\n`);
      expectRawProblem(big.text, 431, "headers-too-large");
      // the server still serves after both
      expect((await call(`${s.url}/healthz`)).status).to.equal(200);
    });
  });

  describe("POST /api/v1/verify under load", function () {
    it("runs a bounded number of verifications and answers 503 busy with Retry-After beyond the queue", async function () {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let started = 0;
      const slow: VerifyReceiptFn = async (receipt, trust) => {
        started++;
        await gate;
        return verifyWithCore(receipt, trust);
      };
      const s = await serveDataset({ verify: slow, verifyConcurrency: 2, verifyQueue: 1 });
      try {
        const body = s.dataset.batches[2]!.receipts[0]!.receipt;
        const first = [1, 2, 3].map(() => postJson(`${s.url}/api/v1/verify`, body));
        while (started < 2) await new Promise((r) => setTimeout(r, 10));
        const refused = await postJson(`${s.url}/api/v1/verify`, body);
        expect(refused.status).to.equal(503);
        expect(refused.json.type).to.equal("urn:shafaf:problem:busy");
        expect(refused.headers.get("retry-after")).to.equal("1");
        expect(started).to.equal(2); // the queued one has not started
        // reads are not held behind the verifications
        const t = performance.now();
        expect((await call(`${s.url}/api/v1/batches/1`)).status).to.equal(200);
        expect(performance.now() - t).to.be.below(500);
        release();
        const done = await Promise.all(first);
        expect(done.map((r) => r.json.status)).to.deep.equal(["verified", "verified", "verified"]);
        expect(started).to.equal(3);
      } finally {
        release();
        await s.close();
      }
    });

    it("keeps the gate's bounds: at most N run, at most Q wait, leaving a queue frees a place", async function () {
      const gate = createConcurrencyGate({ concurrency: 1, queue: 2 });
      const a = gate.tryEnter()!;
      const b = gate.tryEnter()!;
      const c = gate.tryEnter()!;
      expect(gate.tryEnter()).to.equal(undefined);
      expect([gate.running, gate.waiting]).to.deep.equal([1, 2]);
      b.leave(); // leaves the queue before it ran
      expect(gate.waiting).to.equal(1);
      const d = gate.tryEnter()!;
      a.leave();
      await c.entered;
      expect([gate.running, gate.waiting]).to.deep.equal([1, 1]);
      c.leave();
      c.leave(); // idempotent
      await d.entered;
      d.leave();
      expect([gate.running, gate.waiting]).to.deep.equal([0, 0]);
    });
  });

  describe("POST /api/v1/verify and the receipt code", function () {
    let s: Served;
    before(async function () {
      s = await serveDataset();
    });
    after(async function () {
      await s.close();
    });
    const check = (r: any, name: string) => r.json.checks.find((c: any) => c.name === name);

    it("binds the code: the stored receipt under the code must be the same record", async function () {
      const receipt = s.dataset.batches[2]!.receipts[0]!.receipt;
      const ok = await postJson(`${s.url}/api/v1/verify`, receipt);
      expect(ok.json.status).to.equal("verified");
      expect(check(ok, "code-bound")).to.include({ ok: true, outcome: "pass" });
    });

    it("does not say verified when the code is replaced by another well-formed code", async function () {
      const receipt = s.dataset.batches[2]!.receipts[0]!.receipt;
      const r = await postJson(`${s.url}/api/v1/verify`, { ...receipt, code: newCode() });
      expect(r.json.status).to.equal("inconclusive");
      expect(check(r, "code-bound")).to.include({ ok: false, outcome: "inconclusive" });
      expect(check(r, "proof").ok).to.equal(true); // the record itself is proven
    });

    it("fails a receipt whose code is another person's", async function () {
      const receipts = s.dataset.batches[2]!.receipts;
      const r = await postJson(`${s.url}/api/v1/verify`, {
        ...receipts[0]!.receipt,
        code: receipts[1]!.code,
      });
      expect(r.json.status).to.equal("failed");
      expect(check(r, "code-bound")).to.include({ ok: false, outcome: "fail" });
    });
  });
});

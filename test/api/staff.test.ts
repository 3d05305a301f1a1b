import { expect } from "chai";
import {
  UploadRejectedError,
  type AnchorOutcome,
  type AnchorUpload,
  type UploadIssue,
} from "../../src/api/app-deps.ts";
import { createApiKey } from "../../src/api/api-keys.ts";
import { createApp } from "../../src/api/create-app.ts";
import { startServer } from "../../src/api/start-server.ts";
import { serveDataset, verifyWithCore, type Served } from "./api-fixture.ts";
import { call } from "./http.ts";

const anchorKey = createApiKey("payroll", ["anchor"]);
const readerKey = createApiKey("helpdesk", ["subjects:read"]);
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe("createApp staff endpoints", function () {
  let s: Served;
  const uploads: AnchorUpload[] = [];
  let nextOutcome: () => Promise<AnchorOutcome> = () => Promise.reject(new Error("unset"));

  before(async function () {
    s = await serveDataset({
      apiKeys: [anchorKey.entry, readerKey.entry],
      uploadLimitBytes: 4096,
      anchorJob: async (upload) => {
        uploads.push(upload);
        return nextOutcome();
      },
    });
  });
  after(async function () {
    await s.close();
  });

  const upload = (query: string, body: BodyInit, headers: Record<string, string> = {}) =>
    call(`${s.url}/api/v1/batches?${query}`, {
      method: "POST",
      headers: { "content-type": "text/csv", ...bearer(anchorKey.token), ...headers },
      body,
    });

  describe("authentication", function () {
    it("401s a missing or unknown key with a Bearer challenge, 403s a key without the scope", async function () {
      const pseudonym = s.dataset.people[0]!.subject;
      const path = `${s.url}/api/v1/subjects/${pseudonym}/receipts`;
      const none = await call(path);
      expect(none.status).to.equal(401);
      expect(none.json.type).to.equal("urn:shafaf:problem:unauthorized");
      expect(none.headers.get("www-authenticate")).to.equal('Bearer realm="shafaf-staff"');
      const unknown = await call(path, { headers: bearer(anchorKey.token + "x") });
      expect(unknown.status).to.equal(401);
      const basic = await call(path, { headers: { authorization: `Basic ${readerKey.token}` } });
      expect(basic.status).to.equal(401);
      const wrong = await call(path, { headers: bearer(anchorKey.token) });
      expect(wrong.status).to.equal(403);
      expect(wrong.json).to.include({
        type: "urn:shafaf:problem:forbidden",
        requiredScope: "subjects:read",
      });
      const wrongUpload = await upload(
        "kind=premium&period=1403-07&format=csv",
        "a,b\n",
        bearer(readerKey.token),
      );
      expect(wrongUpload.status).to.equal(403);
    });

    it("logs every staff call with key id, route template and status, never the pseudonym or key", async function () {
      const pseudonym = s.dataset.people[1]!.subject;
      await call(`${s.url}/api/v1/subjects/${pseudonym}/receipts`, {
        headers: bearer(readerKey.token),
      });
      await call(`${s.url}/api/v1/subjects/${pseudonym}/receipts`, {
        headers: bearer(anchorKey.token),
      });
      await call(`${s.url}/api/v1/subjects/${pseudonym}/receipts`);
      const staff = s.logs.filter((l) => l.event === "staff-call").slice(-3);
      expect(staff.map((l) => [l.fields.keyId, l.fields.route, l.fields.status])).to.deep.equal([
        ["helpdesk", "/api/v1/subjects/{pseudonym}/receipts", 200],
        ["payroll", "/api/v1/subjects/{pseudonym}/receipts", 403],
        [null, "/api/v1/subjects/{pseudonym}/receipts", 401],
      ]);
      const all = JSON.stringify(s.logs);
      expect(all).not.to.include(pseudonym.slice(2));
      expect(all).not.to.include(readerKey.token);
      expect(all).not.to.include(anchorKey.token);
    });
  });

  describe("GET /api/v1/subjects/{pseudonym}/receipts", function () {
    it("lists every receipt of one person, in batch order, whatever the hex case", async function () {
      const person = s.dataset.people[3]!;
      const expected = s.dataset.batches.flatMap((b) =>
        b.receipts.filter((r) => r.person === person).map((r) => r.receipt),
      );
      expect(expected.length).to.be.greaterThan(1);
      const r = await call(
        `${s.url}/api/v1/subjects/${person.subject.toUpperCase().replace("0X", "0x")}/receipts`,
        {
          headers: bearer(readerKey.token),
        },
      );
      expect(r.status).to.equal(200);
      expect(r.json.items).to.deep.equal(expected);
      expect(r.headers.get("cache-control")).to.equal("no-store");
    });

    it("rejects a malformed pseudonym (a national ID is not a pseudonym)", async function () {
      const r = await call(`${s.url}/api/v1/subjects/${s.dataset.people[0]!.nationalId}/receipts`, {
        headers: bearer(readerKey.token),
      });
      expect(r.status).to.equal(400);
      expect(r.json.errors).to.deep.equal([
        { in: "path", name: "pseudonym", message: 'must match pattern "^0x[0-9a-fA-F]{64}$"' },
      ]);
      expect(r.text).not.to.include(s.dataset.people[0]!.nationalId);
    });
  });

  describe("POST /api/v1/batches", function () {
    const outcome = {
      batchId: 9,
      txHash: "0x" + "ab".repeat(32),
      root: "0x" + "cd".repeat(32),
      recordCount: 2,
      total: "3000000",
    };

    it("hands the raw bytes and the query to the anchor pipeline and answers 201 with Location", async function () {
      nextOutcome = () => Promise.resolve(outcome);
      const bytes = "record_id,period\r\nR1,1403-07\r\n";
      const r = await upload(
        "kind=premium&period=1403-07&format=csv&supersedes=3&reason=late-list",
        bytes,
      );
      expect(r.status, r.text).to.equal(201);
      expect(r.headers.get("location")).to.equal("/api/v1/batches/9");
      expect(r.json).to.deep.equal(outcome);
      const got = uploads.at(-1);
      expect(Buffer.from(got.bytes).toString("utf8")).to.equal(bytes);
      expect(got).to.deep.include({
        kind: "premium",
        period: "1403-07",
        format: "csv",
        supersedes: 3,
        reason: "late-list",
        uploadedBy: "payroll",
      });
    });

    it("accepts a zip of DBF pairs as application/zip", async function () {
      nextOutcome = () => Promise.resolve(outcome);
      const zip = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0, 1, 2, 0xff]);
      const r = await upload("kind=premium&period=1403-07&format=sso-zip&province=IR-23", zip, {
        "content-type": "application/zip",
      });
      expect(r.status).to.equal(201);
      expect([...uploads.at(-1).bytes]).to.deep.equal([...zip]);
      expect(uploads.at(-1)).to.include({ format: "sso-zip", province: "IR-23" });
      const bad = await upload("kind=premium&period=1403-07&format=sso-zip&province=Tehran", zip, {
        "content-type": "application/zip",
      });
      expect(bad.status).to.equal(400);
    });

    it("refuses bad queries, other media types, empty and oversized bodies before the pipeline runs", async function () {
      const before = uploads.length;
      const missing = await upload("kind=premium&period=1403-07", "x");
      expect(missing.status).to.equal(400);
      expect(missing.json.errors).to.deep.equal([
        { in: "query", name: "format", message: "must have required property 'format'" },
      ]);
      expect((await upload("kind=premium&period=1403-07&format=xls", "x")).status).to.equal(400);
      expect((await upload("kind=premium&period=1403-07&format=csv&extra=1", "x")).status).to.equal(
        400,
      );
      const json = await upload("kind=premium&period=1403-07&format=csv", "{}", {
        "content-type": "application/json",
      });
      expect(json.status).to.equal(415);
      expect((await upload("kind=premium&period=1403-07&format=csv", "")).status).to.equal(400);
      const big = await upload("kind=premium&period=1403-07&format=csv", "x".repeat(5000));
      expect(big.status).to.equal(413);
      expect(big.json.type).to.equal("urn:shafaf:problem:body-too-large");
      expect(uploads.length).to.equal(before);
    });

    it("422s invalid records with the pipeline's issues, dropping any value member", async function () {
      // A value member must never reach the response, even if a pipeline put one in an issue.
      const careless = {
        line: 4,
        field: "national_id",
        rule: "national-id.checksum",
        value: "0012345678",
        message: "bad check digit",
        hint: "retype it",
      } as UploadIssue;
      const error = new UploadRejectedError([careless]);
      nextOutcome = () => Promise.reject(error);
      const r = await upload("kind=premium&period=1403-07&format=csv", "x");
      expect(r.status).to.equal(422);
      expect(r.json.issues).to.deep.equal([
        {
          line: 4,
          field: "national_id",
          rule: "national-id.checksum",
          message: "bad check digit",
          hint: "retype it",
        },
      ]);
      expect(r.text).not.to.include("0012345678");
    });

    it("502s a pipeline failure without its message", async function () {
      nextOutcome = () =>
        Promise.reject(new Error("RPC down at http://10.0.0.5:8545 for 0012345679"));
      const r = await upload("kind=premium&period=1403-07&format=csv", "x");
      expect(r.status).to.equal(502);
      expect(r.json.type).to.equal("urn:shafaf:problem:anchor-failed");
      expect(r.text).not.to.include("0012345679");
      expect(JSON.stringify(s.logs)).not.to.include("0012345679");
    });
  });

  it("answers 503 when no pipeline is wired", async function () {
    const t = await serveDataset({ apiKeys: [anchorKey.entry] });
    try {
      const r = await call(`${t.url}/api/v1/batches?kind=premium&period=1403-07&format=csv`, {
        method: "POST",
        headers: { "content-type": "text/csv", ...bearer(anchorKey.token) },
        body: "x",
      });
      expect(r.status).to.equal(503);
      expect(r.json.type).to.equal("urn:shafaf:problem:anchoring-unavailable");
    } finally {
      await t.close();
    }
  });
});

describe("startServer graceful shutdown", function () {
  it("stops accepting, finishes the request in flight, then closes the stores", async function () {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const events: string[] = [];
    const api = createApp({
      index: {
        getChainInfo: () => Promise.resolve(undefined),
        listBatches: () => Promise.resolve({ items: [] }),
        getBatch: () => Promise.resolve(undefined),
        listVrfKeys: () => Promise.resolve([]),
        async getStats() {
          entered();
          await gate;
          events.push("stats answered");
          return { periods: [], provinces: [] };
        },
        listEvents: () => Promise.resolve({ items: [] }),
      },
      ledger: {
        getReceiptByCode: () => Promise.resolve(undefined),
        listReceiptsBySubject: () => Promise.resolve([]),
      },
      verify: verifyWithCore,
      apiKeys: [],
      log: { info() {}, warn() {}, error() {} },
    });
    const running = await startServer({
      api,
      port: 0,
      onClosed: () => {
        events.push("stores closed");
        return Promise.resolve();
      },
    });
    const slow = call(`${running.url}/api/v1/stats`);
    await inside;
    expect(running.inFlight).to.equal(1);
    const closed = running.close().then(() => events.push("closed"));
    await new Promise((resolve) => setTimeout(resolve, 50));
    let refused = false;
    try {
      await fetch(`${running.url}/healthz`);
    } catch {
      refused = true;
    }
    expect(refused, "a new connection is refused while draining").to.equal(true);
    const ready = await fetch(`${running.url}/readyz`).catch(() => undefined);
    expect(ready).to.equal(undefined);
    release();
    const r = await slow;
    expect(r.status).to.equal(200);
    expect(r.json).to.deep.equal({ minCellPeople: 10, periods: [], provinces: [] });
    await closed;
    expect(events).to.deep.equal(["stats answered", "stores closed", "closed"]);
  });
});

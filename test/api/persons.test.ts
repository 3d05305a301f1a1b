/**
 * The person endpoints of "My insurance history" on a real stack (test/web/history-stack.ts: a
 * development chain, `shafaf-tree/2` batches anchored by the real pipeline, the real indexer and
 * app): the staff key endpoint and its scope, the demo login and its code, the per-batch proof
 * (range and absence, verified here against the anchored root exactly as the browser does), bad
 * input, the rate limit, and that no identifier or key appears in an error or a log line.
 */
import { expect } from "chai";
import { Ajv2020 } from "ajv/dist/2020.js";
import { openApiDocument } from "../../src/api/openapi.ts";
import { bytesToHex, hexToBytes } from "../../src/core/hex.ts";
import { batchPersonKey, personVrfInput } from "../../src/core/person-key.ts";
import { PERSON_PROOF_FORMAT } from "../../src/core/person-proof.ts";
import { verifyDocumentOffline } from "../../src/core/verify-document.ts";
import { vrfVerify } from "../../src/core/vrf.ts";
import type { PortalServer } from "../web/portal-server.ts";
import {
  DEMO_CODE,
  MISSING_PERIODS,
  startHistoryStack,
  type HistoryStack,
} from "../web/history-stack.ts";
import { postJson } from "./http.ts";

/** The documented 200 schemas (they hold no $ref), compiled strictly. */
const ajv = new Ajv2020({ strict: true, allErrors: true });
const schemas = openApiDocument.components.schemas;
const validProof = ajv.compile(schemas.PersonBatchProof);
const validKey = ajv.compile(schemas.PersonKey);

describe("person endpoints: persons/key, demo/login, persons/proof (real stack)", function () {
  this.timeout(180_000);
  let stack: HistoryStack;
  let server: PortalServer;
  const logged: string[] = [];
  const log = {
    info: (e: string, f?: object) => logged.push(e + JSON.stringify(f ?? {})),
    warn: (e: string, f?: object) => logged.push(e + JSON.stringify(f ?? {})),
    error: (e: string, f?: object) => logged.push(e + JSON.stringify(f ?? {})),
  };
  const bodies: string[] = [];
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const reply = await postJson(server.url + path, body, headers);
    bodies.push(reply.text);
    return reply;
  };
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  before(async function () {
    stack = await startHistoryStack();
    server = await stack.serve({ log });
  });
  after(async function () {
    await server?.close();
    await stack?.stop();
  });

  /** beta of a person from the key material as the browser checks it. */
  const betaOf = (m: { personId: string; vrfPublicKey: string; proof: string }): Uint8Array => {
    const r = vrfVerify(
      hexToBytes(m.vrfPublicKey),
      hexToBytes(m.proof),
      personVrfInput(m.personId),
    );
    if (!r.valid) throw new Error(`VRF proof invalid: ${r.reason}`);
    return r.beta;
  };

  it("persons/key: 401 without a key, 403 without the persons:key scope, 200 with it (pi verifies under the registered key)", async function () {
    const id = stack.persons.complete;
    expect((await post("/api/v1/persons/key", { personId: id })).status).to.equal(401);
    const forbidden = await post(
      "/api/v1/persons/key",
      { personId: id },
      bearer(stack.keys.anchor),
    );
    expect(forbidden.status).to.equal(403);
    expect(forbidden.json).to.include({ type: "urn:shafaf:problem:forbidden" });
    const ok = await post("/api/v1/persons/key", { personId: id }, bearer(stack.keys.persons));
    expect(ok.status).to.equal(200);
    expect(ok.headers.get("cache-control")).to.equal("no-store");
    expect(validKey(ok.json), ajv.errorsText(validKey.errors)).to.equal(true);
    const m = ok.json as { personId: string; vrfPublicKey: string; proof: string };
    expect(m.personId).to.equal(id);
    expect(m.vrfPublicKey).to.equal(bytesToHex(stack.vrfPublicKey));
    expect(betaOf(m)).to.have.length(64);
  });

  it("persons/key: an invalid identifier is 400 and is not echoed; without the VRF key 503", async function () {
    const bad = "0012345678"; // wrong check digit
    const r = await post("/api/v1/persons/key", { personId: bad }, bearer(stack.keys.persons));
    expect(r.status).to.equal(400);
    expect(r.json).to.include({ type: "urn:shafaf:problem:invalid-person-id" });
    expect(r.text).not.to.include(bad);
    const extra = await post(
      "/api/v1/persons/key",
      { personId: stack.persons.complete, name: "x" },
      bearer(stack.keys.persons),
    );
    expect(extra.status).to.equal(400);
    const keyless = await stack.serve({ vrfKey: false });
    try {
      const u = await postJson(
        `${keyless.url}/api/v1/persons/key`,
        { personId: stack.persons.complete },
        bearer(stack.keys.persons),
      );
      expect(u.status).to.equal(503);
      expect(u.json).to.include({ type: "urn:shafaf:problem:person-keys-unavailable" });
    } finally {
      await keyless.close();
    }
  });

  it("demo/login: a wrong code is 401 problem+json; the right one gives the same material as persons/key", async function () {
    const id = stack.persons.missing;
    const wrong = await post("/api/v1/demo/login", { personId: id, code: "000000" });
    expect(wrong.status).to.equal(401);
    expect(wrong.headers.get("content-type")).to.match(/application\/problem\+json/);
    expect(wrong.text).not.to.include(id);
    const ok = await post("/api/v1/demo/login", { personId: id, code: DEMO_CODE });
    expect(ok.status).to.equal(200);
    // Typed with Persian digits and spaces: the canonical identifier comes back.
    const persian = id.replace(/[0-9]/g, (d) => "۰۱۲۳۴۵۶۷۸۹"[Number(d)]!);
    const typed = await post("/api/v1/demo/login", { personId: ` ${persian} `, code: DEMO_CODE });
    expect(typed.json).to.deep.equal(ok.json);
    const staff = await post("/api/v1/persons/key", { personId: id }, bearer(stack.keys.persons));
    expect(ok.json).to.deep.equal(staff.json);
  });

  it("demo/login does not exist on a server started without a demo code", async function () {
    const { createApp } = await import("../../src/api/create-app.ts");
    const { listen } = await import("../web/portal-server.ts");
    const { verifyDocument } = await import("../../src/core/verify-document.ts");
    const plain = await listen(
      createApp({
        index: stack.index,
        ledger: stack.ledger,
        verify: verifyDocument,
        apiKeys: [],
        log,
        rateLimit: false,
      }).app,
    );
    try {
      const r = await postJson(`${plain.url}/api/v1/demo/login`, {
        personId: stack.persons.complete,
        code: DEMO_CODE,
      });
      expect(r.status).to.be.oneOf([404, 405]);
    } finally {
      await plain.close();
    }
  });

  /** The assembled person proof of `personId` in the batch of `period`, verified as the browser does. */
  async function assembled(personId: string, period: string) {
    const key = (await post("/api/v1/demo/login", { personId, code: DEMO_CODE })).json as {
      personId: string;
      vrfPublicKey: string;
      proof: string;
    };
    const batchId = stack.batches.get(period)!;
    const kb = batchPersonKey(betaOf(key), { kind: "premium", period });
    const r = await post("/api/v1/persons/proof", { batchId, key: bytesToHex(kb) });
    expect(r.status, r.text).to.equal(200);
    expect(validProof(r.json), ajv.errorsText(validProof.errors)).to.equal(true);
    const m = r.json as Record<string, unknown>;
    const doc = {
      format: PERSON_PROOF_FORMAT,
      chainId: m.chainId,
      contract: m.contract,
      batchId,
      personId,
      vrf: { publicKey: key.vrfPublicKey, proof: key.proof },
      context: { kind: "premium", period },
      records: m.records,
      proof: m.proof,
    };
    const root = (await stack.index.getBatch(batchId))!.root;
    return {
      doc,
      kb,
      result: verifyDocumentOffline(doc, { root, vrfPublicKey: key.vrfPublicKey }),
    };
  }

  it("persons/proof: a range proof of the person's record in a month they worked verifies against the anchored root", async function () {
    const { doc, result } = await assembled(stack.persons.complete, "1403-02");
    expect(
      result.status,
      JSON.stringify(result.checks.filter((c) => c.outcome !== "pass")),
    ).to.equal("verified");
    expect(result.person?.type).to.equal("range");
    expect(doc.records).to.have.length(1);
  });

  it("persons/proof: an absence proof for each missing month verifies; the corrected month is served from its correction", async function () {
    for (const period of MISSING_PERIODS) {
      const { doc, result } = await assembled(stack.persons.missing, period);
      expect(result.status).to.equal("verified");
      expect(result.person?.type).to.equal("absence");
      expect(doc.records).to.deep.equal([]);
    }
    const fixed = await assembled(stack.persons.complete, stack.corrected.period);
    expect(fixed.result.status).to.equal("verified");
    expect((fixed.doc.records as { record: { days: number } }[])[0]!.record.days).to.equal(29);
  });

  it("persons/proof: bad input is 400, an unknown batch 404; a tampered answer would not verify against another batch's root", async function () {
    const batchId = stack.batches.get("1403-01")!;
    expect((await post("/api/v1/persons/proof", { batchId, key: "0x12" })).status).to.equal(400);
    expect(
      (await post("/api/v1/persons/proof", { batchId: 0, key: `0x${"11".repeat(32)}` })).status,
    ).to.equal(400);
    expect(
      (await post("/api/v1/persons/proof", { batchId: 999, key: `0x${"11".repeat(32)}` })).status,
    ).to.equal(404);
    const notJson = await postJson(`${server.url}/api/v1/persons/proof`, "batchId=1", {
      "content-type": "text/plain",
    });
    expect(notJson.status).to.equal(415);
    const { doc } = await assembled(stack.persons.complete, "1403-01");
    const otherRoot = (await stack.index.getBatch(stack.batches.get("1403-02")!))!.root;
    const r = verifyDocumentOffline(doc, {
      root: otherRoot,
      vrfPublicKey: bytesToHex(stack.vrfPublicKey),
    });
    expect(r.status).to.equal("failed");
  });

  it("persons/proofs: a year's batches in one request, answered in order, each as persons/proof answers it or with its problem", async function () {
    const key = (
      await post("/api/v1/demo/login", { personId: stack.persons.missing, code: DEMO_CODE })
    ).json as { personId: string; vrfPublicKey: string; proof: string };
    const periods = ["1403-02", MISSING_PERIODS[0]!];
    const items = periods.map((period) => ({
      batchId: stack.batches.get(period)!,
      key: bytesToHex(batchPersonKey(betaOf(key), { kind: "premium", period })),
    }));
    const unknown = { batchId: 999, key: `0x${"11".repeat(32)}` };
    const r = await post("/api/v1/persons/proofs", { items: [...items, unknown] });
    expect(r.status, r.text).to.equal(200);
    const answers = (r.json as { items: Record<string, unknown>[] }).items;
    expect(answers.map((a) => a.batchId)).to.deep.equal([...items.map((i) => i.batchId), 999]);
    // The same bytes as one persons/proof request each.
    for (const [i, item] of items.entries()) {
      expect(validProof(answers[i]), ajv.errorsText(validProof.errors)).to.equal(true);
      expect(answers[i]).to.deep.equal((await post("/api/v1/persons/proof", item)).json);
    }
    expect((answers[0]!.records as unknown[]).length).to.equal(1);
    expect(answers[1]!.records).to.deep.equal([]);
    expect(answers[2]).to.deep.include({ batchId: 999 });
    expect(answers[2]!.problem).to.include({ status: 404, detail: "batch 999 is not indexed" });
    // At most 64 items, at least one.
    const many = Array.from({ length: 65 }, () => unknown);
    expect((await post("/api/v1/persons/proofs", { items: many })).status).to.equal(400);
    expect((await post("/api/v1/persons/proofs", { items: [] })).status).to.equal(400);
  });

  it("no national ID, VRF proof or batch key appears in any log line or error body", async function () {
    const { kb } = await assembled(stack.persons.missing, "1403-03");
    const secrets = [stack.persons.complete, stack.persons.missing, bytesToHex(kb).slice(2, 20)];
    const text = logged.join("\n");
    for (const s of secrets) expect(text).not.to.include(s);
    // Every problem document: a whole error body, or an item's problem in persons/proofs (whose
    // other items carry the asking person's own records, as persons/proof does).
    const problems = bodies
      .filter((b) => b.includes("urn:shafaf:problem"))
      .flatMap((b) => {
        const j = JSON.parse(b) as { items?: { problem?: unknown }[] };
        return Array.isArray(j.items)
          ? j.items.filter((i) => i.problem !== undefined).map((i) => JSON.stringify(i.problem))
          : [b];
      });
    expect(problems.length).to.be.greaterThan(1);
    for (const body of problems) for (const s of secrets) expect(body).not.to.include(s);
  });

  it("rate limits the demo login and the proof endpoint per client", async function () {
    const limited = await stack.serve({ rateLimit: { capacity: 3, refillPerSecond: 0.01 } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++)
        statuses.push(
          (
            await postJson(`${limited.url}/api/v1/demo/login`, {
              personId: stack.persons.complete,
              code: "999999",
            })
          ).status,
        );
      expect(statuses.slice(0, 3)).to.deep.equal([401, 401, 401]);
      expect(statuses.slice(3)).to.deep.equal([429, 429]);
      const proof = await postJson(`${limited.url}/api/v1/persons/proof`, {
        batchId: 1,
        key: `0x${"11".repeat(32)}`,
      });
      expect(proof.status).to.equal(429);
    } finally {
      await limited.close();
    }
  });
});

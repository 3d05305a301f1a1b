import { expect } from "chai";
import { serveDataset, type Person, type Served } from "./api-fixture.ts";
import { call, postJson, type Reply } from "./http.ts";

const persianDigits = (t: string) =>
  t.replace(/[0-9]/g, (d) => String.fromCharCode(0x06f0 + Number(d)));

/** Every way a person's data could show: IDs as whole tokens (ASCII or Persian digits), names. */
function leaksOf(text: string, people: readonly Person[]): string[] {
  const found: string[] = [];
  for (const p of people) {
    for (const id of [p.nationalId, p.insuranceNo]) {
      if (new RegExp(`(?<![0-9A-Za-z])${id}(?![0-9A-Za-z])`).test(text)) found.push(`id ${id}`);
      if (text.includes(persianDigits(id))) found.push(`id ${id} in Persian digits`);
    }
    for (const name of [p.firstName, p.lastName])
      if (text.includes(name)) found.push(`name ${name}`);
  }
  return found;
}

describe("privacy: no personal data in any public response", function () {
  let s: Served;
  const replies: { what: string; reply: Reply }[] = [];
  const record = async (what: string, request: Promise<Reply>) => {
    const reply = await request;
    replies.push({ what, reply });
    return reply;
  };

  before(async function () {
    // with two shafaf-tree/2 batches, indexed from BatchAnchoredV2 events: batch 5 covers 4
    // persons (its lanes must be suppressed), batch 6 covers 40
    s = await serveDataset({ rpcUrlForBrowsers: "http://127.0.0.1:8545" }, { v2: true });
    const u = s.url;
    const someone = s.dataset.people[4]!;
    // Every public endpoint, including pages, filters and the error paths a curious caller tries.
    let cursor: string | null = null;
    do {
      const page: Reply = await record(
        "batches page",
        call(`${u}/api/v1/batches?limit=1${cursor === null ? "" : `&cursor=${cursor}`}`),
      );
      cursor = page.json.nextCursor;
    } while (cursor !== null);
    for (const q of [
      "kind=premium",
      "kind=pension",
      "status=superseded",
      "from=1403-07&to=1403-08",
    ]) {
      await record(`batches ?${q}`, call(`${u}/api/v1/batches?${q}`));
    }
    for (const b of s.dataset.batches)
      await record(`batch ${b.view.batchId}`, call(`${u}/api/v1/batches/${b.view.batchId}`));
    for (const b of s.dataset.batches)
      for (let i = 0; i <= b.view.attestations.length; i++)
        await record(
          `findings of batch ${b.view.batchId} attestation ${i}`,
          call(`${u}/api/v1/batches/${b.view.batchId}/attestations/${i}/findings`),
        );
    for (const id of [5, 6]) await record(`v2 batch ${id}`, call(`${u}/api/v1/batches/${id}`));
    await record("vrf keys", call(`${u}/api/v1/vrf-keys`));
    await record("stats", call(`${u}/api/v1/stats`));
    await record("chain", call(`${u}/api/v1/chain`));
    await record("events", call(`${u}/api/v1/events`));
    await record("openapi", call(`${u}/api/v1/openapi.json`));
    await record("healthz", call(`${u}/healthz`));
    await record("readyz", call(`${u}/readyz`));
    for (const b of s.dataset.batches) {
      await record(
        `verify a receipt of batch ${b.view.batchId}`,
        postJson(`${u}/api/v1/verify`, b.receipts[0]!.receipt),
      );
    }
    await record("verify tampered", postJson(`${u}/api/v1/verify`, s.dataset.tampered.receipt));
    await record(
      "verify with a national ID member",
      postJson(`${u}/api/v1/verify`, {
        ...s.dataset.batches[0]!.receipts[1]!.receipt,
        nationalId: someone.nationalId,
      }),
    );
    await record("receipt by national ID", call(`${u}/api/v1/receipts/${someone.nationalId}`));
    await record(
      "receipt by name",
      call(`${u}/api/v1/receipts/${encodeURIComponent(someone.lastName)}`),
    );
    await record("receipt tampered", call(`${u}/api/v1/receipts/${s.dataset.tampered.code}`));
    await record(
      "batches ?kind=<national ID>",
      call(`${u}/api/v1/batches?kind=${someone.nationalId}`),
    );
    await record("batches ?<national ID>=1", call(`${u}/api/v1/batches?${someone.nationalId}=1`));
    await record("subjects without key", call(`${u}/api/v1/subjects/${someone.subject}/receipts`));
    await record("metrics", call(`${u}/metrics`));
  });
  after(async function () {
    await s.close();
  });

  it("called every public endpoint", function () {
    expect(replies.length).to.be.greaterThan(25);
    expect(replies.filter((r) => r.reply.status === 200).length).to.be.greaterThan(15);
  });

  it("no national ID, insurance number or name appears in any response body or header", function () {
    for (const { what, reply } of replies) {
      const text =
        reply.text + "\n" + [...reply.headers.entries()].map(([k, v]) => `${k}: ${v}`).join("\n");
      expect(leaksOf(text, s.dataset.people), what).to.deep.equal([]);
    }
  });

  it("a v2 batch publishes its persons count, but its amount lanes only when it covers ≥ 10 persons", function () {
    const reply = (what: string) => replies.find((r) => r.what === what)!.reply;
    const small = reply("v2 batch 5").json;
    expect(small).to.deep.include({ scheme: "shafaf-tree/2", persons: 4 });
    expect(small.lanes).to.deep.equal({ suppressed: true });
    expect(reply("v2 batch 5").text).to.not.include("90000000").and.not.include('"150"');
    const large = reply("v2 batch 6").json;
    expect(large).to.deep.include({ scheme: "shafaf-tree/2", persons: 40 });
    expect(large.lanes).to.deep.equal({
      gross: "9000000000",
      deductions: "1000000000",
      net: "8000000000",
      onTime: "45",
    });
    // the per-batch lanes array as stored is never served raw
    expect(large).to.not.have.any.keys("totals");
    expect(reply("batch 1").json.scheme).to.equal("shafaf-tree/1");
    expect(reply("vrf keys").json.items).to.have.length(1);
    expect(Object.keys(reply("vrf keys").json.items[0]).sort()).to.deep.equal([
      "index",
      "keyId",
      "publicKey",
      "registeredAt",
      "registeredAtBlock",
      "registrar",
      "txHash",
    ]);
  });

  it("the published findings of a report full of personal data repeat none of it", async function () {
    const r = await call(`${s.url}/api/v1/batches/2/attestations/1/findings`);
    expect(r.json.report).to.equal("published");
    expect(r.json.findings.recordCount).to.equal(1);
    // The report itself does hold personal data: the detector sees it there.
    const raw = new TextDecoder().decode(s.dataset.disputeReport);
    expect(leaksOf(raw, s.dataset.people)).to.not.deep.equal([]);
    expect(leaksOf(r.text, s.dataset.people)).to.deep.equal([]);
    expect(r.text).to.not.include("2500000").and.not.include("pension-");
  });

  it("a receipt opens only its own record: nobody else's data", async function () {
    for (const b of s.dataset.batches) {
      const { code, person } = b.receipts[2]!;
      const r = await call(`${s.url}/api/v1/receipts/${code}`);
      expect(r.status).to.equal(200);
      const others = s.dataset.people.filter((p) => p !== person);
      expect(leaksOf(r.text, others), `receipt of batch ${b.view.batchId}`).to.deep.equal([]);
    }
  });

  it("the logs hold no personal data either", function () {
    expect(leaksOf(JSON.stringify(s.logs), s.dataset.people)).to.deep.equal([]);
  });

  it("the leak detector finds a planted leak (the test can fail)", function () {
    const p = s.dataset.people[7]!;
    expect(leaksOf(`{"x":"${p.nationalId}"}`, s.dataset.people)).to.include(`id ${p.nationalId}`);
    expect(leaksOf(`{"x":"${persianDigits(p.insuranceNo)}"}`, s.dataset.people)).to.have.length(1);
    expect(leaksOf(`«${p.lastName}»`, s.dataset.people)).to.not.deep.equal([]);
  });
});

import { expect } from "chai";
import { keccak256 } from "ethers";
import { mkdtempSync, rmSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { auditFindings } from "../../src/api/audit-findings.ts";
import { createAuditReportFolder } from "../../src/store/audit-report-folder.ts";
import { parseAccountNames } from "../../src/store/account-names.ts";
import { AUDITOR, serveDataset, type Served } from "./api-fixture.ts";
import { call } from "./http.ts";

describe("GET /api/v1/batches/{id}/attestations/{index}/findings", function () {
  let s: Served;
  before(async function () {
    s = await serveDataset({
      accountNames: { [AUDITOR]: { fa: "دیوان محاسبات", en: "Supreme Audit Court" } },
    });
  });
  after(async function () {
    await s.close();
  });

  it("serves the findings of the report whose keccak256 the auditor attested", async function () {
    const r = await call(`${s.url}/api/v1/batches/2/attestations/1/findings`);
    expect(r.status).to.equal(200);
    expect(r.json).to.include({
      format: "shafaf-findings/1",
      batchId: 2,
      index: 1,
      verdict: "disputed",
      report: "published",
      reportHash: keccak256(s.dataset.disputeReport),
    });
    expect(r.json.findings).to.deep.equal({
      reportVerdict: "mismatch",
      failedChecks: ["root", "total"],
      recordCount: 1,
      // The second finding's "field" carried a national ID: it is dropped, not repeated.
      records: [
        { position: 3, problem: "changed", field: "deductions" },
        { position: 3, problem: "changed", field: null },
      ],
      anomalyCount: 1,
    });
  });

  it("says honestly that a report is not published here", async function () {
    const r = await call(`${s.url}/api/v1/batches/2/attestations/0/findings`);
    expect(r.status).to.equal(200);
    expect(r.json.report).to.equal("unpublished");
    expect(r.json).to.not.have.property("findings");
  });

  it("answers 404 for a missing attestation or batch, 400 for a bad index", async function () {
    const none = await call(`${s.url}/api/v1/batches/2/attestations/2/findings`);
    expect(none.status).to.equal(404);
    expect(none.json.type).to.match(/attestation-not-found/);
    expect((await call(`${s.url}/api/v1/batches/99/attestations/0/findings`)).status).to.equal(404);
    expect((await call(`${s.url}/api/v1/batches/2/attestations/-1/findings`)).status).to.equal(400);
  });

  it("names accounts in /chain from governance's names", async function () {
    const r = await call(`${s.url}/api/v1/chain`);
    expect(r.json.names).to.deep.equal({
      [AUDITOR]: { fa: "دیوان محاسبات", en: "Supreme Audit Court" },
    });
  });

  it("trusts no report source: bytes that do not hash to the attested value are not shown", async function () {
    const lying = await serveDataset({
      auditReports: {
        read: () =>
          Promise.resolve(
            new TextEncoder().encode('{"format":"shafaf-audit/1","verdict":"match"}'),
          ),
      },
    });
    try {
      const r = await call(`${lying.url}/api/v1/batches/2/attestations/1/findings`);
      expect(r.json.report).to.equal("unpublished");
      expect(lying.logs.map((l) => l.event)).to.include("audit-report-mismatch");
    } finally {
      await lying.close();
    }
  });
});

describe("auditFindings", function () {
  it("refuses what is not a shafaf-audit/1 report", function () {
    const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
    expect(auditFindings(new TextEncoder().encode("not json"))).to.equal(undefined);
    expect(auditFindings(enc({ format: "shafaf-audit/2", verdict: "match" }))).to.equal(undefined);
    expect(auditFindings(enc([1]))).to.equal(undefined);
    expect(auditFindings(enc({ format: "shafaf-audit/1", verdict: "match" }))).to.deep.equal({
      reportVerdict: "match",
      failedChecks: [],
      recordCount: 0,
      records: [],
      anomalyCount: 0,
    });
  });

  it("keeps only check names of audit-batch's shape", function () {
    const bytes = new TextEncoder().encode(
      JSON.stringify({
        format: "shafaf-audit/1",
        verdict: "mismatch",
        checks: [
          { name: "province IR-23", ok: false },
          { name: "manifest.byProvince", ok: false },
          { name: "record 0012345679", ok: false },
          { name: "root", ok: true },
        ],
      }),
    );
    expect(auditFindings(bytes)?.failedChecks).to.deep.equal([
      "province IR-23",
      "manifest.byProvince",
    ]);
  });
});

describe("createAuditReportFolder", function () {
  it("finds a report by the keccak256 of its bytes, and sees a file added later", async function () {
    const dir = mkdtempSync(path.join(tmpdir(), "shafaf-reports-"));
    try {
      const a = new TextEncoder().encode('{"a":1}\n');
      const b = new TextEncoder().encode('{"b":2}\n');
      await writeFile(path.join(dir, "batch-1.json"), a);
      await writeFile(path.join(dir, "batch-1.html"), "<p>not a report</p>");
      const reports = createAuditReportFolder(dir);
      expect(await reports.read(keccak256(a).toUpperCase().replace("0X", "0x"))).to.deep.equal(a);
      expect(await reports.read(keccak256(b))).to.equal(undefined);
      await writeFile(path.join(dir, "batch-2.json"), b);
      expect(await reports.read(keccak256(b))).to.deep.equal(b);
      expect(await createAuditReportFolder(path.join(dir, "none")).read(keccak256(a))).to.equal(
        undefined,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("parseAccountNames", function () {
  it("reads shafaf-names/1 and refuses a bad address or a missing language", function () {
    const upper = "0x" + "AB".repeat(20);
    expect(
      parseAccountNames(
        JSON.stringify({
          format: "shafaf-names/1",
          accounts: { [upper]: { fa: " الف ", en: "A" } },
        }),
        "names.json",
      ),
    ).to.deep.equal({ [upper.toLowerCase()]: { fa: "الف", en: "A" } });
    expect(() =>
      parseAccountNames(
        JSON.stringify({ format: "shafaf-names/1", accounts: { "0x12": { fa: "a", en: "b" } } }),
        "names.json",
      ),
    ).to.throw(/names\.json: accounts\.0x12/);
    expect(() =>
      parseAccountNames(
        JSON.stringify({ format: "shafaf-names/1", accounts: { [upper]: { fa: "a" } } }),
        "names.json",
      ),
    ).to.throw(/"fa", "en"/);
    expect(() => parseAccountNames("{}", "names.json")).to.throw(/format must be/);
  });
});

describe("committed vectors", function () {
  const root = path.resolve(import.meta.dirname, "../vectors");
  it("audit-findings-1: every report gives exactly its findings, and none of its values", async function () {
    const doc = JSON.parse(await readFile(path.join(root, "audit-findings-1.json"), "utf8"));
    expect(doc.vectors.length).to.be.greaterThan(3);
    for (const v of doc.vectors) {
      const out = auditFindings(new TextEncoder().encode(JSON.stringify(v.report)));
      expect(out ?? null, v.name).to.deep.equal(v.findings);
      for (const secret of v.mustNotContain)
        expect(JSON.stringify(out), `${v.name}: ${secret}`).to.not.include(secret);
    }
  });

  it("account-names-1: the valid documents read as given, the invalid ones fail by code", async function () {
    const doc = JSON.parse(await readFile(path.join(root, "account-names-1.json"), "utf8"));
    for (const v of doc.valid)
      expect(parseAccountNames(v.text, "names.json"), v.name).to.deep.equal(v.names);
    expect(doc.invalid.length).to.be.greaterThan(5);
    for (const v of doc.invalid) {
      let code: string | undefined;
      try {
        parseAccountNames(v.text, "names.json");
      } catch (error) {
        code = (error as { code?: string }).code;
      }
      expect(code, v.name).to.equal(v.code);
    }
  });
});

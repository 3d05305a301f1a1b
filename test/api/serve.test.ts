/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return -- HTTP reply bodies are untyped JSON */
/**
 * `shafaf serve` end to end: the real CLI in a child process against the embedded chain, with the
 * embedded indexer, the real anchor pipeline behind the staff upload endpoint, core's verifier
 * and a live chain reader. Then the privacy check over every public endpoint on real data.
 */
import { bytesToHex, hexToBytes } from "../../src/core/hex.ts";
import { batchPersonKey, personVrfInput } from "../../src/core/person-key.ts";
import { verifyDocumentOffline } from "../../src/core/verify-document.ts";
import { vrfVerify } from "../../src/core/vrf.ts";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { loadPseudonymKey } from "../../src/anchor/pseudonym-key.ts";
import { startDevChain, type DevChain } from "../../src/chain/dev-chain.ts";
import { subjectPseudonym } from "../../src/core/pseudonym.ts";
import { MAIN, PREMIUM_COLUMNS, ROOT, premiumRows, runCli, toCsv } from "../anchor/helpers.ts";
import { call, postJson } from "./http.ts";

const DEV0 = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 90_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const PASSWORD = { SHAFAF_KEYSTORE_PASSWORD: "serve test password" };

describe("shafaf serve (end to end on the embedded chain)", function () {
  this.timeout(180_000);
  let chain: DevChain;
  let dir: string;
  let server: ChildProcess;
  let url: string;
  let stderr = "";
  let token: string;
  let address: string;
  let vrfFile: string;
  let keys: string;
  let personMaterial: { batchId: number; key: string; records: unknown };
  const rows = premiumRows(24, { period: "1403-07" });
  const exit = () =>
    new Promise<number | null>((resolve) => {
      if (server.exitCode !== null) return resolve(server.exitCode);
      server.once("exit", (code) => resolve(code));
    });

  before(async function () {
    chain = await startDevChain();
    dir = mkdtempSync(path.join(tmpdir(), "shafaf-serve-"));
    const deployed = await runCli([
      "deploy",
      "--rpc",
      chain.url,
      "--signer",
      "dev:0",
      "--anchorer",
      DEV0,
      "--json",
    ]);
    expect(deployed.code, deployed.stderr).to.equal(0);
    ({ address } = JSON.parse(deployed.stdout) as { address: string });
    // Uploads are anchored as shafaf-tree/2 batches: the person-key VRF key, registered.
    vrfFile = path.join(dir, "vrf.json");
    for (const argv of [
      ["keys", "new-vrf", "--out", vrfFile],
      [
        "keys",
        "register-vrf",
        vrfFile,
        "--rpc",
        chain.url,
        "--contract",
        address,
        "--signer",
        "dev:0",
      ],
    ]) {
      const r = await runCli(argv, { env: PASSWORD });
      expect(r.code, r.stderr).to.equal(0);
    }
    keys = path.join(dir, "keys.json");
    const created = await runCli([
      "serve",
      "--create-api-key",
      "payroll",
      "--scopes",
      "anchor,subjects:read,persons:key",
      "--api-keys",
      keys,
    ]);
    expect(created.code, created.stderr).to.equal(0);
    token = created.stdout.trim();
    expect(token).to.match(/^shafaf_sk_/);
    expect(readFileSync(keys, "utf8")).not.to.include(token);
    expect(statSync(keys).mode & 0o777).to.equal(0o600);

    server = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        MAIN,
        "serve",
        "--rpc",
        chain.url,
        "--contract",
        address,
        "--port",
        "0",
        "--data-dir",
        path.join(dir, "data"),
        "--api-keys",
        keys,
        "--signer",
        "dev:0",
        "--vrf-key",
        vrfFile,
        "--public-rpc",
        chain.url,
      ],
      { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...PASSWORD } },
    );
    server.stderr!.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    url = await new Promise<string>((resolve, reject) => {
      let out = "";
      server.stdout!.on("data", (c: Buffer) => {
        out += c.toString("utf8");
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m !== null) resolve(m[1]!);
      });
      server.once("exit", (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
    });
  });

  after(async function () {
    if (server !== undefined && server.exitCode === null) {
      server.kill("SIGKILL");
      await exit();
    }
    await chain?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("anchors an upload through the real pipeline, indexes it, and serves and verifies its receipts", async function () {
    const upload = await call(`${url}/api/v1/batches?kind=premium&period=1403-07&format=csv`, {
      method: "POST",
      headers: { "content-type": "text/csv", authorization: `Bearer ${token}` },
      body: toCsv(PREMIUM_COLUMNS, rows, { crlf: true }),
    });
    expect(upload.status, upload.text).to.equal(201);
    expect(upload.json).to.include({ batchId: 1, recordCount: 24 });

    const batch = await waitFor("the indexer", async () => {
      const r = await call(`${url}/api/v1/batches/1`);
      return r.status === 200 ? r.json : undefined;
    });
    expect(batch).to.include({
      batchId: 1,
      kind: "premium",
      period: "1403-07",
      recordCount: 24,
      root: upload.json.root,
    });
    expect(batch.manifest.status).to.equal("verified");

    const ready = await waitFor("readiness", async () =>
      (await call(`${url}/readyz`)).status === 200 ? true : undefined,
    );
    expect(ready).to.equal(true);
    const chainView = await call(`${url}/api/v1/chain`);
    expect(chainView.json).to.include({ chainId: 31337, rpcUrl: chain.url, batchCount: 1 });

    const key = (await loadPseudonymKey(path.join(dir, "data"), {}, { create: false }))!;
    const pseudonym = subjectPseudonym(key, rows[5]!.national_id!);
    const mine = await call(`${url}/api/v1/subjects/${pseudonym}/receipts`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(mine.status).to.equal(200);
    expect(mine.json.items).to.have.length(1);
    const receipt = mine.json.items[0];
    expect(receipt.record.recordId).to.equal(rows[5]!.record_id);
    expect(receipt.format).to.equal("shafaf-receipt/2"); // served with --vrf-key

    const byCode = await call(
      `${url}/api/v1/receipts/${encodeURIComponent(receipt.code.toLowerCase().replaceAll("-", " "))}`,
    );
    expect(byCode.status).to.equal(200);
    expect(byCode.json).to.deep.equal(receipt);

    // With --vrf-key the server also hands out person keys (scope persons:key), and the
    // person's batch key gets the range proof of their record.
    const personKey = await postJson(
      `${url}/api/v1/persons/key`,
      { personId: rows[5]!.national_id },
      { authorization: `Bearer ${token}` },
    );
    expect(personKey.status, personKey.text).to.equal(200);
    const pk = personKey.json as { personId: string; vrfPublicKey: string; proof: string };
    const vrf = vrfVerify(
      hexToBytes(pk.vrfPublicKey),
      hexToBytes(pk.proof),
      personVrfInput(pk.personId),
    );
    expect(vrf.valid).to.equal(true);
    const context = { kind: receipt.record.kind, period: receipt.record.period };
    const material = await postJson(`${url}/api/v1/persons/proof`, {
      batchId: receipt.batchId,
      key: bytesToHex(batchPersonKey((vrf as { beta: Uint8Array }).beta, context)),
    });
    expect(material.status, material.text).to.equal(200);
    personMaterial = {
      batchId: receipt.batchId,
      key: bytesToHex(batchPersonKey((vrf as { beta: Uint8Array }).beta, context)),
      records: material.json.records,
    };
    const personDoc = {
      format: "shafaf-person-proof/1",
      chainId: material.json.chainId,
      contract: material.json.contract,
      batchId: receipt.batchId,
      personId: pk.personId,
      vrf: { publicKey: pk.vrfPublicKey, proof: pk.proof },
      context,
      records: material.json.records,
      proof: material.json.proof,
    };
    const batchView = await call(`${url}/api/v1/batches/${receipt.batchId}`);
    const personCheck = verifyDocumentOffline(personDoc, {
      root: batchView.json.root,
      vrfPublicKey: pk.vrfPublicKey,
    });
    expect(personCheck.status).to.equal("verified");
    expect(personCheck.person?.type).to.equal("range");

    const verified = await postJson(`${url}/api/v1/verify`, receipt);
    expect(verified.json.status, JSON.stringify(verified.json)).to.equal("verified");
    const names = verified.json.checks.map((c: any) => c.name);
    expect(names).to.include.members([
      "tree.root",
      "anchored-root",
      "root-indexed",
      "root-on-chain",
      "superseded",
    ]);
    expect(verified.json.checks.find((c: any) => c.name === "root-on-chain").ok).to.equal(true);

    const forged = await postJson(`${url}/api/v1/verify`, { ...receipt, batchId: 9 });
    expect(forged.json.status).to.equal("failed");
    expect(forged.json.checks.find((c: any) => c.name === "root-on-chain").detail).to.equal(
      "the contract has no batch 9",
    );
  });

  it("422s an upload with invalid records, naming line and field without the value", async function () {
    const bad = premiumRows(3, { period: "1403-07", prefix: "B" });
    bad[1]!.national_id = "0012345678";
    const r = await call(`${url}/api/v1/batches?kind=premium&period=1403-07&format=csv`, {
      method: "POST",
      headers: { "content-type": "text/csv", authorization: `Bearer ${token}` },
      body: toCsv(PREMIUM_COLUMNS, bad),
    });
    expect(r.status, r.text).to.equal(422);
    expect(r.json.issues[0]).to.include({ line: 3, field: "national_id" });
    expect(r.text).not.to.include("0012345678");
  });

  it("keeps no upload once anchored or rejected, and keeps personal data owner-only", function () {
    const data = path.join(dir, "data");
    expect(readdirSync(path.join(data, "uploads"))).to.deep.equal([]);
    expect(statSync(data).mode & 0o777).to.equal(0o700);
    expect(statSync(path.join(data, "ledger")).mode & 0o777).to.equal(0o700);
    for (const name of readdirSync(path.join(data, "ledger"))) {
      const info = statSync(path.join(data, "ledger", name));
      if (info.isFile()) expect(info.mode & 0o777, name).to.equal(0o600);
    }
  });

  it("shows no national ID or insurance number in any public response on real data", async function () {
    const texts: string[] = [];
    for (const p of [
      "/api/v1/batches",
      "/api/v1/batches/1",
      "/api/v1/stats",
      "/api/v1/chain",
      "/api/v1/events",
      "/healthz",
      "/readyz",
      "/metrics",
      "/api/v1/openapi.json",
    ]) {
      const r = await call(url + p);
      expect(r.status, p).to.equal(200);
      texts.push(r.text);
    }
    const all = texts.join("\n");
    for (const row of rows) {
      for (const id of [row.national_id!, row.insurance_no!]) {
        expect(new RegExp(`(?<![0-9A-Za-z])${id}(?![0-9A-Za-z])`).test(all), id).to.equal(false);
      }
    }
    expect(stderr).not.to.include(rows[0]!.national_id);
  });

  it("stops cleanly on SIGTERM", async function () {
    server.kill("SIGTERM");
    expect(await exit()).to.equal(0);
    expect(stderr).to.include("shafaf serve: stopped");
  });

  /** `shafaf serve` with `extra` options over the same data; resolves with its URL and output. */
  function startServe(extra: string[]) {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        MAIN,
        "serve",
        "--rpc",
        chain.url,
        "--contract",
        address,
        "--port",
        "0",
        "--data-dir",
        path.join(dir, "data"),
        "--api-keys",
        keys,
        ...extra,
      ],
      { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...PASSWORD } },
    );
    let out = "";
    let err = "";
    child.stderr.on("data", (c: Buffer) => (err += c.toString("utf8")));
    const ended = new Promise<number | null>((resolve) => child.once("exit", resolve));
    const listening = new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (c: Buffer) => {
        out += c.toString("utf8");
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m !== null) resolve(m[1]!);
      });
      void ended.then((code) => reject(new Error(`serve exited ${code}: ${err}`)));
    });
    return { child, listening, ended, output: () => out, errors: () => err };
  }

  it("read-only with --vrf-key alone: answers persons/key and persons/proof, refuses uploads with 503", async function () {
    const ro = startServe(["--vrf-key", vrfFile]);
    try {
      const roUrl = await ro.listening;
      expect(ro.output()).to.include("staff uploads: off");
      expect(ro.output()).to.include("person keys: on");
      const personKey = await postJson(
        `${roUrl}/api/v1/persons/key`,
        { personId: rows[5]!.national_id },
        { authorization: `Bearer ${token}` },
      );
      expect(personKey.status, personKey.text).to.equal(200);
      const pk = personKey.json as { personId: string; vrfPublicKey: string; proof: string };
      expect(
        vrfVerify(hexToBytes(pk.vrfPublicKey), hexToBytes(pk.proof), personVrfInput(pk.personId))
          .valid,
      ).to.equal(true);
      const material = await postJson(`${roUrl}/api/v1/persons/proof`, {
        batchId: personMaterial.batchId,
        key: personMaterial.key,
      });
      expect(material.status, material.text).to.equal(200);
      expect(material.json.records).to.deep.equal(personMaterial.records);
      const upload = await call(`${roUrl}/api/v1/batches?kind=premium&period=1403-08&format=csv`, {
        method: "POST",
        headers: { "content-type": "text/csv", authorization: `Bearer ${token}` },
        body: toCsv(PREMIUM_COLUMNS, premiumRows(3, { period: "1403-08" }), { crlf: true }),
      });
      expect(upload.status, upload.text).to.equal(503);
      expect(upload.headers.get("content-type")).to.include("application/problem+json");
    } finally {
      ro.child.kill("SIGTERM");
      expect(await ro.ended).to.equal(0);
    }
  });

  it("refuses to start with a --vrf-key the ledger has not registered, saying how to register it", async function () {
    const other = path.join(dir, "other-vrf.json");
    const made = await runCli(["keys", "new-vrf", "--out", other], { env: PASSWORD });
    expect(made.code, made.stderr).to.equal(0);
    const ro = startServe(["--vrf-key", other]);
    ro.listening.catch(() => undefined);
    expect(await ro.ended).to.equal(65); // bad input (sysexits EX_DATAERR), as shafaf anchor
    expect(ro.errors()).to.include("is not registered on this ledger");
    expect(ro.errors()).to.include("shafaf keys register-vrf");
  });
});

describe("shafaf serve (usage)", function () {
  it("exits 64 with the usage on missing or bad options", async function () {
    const none = await runCli(["serve"]);
    expect(none.code).to.equal(64);
    expect(none.stderr).to.include("--rpc URL is required");
    const badScope = await runCli([
      "serve",
      "--create-api-key",
      "x",
      "--scopes",
      "root",
      "--api-keys",
      path.join(tmpdir(), "nope.json"),
    ]);
    expect(badScope.code).to.equal(64);
    expect(badScope.stderr).to.include('unknown scope "root"');
  });
});

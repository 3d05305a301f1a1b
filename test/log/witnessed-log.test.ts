import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import express from "express";
import { expect } from "chai";
import { hashLeaf, verifyConsistency } from "../../src/core/rfc6962.ts";
import {
  cosignatureV1Signer,
  ed25519NoteSigner,
  ed25519PublicKey,
  formatVerifierKey,
  noteVerifier,
  SIG_TYPE_COSIGNATURE_V1,
  SIG_TYPE_ED25519,
} from "../../src/core/signed-note.ts";
import { parseCheckpoint } from "../../src/core/checkpoint.ts";
import { parseTrustPolicy, verifyCheckpointPolicy } from "../../src/core/tlog-policy.ts";
import { verifyTlogProof } from "../../src/core/tlog-proof.ts";
import { openTiledLog } from "../../src/log/tiled-log.ts";
import { createLogRouter } from "../../src/log/log-routes.ts";
import { cosignCheckpoint, type WitnessEndpoint } from "../../src/log/witness-client.ts";
import { createWitness } from "../../src/witness/witness.ts";
import { createWitnessApp } from "../../src/witness/witness-app.ts";
import { openWitnessStore, type WitnessStore } from "../../src/witness/witness-store.ts";

const ORIGIN = "sso.example/ledger-log";
const logSeed = new Uint8Array(32).fill(11);
const enc = new TextEncoder();

async function listen(
  handler: Parameters<typeof createServer>[1],
): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe("a log cosigned by 4 witnesses over HTTP, proven offline", function () {
  this.timeout(60_000);
  let dir: string;
  const servers: Server[] = [];
  const stores: WitnessStore[] = [];
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "shafaf-witnessed-"));
  });
  after(async () => {
    for (const s of servers) await new Promise<void>((resolve) => s.close(() => resolve()));
    for (const s of stores) await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("collects 4 cosignatures, meets 3 of 4 with one witness down, serves tiles, and proves an entry with no network", async () => {
    const logVerifierKey = formatVerifierKey(ORIGIN, SIG_TYPE_ED25519, ed25519PublicKey(logSeed));
    const endpoints: WitnessEndpoint[] = [];
    const policyLines = [`log ${logVerifierKey}`];
    for (let i = 1; i <= 4; i++) {
      const seed = new Uint8Array(32).fill(100 + i);
      const name = `auditor-${i}.example/witness`;
      const store = await openWitnessStore(path.join(dir, `w${i}`));
      stores.push(store);
      const witness = createWitness({
        cosigner: cosignatureV1Signer(name, seed),
        logs: [noteVerifier(logVerifierKey)],
        store,
      });
      const { server, url } = await listen(createWitnessApp({ witness }));
      servers.push(server);
      const vkey = formatVerifierKey(name, SIG_TYPE_COSIGNATURE_V1, ed25519PublicKey(seed));
      endpoints.push({ name: `w${i}`, url, verifier: noteVerifier(vkey) });
      policyLines.push(`witness w${i} ${vkey} ${url}`);
    }
    const policy = parseTrustPolicy(
      [...policyLines, "group auditors 3 w1 w2 w3 w4", "quorum auditors", ""].join("\n"),
    );

    const log = await openTiledLog({
      dir: path.join(dir, "log"),
      origin: ORIGIN,
      signer: ed25519NoteSigner(ORIGIN, logSeed),
    });
    const knownSizes = new Map<string, number>();
    const batches = Array.from({ length: 40 }, (_, i) =>
      enc.encode(`shafaf-batch-summary/1 batch ${i + 1}`),
    );
    // Three anchorings, one witness forgetting its size in between (the log learns it from a 409).
    let last = "";
    for (const [a, b] of [
      [0, 10],
      [10, 25],
      [25, 40],
    ] as const) {
      await log.append(batches.slice(a, b));
      const note = await log.signCheckpoint();
      if (a === 25) knownSizes.delete("w2");
      const { note: cosigned, outcomes } = await cosignCheckpoint({
        note,
        size: log.size(),
        witnesses: endpoints,
        knownSizes,
        proofFrom: (m) => log.consistencyProof(m),
      });
      expect(
        outcomes.map((o) => o.ok),
        JSON.stringify(outcomes),
      ).to.deep.equal([true, true, true, true]);
      await log.publishCheckpoint(cosigned);
      last = cosigned;
    }
    expect(verifyCheckpointPolicy(last, policy)).to.deep.include({
      ok: true,
      cosigners: ["w1", "w2", "w3", "w4"],
    });

    // One witness down: 3 of 4 still meet the quorum; two down do not.
    await new Promise<void>((resolve) => servers[3]!.close(() => resolve()));
    await log.append([enc.encode("batch 41")]);
    const r3 = await cosignCheckpoint({
      note: await log.signCheckpoint(),
      size: log.size(),
      witnesses: endpoints,
      knownSizes,
      proofFrom: (m) => log.consistencyProof(m),
      timeoutMs: 2000,
    });
    expect(r3.outcomes.filter((o) => o.ok)).to.have.length(3);
    expect(verifyCheckpointPolicy(r3.note, policy).ok).to.equal(true);
    const two = r3.note
      .split("\n")
      .filter((l) => !l.startsWith("\u2014 auditor-3"))
      .join("\n");
    expect(verifyCheckpointPolicy(two, policy)).to.deep.include({ ok: false, code: "quorum" });
    await log.publishCheckpoint(r3.note);

    // The offline proof of batch 17: verified with the policy alone.
    const proof = log.tlogProof(16, log.size(), r3.note);
    const verdict = verifyTlogProof(proof, hashLeaf(batches[16]!), policy);
    expect(verdict.status, JSON.stringify(verdict.checks)).to.equal("verified");
    expect(verifyTlogProof(proof, hashLeaf(batches[15]!), policy).status).to.equal("failed");

    // A monitor reads the served tiles and checks the served checkpoint extends the first one.
    const app = express();
    app.use("/log", createLogRouter({ dir: log.dir }));
    const { server, url } = await listen(app);
    servers.push(server);
    const cpRes = await fetch(`${url}/log/checkpoint`);
    expect(cpRes.headers.get("content-type")).to.equal("text/plain; charset=utf-8");
    const served = await cpRes.text();
    expect(served).to.equal(r3.note);
    const tile = await fetch(`${url}/log/tile/0/000.p/41`);
    expect(tile.status).to.equal(200);
    expect(tile.headers.get("content-type")).to.equal("application/octet-stream");
    expect(tile.headers.get("cache-control")).to.match(/immutable/);
    const bytes = new Uint8Array(await tile.arrayBuffer());
    expect(bytes).to.have.length(41 * 32);
    expect(bytes.subarray(16 * 32, 17 * 32)).to.deep.equal(hashLeaf(batches[16]!));
    const entries = new Uint8Array(
      await (await fetch(`${url}/log/tile/entries/000.p/10`)).arrayBuffer(),
    );
    expect((entries[0]! << 8) | entries[1]!).to.equal(batches[0]!.length);
    for (const bad of [
      "tile/0/0",
      "tile/0/000.p/256",
      "tile/0/../state.json",
      "tile/9/000",
      "state.json",
    ]) {
      expect((await fetch(`${url}/log/${bad}`)).status, bad).to.equal(404);
    }
    const cp = parseCheckpoint(served.slice(0, served.indexOf("\n\n") + 1));
    expect(
      verifyConsistency(10, cp.size, log.consistencyProof(10), log.rootHash(10), cp.rootHash).ok,
    ).to.equal(true);
  });
});

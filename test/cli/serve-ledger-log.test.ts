/**
 * Issue #16, wired: `shafaf serve` with a ledger log keeps the log in step with the anchored
 * batches the indexer sees, has two witnesses cosign each checkpoint over HTTP, and serves
 * /log/checkpoint and /log/tile/… — on a real development chain, real LevelDB, real servers.
 */
import { expect } from "chai";
import { spawn, spawnSync } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startServeStack, type ServeStack } from "../../src/cli/serve-stack.ts";
import { startDevChain, type DevChain } from "../../src/chain/dev-chain.ts";
import { newNoteKeystore } from "../../src/chain/note-keystore.ts";
import { parseLedgerLogEntry } from "../../src/core/ledger-log-entry.ts";
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
import { parseTrustPolicy, verifyCheckpointPolicy } from "../../src/core/tlog-policy.ts";
import { verifyTlogProof } from "../../src/core/tlog-proof.ts";
import { openTiledLog } from "../../src/log/tiled-log.ts";
import type { WitnessEndpoint } from "../../src/log/witness-client.ts";
import { openIndexStore } from "../../src/store/index-store.ts";
import { openLedgerStore } from "../../src/store/ledger-store.ts";
import { createWitness } from "../../src/witness/witness.ts";
import { createWitnessApp } from "../../src/witness/witness-app.ts";
import { openWitnessStore, type WitnessStore } from "../../src/witness/witness-store.ts";
import { anchor, deployFixture } from "../indexer/ledger-fixture.ts";

const ORIGIN = "sso.example/ledger-log";
const logSeed = new Uint8Array(32).fill(31);

describe("shafaf serve with a witnessed ledger log", function () {
  this.timeout(120_000);
  let chain: DevChain;
  let work: string;
  const servers: Server[] = [];
  const stores: WitnessStore[] = [];
  before(async function () {
    chain = await startDevChain();
    work = await mkdtemp(path.join(os.tmpdir(), "shafaf-serve-log-"));
  });
  after(async function () {
    for (const s of servers) await new Promise<void>((resolve) => s.close(() => resolve()));
    for (const s of stores) await s.close();
    await chain?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it("logs each anchored batch, has it cosigned, and serves the checkpoint and tiles that prove it", async function () {
    const f = await deployFixture(chain.url);
    const first = await anchor(f, { recordCount: 5, total: 1_000n });
    await anchor(f, { kind: 1, recordCount: 7, total: 2_000n });

    const logVkey = formatVerifierKey(ORIGIN, SIG_TYPE_ED25519, ed25519PublicKey(logSeed));
    const witnesses: WitnessEndpoint[] = [];
    const policyLines = [`log ${logVkey}`];
    for (let i = 1; i <= 2; i++) {
      const seed = new Uint8Array(32).fill(70 + i);
      const name = `auditor-${i}.example/witness`;
      const store = await openWitnessStore(path.join(work, `witness-${i}`));
      stores.push(store);
      const witness = createWitness({
        cosigner: cosignatureV1Signer(name, seed),
        logs: [noteVerifier(logVkey)],
        store,
      });
      const server = createServer(createWitnessApp({ witness }));
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      servers.push(server);
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const vkey = formatVerifierKey(name, SIG_TYPE_COSIGNATURE_V1, ed25519PublicKey(seed));
      witnesses.push({ name: `w${i}`, url, verifier: noteVerifier(vkey) });
      policyLines.push(`witness w${i} ${vkey} ${url}`);
    }
    const policy = parseTrustPolicy(
      [...policyLines, "group all 2 w1 w2", "quorum all", ""].join("\n"),
    );

    const log = await openTiledLog({
      dir: path.join(work, "log"),
      origin: ORIGIN,
      signer: ed25519NoteSigner(ORIGIN, logSeed),
    });
    const events: string[] = [];
    const quiet = {
      info: (event: string) => events.push(`info ${event}`),
      warn: (event: string) => events.push(`warn ${event}`),
      error: (event: string, fields?: Record<string, unknown>) =>
        events.push(`error ${event} ${JSON.stringify(fields)}`),
      line: () => undefined,
    };
    let stack: ServeStack | undefined;
    try {
      stack = await startServeStack({
        rpcUrls: [chain.url],
        contract: f.address,
        host: "127.0.0.1",
        port: 0,
        dataDir: work,
        confirmations: 0,
        index: await openIndexStore(path.join(work, "index")),
        ledger: await openLedgerStore(work),
        apiKeys: [],
        rateLimit: false,
        trustProxy: 0,
        log: quiet,
        ledgerLog: { log, witnesses },
      });
      const url = stack.url;
      expect((await fetch(`${url}/log/checkpoint`)).status).to.equal(404); // nothing logged yet
      const following = stack.follow();
      const until = async (size: number) => {
        const deadline = Date.now() + 20_000;
        while ((stack!.ledgerLog!.last?.size ?? 0) < size) {
          if (Date.now() > deadline) throw new Error(`log not at ${size}: ${events.join("; ")}`);
          await new Promise((r) => setTimeout(r, 50));
        }
        await stack!.ledgerLog!.idle();
      };
      await until(2);

      const cpRes = await fetch(`${url}/log/checkpoint`);
      expect(cpRes.status).to.equal(200);
      expect(cpRes.headers.get("cache-control")).to.equal("public, max-age=5");
      const note2 = await cpRes.text();
      const check2 = verifyCheckpointPolicy(note2, policy);
      expect(check2.ok, JSON.stringify(check2)).to.equal(true);
      expect(check2.ok && check2.checkpoint.size).to.equal(2);
      expect(check2.ok && [...check2.cosigners].sort()).to.deep.equal(["w1", "w2"]);

      // The served entry bundle holds the batches' summaries, in batch-id order.
      const bundleRes = await fetch(`${url}/log/tile/entries/000.p/2`);
      expect(bundleRes.status).to.equal(200);
      expect(bundleRes.headers.get("cache-control")).to.match(/immutable/);
      const bundle = new Uint8Array(await bundleRes.arrayBuffer());
      const len = (bundle[0]! << 8) | bundle[1]!;
      const entry0 = parseLedgerLogEntry(bundle.subarray(2, 2 + len));
      expect(entry0).to.include({
        batchId: 1,
        chainId: 31337,
        contract: f.address.toLowerCase(),
        kind: "premium",
        recordCount: 5,
        total: "1000",
        scheme: "shafaf-tree/1",
        txHash: first.hash.toLowerCase(),
      });
      expect(parseLedgerLogEntry(log.entry(1))).to.include({ batchId: 2, kind: "pension" });
      const tile = new Uint8Array(await (await fetch(`${url}/log/tile/0/000.p/2`)).arrayBuffer());
      expect(tile.subarray(0, 32)).to.deep.equal(hashLeaf(log.entry(0)));

      // A third batch: logged, cosigned, consistent with the first checkpoint.
      await anchor(f, { recordCount: 1, total: 5n, supersedes: 1 });
      await until(3);
      const note3 = await (await fetch(`${url}/log/checkpoint`)).text();
      const check3 = verifyCheckpointPolicy(note3, policy);
      expect(check3.ok && check3.checkpoint.size).to.equal(3);
      expect(parseLedgerLogEntry(log.entry(2))).to.include({ batchId: 3, supersedes: 1 });
      const consistent = verifyConsistency(
        2,
        3,
        log.consistencyProof(2, 3),
        check2.ok ? check2.checkpoint.rootHash : new Uint8Array(32),
        check3.ok ? check3.checkpoint.rootHash : new Uint8Array(32),
      );
      expect(consistent.ok).to.equal(true);

      // An offline proof that batch 2 is in the witnessed log.
      const proof = log.tlogProof(1, 3, note3);
      expect(verifyTlogProof(proof, hashLeaf(log.entry(1)), policy).status).to.equal("verified");
      expect(verifyTlogProof(proof, hashLeaf(log.entry(0)), policy).status).to.equal("failed");

      expect(events.filter((e) => e.startsWith("error"))).to.deep.equal([]);
      await stack.close();
      await following;
    } finally {
      await stack?.close();
    }
  });
  it("`shafaf serve --log-key --log-policy` serves the cosigned log, and refuses a policy for another log key", async function () {
    const f = await deployFixture(chain.url);
    await anchor(f);
    await anchor(f);
    const dir = await mkdtemp(path.join(work, "cli-"));
    const password = "correct horse battery";
    const env = { ...process.env, SHAFAF_KEYSTORE_PASSWORD: password };
    const bin = path.resolve(import.meta.dirname, "../../bin/shafaf.js");
    const logKey = await newNoteKeystore({ name: ORIGIN, role: "log", password });
    await writeFile(path.join(dir, "log-key.json"), logKey.json);
    const wSeed = new Uint8Array(32).fill(90);
    const wName = "auditor-9.example/witness";
    const store = await openWitnessStore(path.join(dir, "witness"));
    stores.push(store);
    const server = createServer(
      createWitnessApp({
        witness: createWitness({
          cosigner: cosignatureV1Signer(wName, wSeed),
          logs: [noteVerifier(logKey.vkey)],
          store,
        }),
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    servers.push(server);
    const wVkey = formatVerifierKey(wName, SIG_TYPE_COSIGNATURE_V1, ed25519PublicKey(wSeed));
    const wUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const policyText = `log ${logKey.vkey}\nwitness w9 ${wVkey} ${wUrl}\nquorum w9\n`;
    await writeFile(path.join(dir, "policy.txt"), policyText);
    const otherVkey = formatVerifierKey(ORIGIN, SIG_TYPE_ED25519, ed25519PublicKey(logSeed));
    await writeFile(path.join(dir, "other.txt"), `log ${otherVkey}\nquorum none\n`);
    const args = (policy: string) => [
      bin,
      "serve",
      "--rpc",
      chain.url,
      "--contract",
      f.address,
      "--port",
      "0",
      "--data-dir",
      "data",
      "--log-key",
      "log-key.json",
      "--log-policy",
      policy,
    ];

    const refused = spawnSync(process.execPath, args("other.txt"), {
      cwd: dir,
      env,
      encoding: "utf8",
    });
    expect(refused.status).to.equal(64);
    expect(refused.stderr).to.include("names no `log " + logKey.vkey);

    const child = spawn(process.execPath, args("policy.txt"), { cwd: dir, env });
    let out = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    try {
      const deadline = Date.now() + 30_000;
      let checkpointUrl: string | undefined;
      let note = "";
      for (;;) {
        if (Date.now() > deadline) throw new Error(`no cosigned checkpoint of size 2:\n${out}`);
        checkpointUrl ??= /ledger log sso\.example\/ledger-log: (\S+) \(1 witnesses\)/.exec(
          out,
        )?.[1];
        if (checkpointUrl !== undefined) {
          const res = await fetch(checkpointUrl);
          note = res.status === 200 ? await res.text() : "";
          if (note.startsWith(`${ORIGIN}\n2\n`) && note.includes(wName)) break;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      const checked = verifyCheckpointPolicy(note, parseTrustPolicy(policyText));
      expect(checked.ok && checked.cosigners).to.deep.equal(["w9"]);
    } finally {
      child.kill("SIGINT");
    }
    expect(await exited).to.equal(0);

    // `shafaf log proof` on that log: a batch not logged yet, and a directory that is no log.
    const proof = (...extra: string[]) =>
      spawnSync(process.execPath, [bin, "log", "proof", ...extra], {
        cwd: dir,
        env,
        encoding: "utf8",
      });
    const ok = proof("--log-dir", "data/log", "--batch", "2");
    expect(ok.status, ok.stderr).to.equal(0);
    expect(ok.stdout).to.include("batch 2 is entry 1 of sso.example/ledger-log at size 2");
    const early = proof("--log-dir", "data/log", "--batch", "3");
    expect(early.status).to.equal(64);
    expect(early.stderr).to.include("batch 3 is not in the log's checkpoint yet (size 2)");
    const none = proof("--log-dir", "data", "--batch", "1");
    expect(none.status).to.equal(64);
    expect(none.stderr).to.include("has no checkpoint");
  });
});

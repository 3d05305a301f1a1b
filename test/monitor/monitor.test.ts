/**
 * `shafaf monitor` against real things: a tiled log built with the project's code and served over
 * HTTP by the project's log router on 127.0.0.1, four real witnesses (tlog-witness servers with
 * their own keys and LevelDB stores), a real Hardhat node with the deployed ledger, and the
 * command itself (in this process, and once as a child process for `/metrics`).
 */
import { spawn } from "node:child_process";
import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import express from "express";
import { expect } from "chai";
import { Contract, id } from "ethers";
import {
  cosignatureV1Signer,
  ed25519NoteSigner,
  ed25519PublicKey,
  formatVerifierKey,
  noteVerifier,
  SIG_TYPE_COSIGNATURE_V1,
  SIG_TYPE_ED25519,
} from "../../src/core/signed-note.ts";
import { LEDGER_ABI } from "../../src/core/ledger-abi.ts";
import { parseTrustPolicy } from "../../src/core/tlog-policy.ts";
import { startDevChain, type DevChain } from "../../src/chain/dev-chain.ts";
import { deployLedger } from "../../src/chain/deploy-ledger.ts";
import { connectProvider, devWallet } from "../../src/chain/signer.ts";
import { command } from "../../src/cli/commands/monitor.ts";
import { createLogRouter } from "../../src/log/log-routes.ts";
import { openTiledLog, type TiledLog } from "../../src/log/tiled-log.ts";
import { syncLedgerLog } from "../../src/log/sync-ledger-log.ts";
import type { LedgerLogBatch } from "../../src/core/ledger-log-entry.ts";
import { cosignCheckpoint, type WitnessEndpoint } from "../../src/log/witness-client.ts";
import { runMonitorRound, type RoundResult } from "../../src/monitor/monitor-round.ts";
import { emptyMonitorState, loadMonitorState } from "../../src/monitor/monitor-state.ts";
import { createWitness } from "../../src/witness/witness.ts";
import { createWitnessApp } from "../../src/witness/witness-app.ts";
import { openWitnessStore, type WitnessStore } from "../../src/witness/witness-store.ts";

const ORIGIN = "sso.example/ledger-log";
const logSeed = new Uint8Array(32).fill(21);
const logSigner = () => ed25519NoteSigner(ORIGIN, logSeed);
const logVkey = formatVerifierKey(ORIGIN, SIG_TYPE_ED25519, ed25519PublicKey(logSeed));
const enc = new TextEncoder();
const entry = (i: number, fork = "") => enc.encode(`batch ${i + 1}${fork}`);

async function listen(handler: RequestListener): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** `shafaf monitor …` in this process; stdout and stderr captured. */
async function monitor(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const write = {
    out: process.stdout.write.bind(process.stdout),
    err: process.stderr.write.bind(process.stderr),
  };
  process.stdout.write = (chunk: string | Uint8Array) => ((out += String(chunk)), true);
  process.stderr.write = (chunk: string | Uint8Array) => ((err += String(chunk)), true);
  try {
    const code = await command.run(argv);
    return { code, out, err };
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
}

const resultOf = (out: string) => JSON.parse(out.trim().split("\n").at(-1)) as RoundResult;
const kinds = (r: RoundResult) => [...new Set(r.alarms.map((a) => a.kind))].sort();

describe("shafaf monitor", function () {
  this.timeout(120_000);
  let dir: string;
  const servers: Server[] = [];
  const stores: WitnessStore[] = [];
  const witnesses: WitnessEndpoint[] = [];
  const knownSizes = new Map<string, number>();
  /** The honest log's published (cosigned) checkpoint at each size. */
  const published = new Map<number, string>();
  let honest: TiledLog;
  /** What the log server serves under /log; swapped by the tests. */
  let serving: express.Router;
  let logUrl: string;
  let policyFile: string;
  /** The same policy without witness URLs: the monitor then reads the log alone. */
  let logOnlyPolicyFile: string;
  /** The log key alone, no cosignature needed (the chain tests' logs are not witnessed). */
  let unwitnessedPolicyFile: string;

  async function buildLog(name: string, entries: Uint8Array[]): Promise<TiledLog> {
    const log = await openTiledLog({
      dir: path.join(dir, name),
      origin: ORIGIN,
      signer: logSigner(),
    });
    await log.append(entries);
    await log.signCheckpoint();
    return log;
  }

  /** Appends to the honest log and has `by` cosign the new checkpoint (all witnesses by default). */
  async function grow(entries: Uint8Array[], by = witnesses) {
    await honest.append(entries);
    const note = await honest.signCheckpoint();
    const size = honest.size();
    const r = await cosignCheckpoint({
      note,
      size,
      witnesses: by,
      knownSizes,
      proofFrom: (old) => honest.consistencyProof(old, size),
    });
    expect(
      r.outcomes.every((o) => o.ok),
      JSON.stringify(r.outcomes),
    ).to.equal(true);
    await honest.publishCheckpoint(r.note);
    published.set(size, r.note);
  }

  before(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), "shafaf-monitor-"));
    const policyLines = [`log ${logVkey}`];
    const logOnlyLines = [`log ${logVkey}`];
    for (let i = 1; i <= 4; i++) {
      const seed = new Uint8Array(32).fill(40 + i);
      const name = `auditor-${i}.example/witness`;
      const store = await openWitnessStore(path.join(dir, `w${i}`));
      stores.push(store);
      const witness = createWitness({
        cosigner: cosignatureV1Signer(name, seed),
        logs: [noteVerifier(logVkey)],
        store,
      });
      const { server, url } = await listen(createWitnessApp({ witness }));
      servers.push(server);
      const vkey = formatVerifierKey(name, SIG_TYPE_COSIGNATURE_V1, ed25519PublicKey(seed));
      witnesses.push({ name: `w${i}`, url, verifier: noteVerifier(vkey) });
      policyLines.push(`witness w${i} ${vkey} ${url}`);
      logOnlyLines.push(`witness w${i} ${vkey}`);
    }
    const tail = ["group auditors 3 w1 w2 w3 w4", "quorum auditors", ""];
    policyFile = path.join(dir, "policy.txt");
    await writeFile(policyFile, [...policyLines, ...tail].join("\n"));
    logOnlyPolicyFile = path.join(dir, "policy-log-only.txt");
    await writeFile(logOnlyPolicyFile, [...logOnlyLines, ...tail].join("\n"));
    unwitnessedPolicyFile = path.join(dir, "policy-unwitnessed.txt");
    await writeFile(unwitnessedPolicyFile, `log ${logVkey}\nquorum none\n`);

    honest = await openTiledLog({
      dir: path.join(dir, "honest"),
      origin: ORIGIN,
      signer: logSigner(),
    });
    await grow(Array.from({ length: 10 }, (_, i) => entry(i)));
    serving = createLogRouter({ dir: honest.dir });
    const app = express();
    app.use("/log", (req, res, next) => serving(req, res, next));
    const { server, url } = await listen(app);
    servers.push(server);
    logUrl = `${url}/log`;
  });

  after(async function () {
    for (const s of servers) await new Promise<void>((resolve) => s.close(() => resolve()));
    for (const s of stores) await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("a healthy round: every signature verifies, every witness is consistent with the log, exit 0", async function () {
    const state = path.join(dir, "healthy.json");
    const r = await monitor(
      "--policy",
      policyFile,
      "--log",
      logUrl,
      "--state",
      state,
      "--once",
      "--json",
    );
    expect(r.err).to.equal("");
    expect(r.code).to.equal(0);
    const result = resultOf(r.out);
    expect(result.status).to.equal("healthy");
    expect(result.latest[ORIGIN]!.size).to.equal(10);
    expect(result.sources.map((s) => [s.source, s.ok, s.size])).to.deep.equal([
      [`log ${logUrl}`, true, 10],
      ["witness w1", true, 10],
      ["witness w2", true, 10],
      ["witness w3", true, 10],
      ["witness w4", true, 10],
    ]);
    expect(result.sources[0]!.cosigners).to.deep.equal(["w1", "w2", "w3", "w4"]);
    // Human output: one summary line, no alarm.
    const plain = await monitor(
      "--policy",
      policyFile,
      "--log",
      logUrl,
      "--state",
      state,
      "--once",
    );
    expect(plain.code).to.equal(0);
    expect(plain.out).to.match(
      /healthy: sso\.example\/ledger-log consistent at size 10; 1\/1 log\(s\), 4\/4 witness\(es\) read; 0 alarm\(s\)\n$/,
    );
  });

  it("takes the log and witness URLs from the policy unless told otherwise, and says what is wrong with a command line", async function () {
    // The policy's `log <vkey> <url>` names the log prefix; --witness NAME=URL moves a witness
    // (here w2, whose policy URL is a closed port).
    const withUrl = path.join(dir, "policy-with-log-url.txt");
    const text = await readFile(policyFile, "utf8");
    await writeFile(
      withUrl,
      text
        .replace(`log ${logVkey}`, `log ${logVkey} ${logUrl}`)
        .replace(witnesses[1]!.url, "http://127.0.0.1:1"),
    );
    const moved = await monitor(
      "--policy",
      withUrl,
      "--state",
      path.join(dir, "moved.json"),
      "--once",
    );
    expect(moved.code).to.equal(2);
    expect(moved.err).to.match(/UNCHECKED witness w2: GET http:\/\/127\.0\.0\.1:1\//);
    const state = path.join(dir, "urls.json");
    const r = await monitor(
      "--policy",
      withUrl,
      "--state",
      state,
      "--once",
      "--json",
      "--witness",
      `w2=${witnesses[1]!.url}/`,
    );
    expect(r.code, r.err).to.equal(0);
    expect(resultOf(r.out).sources.map((s) => s.source)).to.deep.equal([
      `log ${logUrl}`,
      "witness w1",
      "witness w2",
      "witness w3",
      "witness w4",
    ]);

    const usage = async (...argv: string[]) => {
      const u = await monitor(...argv);
      expect(u.code, u.err).to.equal(64);
      expect(u.err).to.contain("usage: shafaf monitor");
      return u.err.split("\n")[0];
    };
    expect(await usage("--once")).to.equal("shafaf monitor: --policy FILE is required");
    expect(await usage("--policy", policyFile, "--once")).to.match(/give --log URL/);
    expect(await usage("--policy", policyFile, "--log", "ftp://x/log")).to.match(
      /is not an http\(s\) URL/,
    );
    expect(
      await usage("--policy", policyFile, "--log", logUrl, "--witness", "w9=http://127.0.0.1:1"),
    ).to.match(/NAME a witness of the policy \(w1, w2, w3, w4\)/);
    expect(
      await usage("--policy", policyFile, "--log", logUrl, "--rpc", "http://127.0.0.1:1"),
    ).to.equal("shafaf monitor: --rpc URL and --contract ADDR go together");
    // A state file that is not the monitor's is refused, not overwritten (65).
    const foreign = path.join(dir, "foreign.json");
    await writeFile(foreign, "{}\n");
    const bad = await monitor(
      "--policy",
      policyFile,
      "--log",
      logUrl,
      "--state",
      foreign,
      "--once",
    );
    expect(bad.code).to.equal(65);
    expect(bad.err).to.match(/foreign\.json is not a shafaf-monitor-state\/1 state file/);
    expect(await readFile(foreign, "utf8")).to.equal("{}\n");
  });

  it("says 'could not check' (exit 2, no alarm) when a source does not answer, and raises signature for a checkpoint under another key", async function () {
    const { server, url } = await listen((_req, res) => res.end());
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const down = await monitor(
      "--policy",
      logOnlyPolicyFile,
      "--log",
      `${url}/log`,
      "--state",
      path.join(dir, "down.json"),
      "--once",
      "--json",
    );
    expect(down.code).to.equal(2);
    const result = resultOf(down.out);
    expect(result.status).to.equal("unchecked");
    expect(result.alarms).to.deep.equal([]);
    expect(down.err).to.match(/UNCHECKED log http:\/\/127\.0\.0\.1:\d+\/log: GET /);

    // Same origin, another key: not the policy's log.
    const impostor = await openTiledLog({
      dir: path.join(dir, "impostor"),
      origin: ORIGIN,
      signer: ed25519NoteSigner(ORIGIN, new Uint8Array(32).fill(99)),
    });
    await impostor.append([entry(0)]);
    await impostor.signCheckpoint();
    serving = createLogRouter({ dir: impostor.dir });
    try {
      const r = await monitor(
        "--policy",
        logOnlyPolicyFile,
        "--log",
        logUrl,
        "--state",
        path.join(dir, "impostor.json"),
        "--once",
        "--json",
      );
      expect(r.code).to.equal(1);
      expect(kinds(resultOf(r.out))).to.deep.equal(["signature"]);
    } finally {
      serving = createLogRouter({ dir: honest.dir });
    }
  });

  it("raises the split-view alarm when the server is swapped to a forked log (same origin and key, another entry at an old index, re-signed)", async function () {
    const state = path.join(dir, "fork.json");
    expect(
      (await monitor("--policy", policyFile, "--log", logUrl, "--state", state, "--once")).code,
    ).to.equal(0);

    // Same size, entry 3 replaced: the witnesses (and the state) hold another root for size 10.
    const sameSize = await buildLog(
      "fork-10",
      Array.from({ length: 10 }, (_, i) => entry(i, i === 3 ? " forked" : "")),
    );
    serving = createLogRouter({ dir: sameSize.dir });
    try {
      const fresh = await monitor(
        "--policy",
        policyFile,
        "--log",
        logUrl,
        "--state",
        path.join(dir, "fork-fresh.json"),
        "--once",
        "--json",
      );
      expect(fresh.code).to.equal(1);
      const fr = resultOf(fresh.out);
      // Even with no memory, the witnesses' checkpoints give the fork away.
      expect(kinds(fr)).to.include("split-view");
      expect(
        fr.alarms.filter((a) => a.kind === "split-view").map((a) => a.source),
      ).to.include.members(["witness w1", "witness w2", "witness w3", "witness w4"]);
      expect(fresh.err).to.match(/ALARM split-view witness w1: checkpoint of size 10 has root /);
      // The forked checkpoint carries no cosignature (no witness would give one): quorum too.
      expect(kinds(fr)).to.include("quorum");

      // Longer fork (12 entries, entry 3 different): the consistency proof from the tiles fails.
      const longer = await buildLog(
        "fork-12",
        Array.from({ length: 12 }, (_, i) => entry(i, i === 3 ? " forked" : "")),
      );
      serving = createLogRouter({ dir: longer.dir });
      const r = await monitor(
        "--policy",
        logOnlyPolicyFile,
        "--log",
        logUrl,
        "--state",
        state,
        "--once",
        "--json",
      );
      expect(r.code).to.equal(1);
      const result = resultOf(r.out);
      const split = result.alarms.filter((a) => a.kind === "split-view");
      expect(split).to.have.length(1);
      expect(split[0]!.message).to.match(
        /checkpoint of size 10 is not consistent with log .* at size 12 \(root-mismatch\)/,
      );
      expect(split[0]!.source).to.match(/^state \(last consistent/);
      // The state still holds the last consistent checkpoint, not the fork.
      expect((await loadMonitorState(state)).origins[ORIGIN]!.size).to.equal(10);
      const again = await monitor(
        "--policy",
        logOnlyPolicyFile,
        "--log",
        logUrl,
        "--state",
        state,
        "--once",
        "--json",
      );
      expect(kinds(resultOf(again.out))).to.include("split-view");

      // A mirror with the honest checkpoint but one altered hash tile: its tiles give it away.
      const tampered = path.join(dir, "tampered");
      await cp(honest.dir, tampered, { recursive: true });
      const tile = path.join(tampered, "tile/0/000.p/10");
      const bytes = await readFile(tile);
      bytes[100] = bytes[100]! ^ 1;
      await writeFile(tile, bytes);
      serving = createLogRouter({ dir: tampered });
      const t = await monitor(
        "--policy",
        policyFile,
        "--log",
        logUrl,
        "--state",
        path.join(dir, "tampered.json"),
        "--once",
        "--json",
      );
      expect(t.code).to.equal(1);
      expect(resultOf(t.out).alarms).to.deep.equal([
        {
          kind: "split-view",
          source: `log ${logUrl}`,
          message: "its tiles hash to another root than its signed checkpoint of size 10",
        },
      ]);
    } finally {
      serving = createLogRouter({ dir: honest.dir });
    }
  });

  it("a restarted monitor still detects a rollback from its state file", async function () {
    await grow([entry(10), entry(11)]);
    const state = path.join(dir, "rollback.json");
    const first = await monitor(
      "--policy",
      logOnlyPolicyFile,
      "--log",
      logUrl,
      "--state",
      state,
      "--once",
      "--json",
    );
    expect(first.code, first.err).to.equal(0);
    expect(resultOf(first.out).latest[ORIGIN]!.size).to.equal(12);

    // The server goes back to an older, validly cosigned checkpoint of the same log (size 10).
    const old = await buildLog(
      "old-10",
      Array.from({ length: 10 }, (_, i) => entry(i)),
    );
    await old.publishCheckpoint(published.get(10)!);
    serving = createLogRouter({ dir: old.dir });
    try {
      // Without memory, size 10 looks fine …
      const fresh = await monitor(
        "--policy",
        logOnlyPolicyFile,
        "--log",
        logUrl,
        "--state",
        path.join(dir, "rollback-fresh.json"),
        "--once",
        "--json",
      );
      expect(kinds(resultOf(fresh.out))).to.not.include("rollback");
      // … the restarted monitor (a new run, the same state file) remembers size 12.
      const r = await monitor(
        "--policy",
        logOnlyPolicyFile,
        "--log",
        logUrl,
        "--state",
        state,
        "--once",
        "--json",
      );
      expect(r.code).to.equal(1);
      const result = resultOf(r.out);
      expect(kinds(result), JSON.stringify(result.alarms)).to.deep.equal(["rollback"]);
      expect(result.alarms[0]!.message).to.match(
        /serves sso\.example\/ledger-log at size 10 after serving size 12/,
      );
      expect(r.err).to.match(/^\S+ ALARM rollback log http:\/\/127\.0\.0\.1:\d+\/log: /m);
    } finally {
      serving = createLogRouter({ dir: honest.dir });
    }
  });

  it("raises the stale-witness alarm for a witness behind the log, by entries or by age", async function () {
    // w4 misses the next two checkpoints (it is down); the others cosign them.
    await grow([entry(12)], witnesses.slice(0, 3));
    await grow([entry(13)], witnesses.slice(0, 3));
    const state = path.join(dir, "stale.json");
    const r = await monitor(
      "--policy",
      policyFile,
      "--log",
      logUrl,
      "--state",
      state,
      "--once",
      "--json",
    );
    expect(r.code).to.equal(1);
    const result = resultOf(r.out);
    expect(result.alarms.map((a) => [a.kind, a.source])).to.deep.equal([
      ["stale-witness", "witness w4"],
    ]);
    expect(result.alarms[0]!.message).to.match(
      /up to size 12, 2 entries behind the log \(size 14; at most 1 allowed\)/,
    );
    // Allowed 2 behind, it is stale only once its last cosignature is older than the age limit.
    const lenient = await monitor(
      "--policy",
      policyFile,
      "--log",
      logUrl,
      "--state",
      state,
      "--once",
      "--json",
      "--witness-max-lag",
      "2",
    );
    expect(lenient.code, lenient.err).to.equal(0);
    const policy = parseTrustPolicy(await readFile(policyFile, "utf8"));
    const options = {
      policy,
      logs: [logUrl],
      witnesses: witnesses.map((w) => ({ name: w.name, url: w.url })),
      maxWitnessLag: 2,
      maxWitnessAgeSeconds: 3600,
    };
    const later = await runMonitorRound(
      { ...options, now: () => Math.floor(Date.now() / 1000) + 7200 },
      await loadMonitorState(state),
    );
    expect(later.alarms.map((a) => [a.kind, a.source])).to.deep.equal([
      ["stale-witness", "witness w4"],
    ]);
    expect(later.alarms[0]!.message).to.match(
      /behind the log .* latest cosignature is \d+ s old \(at most 3600 s allowed\)/,
    );
    const ages = later.sources.filter((s) => s.type === "witness").map((s) => s.ageSeconds!);
    expect(Math.min(...ages)).to.be.at.least(7200);
  });

  describe("with the chain (a real Hardhat node)", function () {
    let chain: DevChain;
    let ledger: string;
    let shortLogUrl: string;
    /** The chain's 3 batches as log batches (docs/spec/log-entry-v1.md). */
    const batches: LedgerLogBatch[] = [];

    /** Serves a log derived from `logBatches` with the project's syncLedgerLog; returns its prefix. */
    async function serveLedgerLog(name: string, logBatches: LedgerLogBatch[]): Promise<string> {
      const log = await openTiledLog({
        dir: path.join(dir, name),
        origin: ORIGIN,
        signer: logSigner(),
      });
      await syncLedgerLog({ log, batches: logBatches });
      const app = express();
      app.use("/log", createLogRouter({ dir: log.dir }));
      const { server, url } = await listen(app);
      servers.push(server);
      return `${url}/log`;
    }

    before(async function () {
      chain = await startDevChain();
      const provider = connectProvider(chain.url, 31337);
      try {
        const admin = devWallet(0).connect(provider);
        ledger = (
          await deployLedger({
            signer: admin,
            admin: admin.address,
            adminDelaySeconds: 0,
            anchorers: [admin.address],
          })
        ).address;
        const contract = new Contract(ledger, LEDGER_ABI, admin);
        for (let i = 1; i <= 3; i++) {
          const tx = (await contract.getFunction("anchorBatch")(
            id(`root ${i}`),
            0,
            140300 + i,
            1,
            1000,
            id(`manifest ${i}`),
            0,
            id(`key ${i}`),
          )) as { wait(): Promise<{ hash: string }> };
          const receipt = await tx.wait();
          batches.push({
            chainId: 31337,
            contract: ledger,
            batchId: i,
            scheme: "shafaf-tree/1",
            kind: "premium",
            period: `1403-0${i}`,
            root: id(`root ${i}`),
            manifestHash: id(`manifest ${i}`),
            idempotencyKey: id(`key ${i}`),
            recordCount: 1,
            total: "1000",
            supersedes: null,
            txHash: receipt.hash,
          });
        }
      } finally {
        provider.destroy();
      }
      // A log derived from the chain that logged only 2 of the 3 anchored batches.
      shortLogUrl = await serveLedgerLog("short", batches.slice(0, 2));
    });

    after(async function () {
      await chain?.stop();
    });

    it("raises stale-log when the chain has more batches than the log, chain-mismatch when the log has more", async function () {
      const state = path.join(dir, "chain.json");
      const args = [
        "--policy",
        unwitnessedPolicyFile,
        "--rpc",
        chain.url,
        "--contract",
        ledger,
        "--once",
        "--json",
      ];
      const r = await monitor(
        ...args,
        "--log",
        shortLogUrl,
        "--state",
        state,
        "--stale-log-after",
        "0",
      );
      expect(r.code).to.equal(1);
      const result = resultOf(r.out);
      expect(result.chain!.batchCount).to.equal(3);
      // The deployment's role grants are history: only changes after the monitor starts count.
      expect(kinds(result)).to.deep.equal(["stale-log"]);
      expect(result.alarms[0]!.message).to.match(
        /the ledger has 3 batches at block \d+; the log has stayed at 2 entries for \d+ s/,
      );
      // With the default grace (600 s) a log just behind is not yet stale.
      const graced = await monitor(
        ...args,
        "--log",
        shortLogUrl,
        "--state",
        path.join(dir, "chain-graced.json"),
      );
      expect(graced.code, graced.err).to.equal(0);
      // The honest test log (14 entries) is ahead of this chain's 3 batches.
      const ahead = await monitor(
        ...args,
        "--log",
        logUrl,
        "--state",
        path.join(dir, "chain-ahead.json"),
      );
      expect(kinds(resultOf(ahead.out))).to.deep.equal(["chain-mismatch"]);
    });

    it("compares the log's entries with the ledger's batches: a logged batch the chain does not hold is chain-mismatch", async function () {
      const args = [
        "--policy",
        unwitnessedPolicyFile,
        "--rpc",
        chain.url,
        "--contract",
        ledger,
        "--once",
        "--json",
      ];
      const whole = await serveLedgerLog("whole", batches);
      const ok = await monitor(
        ...args,
        "--log",
        whole,
        "--state",
        path.join(dir, "entries-ok.json"),
      );
      expect(ok.code, ok.err).to.equal(0);
      const state = await loadMonitorState(path.join(dir, "entries-ok.json"));
      expect(state.chain!.entriesChecked).to.deep.equal({ [ORIGIN]: 3 });

      // Same count, but batch 2's entry names another manifest.
      const lying = await serveLedgerLog("lying", [
        batches[0]!,
        { ...batches[1]!, manifestHash: id("another manifest") },
        batches[2]!,
      ]);
      const r = await monitor(
        ...args,
        "--log",
        lying,
        "--state",
        path.join(dir, "entries-lying.json"),
      );
      expect(r.code).to.equal(1);
      const result = resultOf(r.out);
      expect(result.alarms).to.deep.equal([
        {
          kind: "chain-mismatch",
          source: `log ${lying}`,
          message: `entry 1 (batch 2): the log says manifestHash "${id("another manifest")}", the ledger "${id("manifest 2")}"`,
        },
      ]);
      // Entry 0 was found equal; the check resumes at entry 1 next round.
      expect(
        (await loadMonitorState(path.join(dir, "entries-lying.json"))).chain!.entriesChecked,
      ).to.deep.equal({ [ORIGIN]: 1 });

      // The right tiles and checkpoint, but an entry bundle that says another period for batch 2.
      const altered = path.join(dir, "whole-altered");
      await cp(path.join(dir, "whole"), altered, { recursive: true });
      const bundleFile = path.join(altered, "tile/entries/000.p/3");
      const bundle = await readFile(bundleFile, "latin1");
      await writeFile(
        bundleFile,
        bundle.replace('"period":"1403-02"', '"period":"1403-12"'),
        "latin1",
      );
      const app = express();
      app.use("/log", createLogRouter({ dir: altered }));
      const { server, url } = await listen(app);
      servers.push(server);
      const a = await monitor(
        ...args,
        "--log",
        `${url}/log`,
        "--state",
        path.join(dir, "entries-altered.json"),
      );
      expect(a.code).to.equal(1);
      expect(resultOf(a.out).alarms).to.deep.equal([
        {
          kind: "split-view",
          source: `log ${url}/log`,
          message: "entry 1 does not hash to leaf 1 of its tiles",
        },
      ]);
    });

    it("raises role-change for a RoleGranted event since the last round", async function () {
      const state = path.join(dir, "roles.json");
      const args = [
        "--policy",
        unwitnessedPolicyFile,
        "--rpc",
        chain.url,
        "--contract",
        ledger,
        "--log",
        shortLogUrl,
        "--state",
        state,
        "--once",
        "--json",
      ];
      expect((await monitor(...args)).code).to.equal(0);
      const provider = connectProvider(chain.url, 31337);
      const auditor = devWallet(7).address;
      try {
        const contract = new Contract(ledger, LEDGER_ABI, devWallet(0).connect(provider));
        const tx = (await contract.getFunction("grantRole")(id("AUDITOR_ROLE"), auditor)) as {
          wait(): Promise<unknown>;
        };
        await tx.wait();
      } finally {
        provider.destroy();
      }
      const r = await monitor(...args);
      expect(r.code).to.equal(1);
      const result = resultOf(r.out);
      expect(kinds(result)).to.deep.equal(["role-change"]);
      expect(result.alarms[0]!.message).to.equal(
        `RoleGranted AUDITOR_ROLE to ${auditor.toLowerCase()} by ${devWallet(0).address.toLowerCase()} at block ${result.chain!.block}`,
      );
      // Seen once: the next round is quiet again.
      expect((await monitor(...args)).code).to.equal(0);
    });
  });

  it("serves /metrics while it runs: sizes per source, witness ages, last check time, alarms by kind", async function () {
    const bin = path.resolve(import.meta.dirname, "../../bin/shafaf.js");
    const child = spawn(
      process.execPath,
      [
        bin,
        "monitor",
        "--policy",
        policyFile,
        "--log",
        logUrl,
        "--state",
        path.join(dir, "metrics.json"),
        "--interval",
        "1",
        "--metrics-port",
        "0",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.once("exit", (code) => resolve(code)),
    );
    try {
      const metricsUrl = await new Promise<string>((resolve, reject) => {
        const timer = setInterval(() => {
          const m = /metrics on (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(out);
          if (m !== null && /ALARM|healthy/.test(out)) {
            clearInterval(timer);
            resolve(m[1]!);
          }
        }, 100);
        void exited.then(() => {
          clearInterval(timer);
          reject(new Error(`the monitor exited:\n${out}`));
        });
      });
      const res = await fetch(metricsUrl);
      expect(res.status).to.equal(200);
      expect(res.headers.get("content-type")).to.match(/^text\/plain; version=0\.0\.4/);
      const text = await res.text();
      expect(text).to.contain(
        `shafaf_monitor_checkpoint_size{source="log ${logUrl}",origin="${ORIGIN}"} 14`,
      );
      expect(text).to.contain(
        `shafaf_monitor_checkpoint_size{source="witness w4",origin="${ORIGIN}"} 12`,
      );
      expect(text).to.match(
        /shafaf_monitor_witness_age_seconds\{source="witness w1",origin="sso\.example\/ledger-log"\} \d+/,
      );
      expect(text).to.match(/shafaf_monitor_last_check_timestamp_seconds \d{10}/);
      expect(text).to.match(/shafaf_monitor_alarms_total\{kind="stale-witness"\} [1-9]/);
      expect(text).to.contain('shafaf_monitor_alarms_total{kind="split-view"} 0');
      expect(text).to.contain(`shafaf_monitor_source_up{source="witness w2"} 1`);
      expect((await fetch(metricsUrl.replace("/metrics", "/other"))).status).to.equal(404);
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).to.equal(0);
  });

  it("reads a checkpoint without quorum once more before the alarm: the log publishes its own signature a moment before the cosignatures", async function () {
    await honest.append([entry(14)]);
    const note = await honest.signCheckpoint(); // served now, with the log's signature only
    const size = honest.size();
    const policy = parseTrustPolicy(await readFile(logOnlyPolicyFile, "utf8"));
    const options = { policy, logs: [logUrl], witnesses: [], quorumRetryMs: 1000 };
    const cosigning = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const r = await cosignCheckpoint({
        note,
        size,
        witnesses,
        knownSizes,
        proofFrom: (old) => honest.consistencyProof(old, size),
      });
      await honest.publishCheckpoint(r.note);
    })();
    const r = await runMonitorRound(options, emptyMonitorState());
    await cosigning;
    expect(r.status, JSON.stringify(r.alarms)).to.equal("healthy");
    expect(r.sources[0]!.cosigners).to.deep.equal(["w1", "w2", "w3", "w4"]);
    // Without the second look, the same moment is a quorum alarm.
    await honest.append([entry(15)]);
    await honest.signCheckpoint();
    const hasty = await runMonitorRound({ ...options, quorumRetryMs: 0 }, emptyMonitorState());
    expect(kinds(hasty)).to.deep.equal(["quorum"]);
  });
});

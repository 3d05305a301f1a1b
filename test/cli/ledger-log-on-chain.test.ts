/**
 * Issue #16 items 1 and 3 on chain, wired: the process that holds the ledger log records each
 * new checkpoint on the ledger (LOG_ROLE), which checks the consistency proof itself; a log that
 * disagrees with the recorded tree is a split view, refused before any transaction;
 * `shafaf log verify --log-dir` compares the two; the trust policy's SHA-256 is recorded by the
 * admin (`shafaf log policy --set`) or by governance (`shafaf roles propose --trust-policy`) and
 * compared (`shafaf log policy FILE --rpc … --contract …`). Real dev chain, LevelDB and servers.
 */
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { Contract, hexlify, id } from "ethers";
import { deployLedger } from "../../src/chain/deploy-ledger.ts";
import { startDevChain, type DevChain } from "../../src/chain/dev-chain.ts";
import { deployGovernance } from "../../src/chain/governance.ts";
import { connectProvider, devWallet } from "../../src/chain/signer.ts";
import { command as logCommand } from "../../src/cli/commands/log.ts";
import { command as rolesCommand } from "../../src/cli/commands/roles.ts";
import type { CliCommand } from "../../src/cli/command.ts";
import { logCheckpointRecorder } from "../../src/cli/ledger-log-follower.ts";
import { startServeStack, type ServeStack } from "../../src/cli/serve-stack.ts";
import { LEDGER_ABI } from "../../src/core/ledger-abi.ts";
import {
  ed25519NoteSigner,
  ed25519PublicKey,
  formatVerifierKey,
  SIG_TYPE_ED25519,
} from "../../src/core/signed-note.ts";
import { openTiledLog } from "../../src/log/tiled-log.ts";
import { openIndexStore } from "../../src/store/index-store.ts";
import { openLedgerStore } from "../../src/store/ledger-store.ts";
import { anchor, deployFixture } from "../indexer/ledger-fixture.ts";

const ORIGIN = "sso.example/ledger-log";
const logSeed = new Uint8Array(32).fill(41);
const LOG_ROLE = id("LOG_ROLE");

/** Runs a `shafaf` command in-process and captures what it prints. */
async function run(
  command: CliCommand,
  ...argv: string[]
): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const write = {
    out: process.stdout.write.bind(process.stdout),
    err: process.stderr.write.bind(process.stderr),
  };
  process.stdout.write = (chunk: string) => ((out += chunk), true);
  process.stderr.write = (chunk: string) => ((err += chunk), true);
  try {
    return { code: await command.run(argv), out, err };
  } finally {
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
}

describe("the ledger log's checkpoints and trust policy on chain", function () {
  this.timeout(120_000);
  let chain: DevChain;
  let work: string;
  before(async function () {
    chain = await startDevChain();
    work = await mkdtemp(path.join(os.tmpdir(), "shafaf-log-chain-"));
  });
  after(async function () {
    await chain?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it("records each new checkpoint from the log's tiles, and refuses a log that split from it", async function () {
    const f = await deployFixture(chain.url);
    const recorder = devWallet(5);
    await (await f.admin.getFunction("grantRole")(LOG_ROLE, recorder.address)).wait();
    await anchor(f, { recordCount: 5, total: 1_000n });
    await anchor(f, { kind: 1, recordCount: 7, total: 2_000n });

    const dir = path.join(work, "log");
    const log = await openTiledLog({
      dir,
      origin: ORIGIN,
      signer: ed25519NoteSigner(ORIGIN, logSeed),
    });
    const provider = connectProvider(chain.url, 31337);
    const errors: string[] = [];
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
        log: {
          info: () => undefined,
          warn: () => undefined,
          error: (event, fields) => errors.push(`${event} ${JSON.stringify(fields)}`),
          line: () => undefined,
        },
        ledgerLog: {
          log,
          witnesses: [],
          recordOnChain: logCheckpointRecorder({
            wallet: recorder.connect(provider),
            address: f.address,
          }),
        },
      });
      const following = stack.follow();
      const until = async (size: number) => {
        const deadline = Date.now() + 20_000;
        while ((stack!.ledgerLog!.last?.size ?? 0) < size) {
          if (Date.now() > deadline) throw new Error(`log not at ${size}: ${errors.join("; ")}`);
          await new Promise((r) => setTimeout(r, 50));
        }
        await stack!.ledgerLog!.idle();
      };
      const onChain = async () => {
        const [size, root] = (await f.admin.getFunction("logCheckpoint")()) as [bigint, string];
        return { size: Number(size), root };
      };

      await until(2);
      expect(stack.ledgerLog!.last!.onChain).to.include({
        status: "recorded",
        size: 2,
        previousSize: 0,
      });
      expect(await onChain()).to.deep.equal({ size: 2, root: hexlify(log.rootHash(2)) });

      await anchor(f, { recordCount: 3, total: 500n });
      await until(3);
      expect(stack.ledgerLog!.last!.onChain).to.include({
        status: "recorded",
        size: 3,
        previousSize: 2, // the ledger verified the consistency proof 2 → 3 from the tiles
      });
      expect(await onChain()).to.deep.equal({ size: 3, root: hexlify(log.rootHash(3)) });
      await stack.ledgerLog!.sync(); // nothing new: nothing sent
      expect(stack.ledgerLog!.last!.onChain).to.deep.equal({
        status: "up-to-date",
        size: 3,
        root: hexlify(log.rootHash(3)),
      });
      expect(errors).to.deep.equal([]);
      await stack.close();
      await following;
      stack = undefined;

      const verified = await run(
        logCommand,
        "verify",
        ...["--rpc", chain.url, "--contract", f.address, "--log-dir", dir],
      );
      expect(verified.err).to.equal("");
      expect(verified.code).to.equal(0);
      expect(verified.out).to.contain(
        `OK: the ledger's log checkpoint (size 3, root ${hexlify(log.rootHash(3))}) is the log's tree at that size`,
      );

      // Another log of the same origin whose first entries differ: a split view.
      const forkDir = path.join(work, "fork");
      const fork = await openTiledLog({
        dir: forkDir,
        origin: ORIGIN,
        signer: ed25519NoteSigner(ORIGIN, logSeed),
      });
      await fork.append([log.entry(0), new TextEncoder().encode("not batch 2"), log.entry(2)]);
      await fork.publishCheckpoint(await fork.signCheckpoint());
      const record = logCheckpointRecorder({
        wallet: recorder.connect(provider),
        address: f.address,
      });
      try {
        await record(fork);
        expect.fail("a split view was recorded");
      } catch (error) {
        expect((error as { code?: string }).code).to.equal("log.chain-split");
        expect((error as Error).message).to.contain(hexlify(fork.rootHash(3)));
        expect((error as Error).message).to.contain(hexlify(log.rootHash(3)));
      }
      const split = await run(
        logCommand,
        "verify",
        ...["--rpc", chain.url, "--contract", f.address, "--log-dir", forkDir],
      );
      expect(split.code).to.equal(1);
      expect(split.out).to.contain("split view: at size 3 the ledger recorded root");

      // A fourth batch, logged by a copy of the log: an account without LOG_ROLE is told so.
      await anchor(f, { recordCount: 2, total: 100n });
      const copy = await openTiledLog({
        dir: path.join(work, "copy"),
        origin: ORIGIN,
        signer: ed25519NoteSigner(ORIGIN, logSeed),
      });
      await copy.append([0, 1, 2].map((i) => log.entry(i)));
      await copy.append([new TextEncoder().encode("batch 4")]);
      const outsider = logCheckpointRecorder({
        wallet: devWallet(6).connect(provider),
        address: f.address,
      });
      try {
        await outsider(copy);
        expect.fail("an account without LOG_ROLE recorded a checkpoint");
      } catch (error) {
        expect(String((error as Error).message) + (error as { details?: string }).details).to.match(
          /LOG_ROLE/,
        );
      }
      expect(await record(copy)).to.include({ status: "recorded", size: 4, previousSize: 3 });
    } finally {
      await stack?.close();
      provider.destroy();
    }
  });

  it("`shafaf log policy` prints, records (admin account) and compares the trust policy's SHA-256", async function () {
    const f = await deployFixture(chain.url);
    const vkey = formatVerifierKey(ORIGIN, SIG_TYPE_ED25519, ed25519PublicKey(logSeed));
    const file = path.join(work, "trust-policy.txt");
    const text = `# Shafaf test policy\nlog ${vkey}\nquorum none\n`;
    await writeFile(file, text);
    const sha = "0x" + createHash("sha256").update(text).digest("hex");
    const at = ["--rpc", chain.url, "--contract", f.address];

    const printed = await run(logCommand, "policy", file);
    expect(printed).to.deep.equal({ code: 0, out: `${sha}  ${file}\n`, err: "" });

    const none = await run(logCommand, "policy", file, ...at);
    expect(none.code).to.equal(1);
    expect(none.out).to.contain("MISMATCH: the ledger records no trust policy yet");

    const notAdmin = await run(logCommand, "policy", file, ...at, "--set", "--signer", "dev:7");
    expect(notAdmin.code).to.equal(1);
    expect(notAdmin.err).to.contain("shafaf roles propose --trust-policy FILE");

    const set = await run(logCommand, "policy", file, ...at, "--set", "--signer", "dev:0");
    expect(set.err).to.equal("");
    expect(set.code).to.equal(0);
    expect(set.out).to.contain(`recorded trust policy ${sha}`);
    expect(await f.admin.getFunction("trustPolicy")()).to.equal(sha);
    const again = await run(logCommand, "policy", file, ...at, "--set", "--signer", "dev:0");
    expect(again.out).to.contain("already records");

    const same = await run(logCommand, "policy", file, ...at);
    expect(same.code).to.equal(0);
    expect(same.out).to.contain("OK: the ledger records this trust policy");

    await writeFile(file, text + "# one more comment is another policy file\n");
    const other = await run(logCommand, "policy", file, ...at);
    expect(other.code).to.equal(1);
    expect(other.out).to.contain("MISMATCH: the ledger records another trust policy");

    await writeFile(file, `log ${vkey}\r\nquorum none\n`);
    const bad = await run(logCommand, "policy", file);
    expect(bad.code).to.not.equal(0);
    expect(bad.err).to.contain(`${file}:1:`);
  });

  it("`shafaf roles propose --trust-policy FILE` records it through the council and timelock", async function () {
    const provider = connectProvider(chain.url, 31337);
    try {
      const deployer = devWallet(0).connect(provider);
      const gov = await deployGovernance({
        signer: deployer,
        institutions: [1, 2, 3].map((n) => devWallet(n).address),
        threshold: 2,
        minDelaySeconds: 60,
      });
      const ledger = (
        await deployLedger({ signer: deployer, admin: gov.timelock, adminDelaySeconds: 0 })
      ).address;
      const vkey = formatVerifierKey(ORIGIN, SIG_TYPE_ED25519, ed25519PublicKey(logSeed));
      const file = path.join(work, "governed-policy.txt");
      const text = `log ${vkey}\nquorum none\n`;
      await writeFile(file, text);
      const sha = "0x" + createHash("sha256").update(text).digest("hex");
      const at = ["--rpc", chain.url, "--contract", ledger];

      const proposed = await run(
        rolesCommand,
        "propose",
        ...at,
        ...["--signer", "dev:1", "--trust-policy", file],
      );
      expect(proposed.err).to.equal("");
      expect(proposed.code).to.equal(0);
      await run(rolesCommand, "approve", ...at, "--signer", "dev:2", "--proposal", "1");
      await provider.send("evm_increaseTime", [61]);
      await provider.send("evm_mine", []);
      const executed = await run(
        rolesCommand,
        "execute",
        ...at,
        ...["--signer", "dev:3", "--proposal", "1"],
      );
      expect(executed.code).to.equal(0);
      const contract = new Contract(ledger, LEDGER_ABI, provider);
      expect(await contract.getFunction("trustPolicy")()).to.equal(sha);
      const listed = await run(rolesCommand, "list", ...at);
      expect(listed.out).to.contain(`setTrustPolicy(${sha})`);
      expect((await run(logCommand, "policy", file, ...at)).code).to.equal(0);
    } finally {
      provider.destroy();
    }
  });
});

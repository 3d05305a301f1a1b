/**
 * `shafaf verify` on v2 documents against a real dev chain with the real TransparencyLedger: the
 * vectors' shafaf-tree/2 root is anchored as batch 7, and the person proof and v2 receipt are
 * verified against what the node returns (with --vrf-key: the chain does not register VRF keys yet).
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { Contract, JsonRpcProvider, NonceManager } from "ethers";
import { command as verifyCommand } from "../../src/cli/commands/verify.ts";
import { deployLedger } from "../../src/chain/deploy-ledger.ts";
import { startDevChain, type DevChain } from "../../src/chain/dev-chain.ts";
import { devWallet } from "../../src/chain/signer.ts";
import { runCommand } from "../audit/helpers.ts";

interface Vectors {
  root: string;
  vrfPublicKey: string;
  batchId: number;
  cases: { name: string; document: Record<string, unknown> }[];
}
const load = async (name: string) =>
  JSON.parse(
    await readFile(path.resolve(import.meta.dirname, "../vectors", name), "utf8"),
  ) as Vectors;

describe("shafaf verify --rpc on v2 receipts and person proofs (dev chain, real ledger)", function () {
  this.timeout(180_000);
  let chain: DevChain;
  let dir: string;
  let persons: Vectors;
  let receipts: Vectors;

  before(async function () {
    persons = await load("person-proof-1.json");
    receipts = await load("receipt-v2.json");
    dir = await mkdtemp(path.join(tmpdir(), "shafaf-verify-chain-"));
    chain = await startDevChain();
    const provider = new JsonRpcProvider(chain.url, 31337, {
      staticNetwork: true,
      cacheTimeout: -1,
    });
    const { address } = await deployLedger({
      signer: new NonceManager(devWallet(0).connect(provider)),
      admin: devWallet(0).address,
      adminDelaySeconds: 0,
      anchorers: [devWallet(1).address],
      auditors: [],
      pausers: [],
    });
    // The vectors name the first contract a fresh dev chain deploys, and batch 7.
    expect(address.toLowerCase()).to.equal(persons.cases[0]!.document.contract);
    const ledger = new Contract(
      address,
      [
        "function anchorBatch(bytes32 root, uint8 kind, uint32 period, uint64 recordCount, uint128 totalAmount, bytes32 manifestHash, uint64 supersedes, bytes32 idempotencyKey) returns (uint64)",
      ],
      new NonceManager(devWallet(1).connect(provider)),
    );
    for (let month = 1; month <= persons.batchId; month++) {
      const root =
        month === persons.batchId ? persons.root : `0x${randomBytes(32).toString("hex")}`;
      const tx = (await ledger.getFunction("anchorBatch")(
        root,
        0,
        140300 + month,
        19,
        1n,
        `0x${randomBytes(32).toString("hex")}`,
        0,
        `0x${randomBytes(32).toString("hex")}`,
      )) as { wait(): Promise<unknown> };
      await tx.wait();
    }
  });

  after(async function () {
    await chain?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const verify = async (doc: unknown, ...args: string[]) => {
    const f = path.join(dir, `${Math.random()}.json`);
    await writeFile(f, JSON.stringify(doc));
    return runCommand(verifyCommand, [f, "--rpc", chain.url, ...args]);
  };
  const doc = (v: Vectors, name: string) => v.cases.find((c) => c.name === name)!.document;

  it("verifies a person proof with the chain's root and the given VRF key (exit 0), inconclusive without the key (exit 2)", async function () {
    const ok = await verify(doc(persons, "valid-range"), "--vrf-key", persons.vrfPublicKey);
    expect(ok.code, ok.stdout).to.equal(0);
    expect(ok.stdout).to.include("anchored-root: the proof's root is batch 7's anchored root");
    const absent = await verify(doc(persons, "valid-absence"), "--vrf-key", persons.vrfPublicKey);
    expect(absent.code, absent.stdout).to.equal(0);
    const noKey = await verify(doc(persons, "valid-range"));
    expect(noKey.code, noKey.stdout).to.equal(2);
    expect(noKey.stdout).to.match(/\? vrf-key/);
  });

  it("verifies a v2 receipt on the chain (exit 0) and fails one that names another batch or is corrupted (exit 1)", async function () {
    expect((await verify(doc(receipts, "valid-0"))).code).to.equal(0);
    const other = { ...doc(receipts, "valid-0"), batchId: 6 };
    const wrong = await verify(other);
    expect(wrong.code, wrong.stdout).to.equal(1);
    expect(wrong.stdout).to.include("✗ batch");
    expect((await verify(doc(receipts, "flipped-path"))).code).to.equal(1);
    const wrongPeriod = await verify(
      doc(persons, "wrong-context"),
      "--vrf-key",
      persons.vrfPublicKey,
    );
    expect(wrongPeriod.code).to.equal(1);
  });
});

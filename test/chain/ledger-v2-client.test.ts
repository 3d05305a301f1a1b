/**
 * The TypeScript side of the ledger's `shafaf-tree/2` support, on a real Hardhat node: the VRF key
 * registry (library call and `shafaf keys register-vrf`), anchoring a v2 batch through the
 * pipeline's chain adapter (signAnchorV2, broadcast, waitForAnchor, findAnchor), the ledger
 * client's v2 reads, and its on-chain proof verification with committed vectors.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { id } from "ethers";
import { createAnchorChain } from "../../src/anchor/anchor-chain.ts";
import { verifyLogHead } from "../../src/audit/verify-log-head.ts";
import { startDevChain, type DevChain } from "../../src/chain/dev-chain.ts";
import { newVrfKeystore, writeKeystoreFile } from "../../src/chain/keystore.ts";
import { ContractRevertError, createLedgerClient } from "../../src/chain/ledger-client.ts";
import { registerVrfKey, vrfKeyIdOf } from "../../src/chain/register-vrf-key.ts";
import { createRpc } from "../../src/chain/rpc.ts";
import { connectProvider, devWallet } from "../../src/chain/signer.ts";
import { SumTreeCalldataError } from "../../src/chain/sum-tree-calldata.ts";
import { InvalidInputError } from "../../src/core/errors.ts";
import { vrfSecretKey } from "../../src/core/vrf.ts";
import { runCli } from "../anchor/helpers.ts";
import { anchor, deployFixture, send } from "../indexer/ledger-fixture.ts";

const VRF_KEY_ROLE = id("VRF_KEY_ROLE");

interface Vectors {
  trees: Record<string, { kind: "premium" | "pension"; root: string; lanes: string[] }>;
  proofs: { name: string; tree: string; proof: Record<string, unknown>; valid: boolean }[];
}
const vectors = JSON.parse(
  await readFile(path.resolve(import.meta.dirname, "../vectors/tree-v2.json"), "utf8"),
) as Vectors;
const proof = (tree: string, name: string) =>
  vectors.proofs.find((p) => p.tree === tree && p.name === name)!.proof;

async function errorOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected a rejection");
}

describe("ledger client and chain adapter (shafaf-tree/2)", function () {
  this.timeout(180_000);
  let chain: DevChain;
  before(async function () {
    chain = await startDevChain();
  });
  after(async function () {
    await chain?.stop();
  });

  it("registers a VRF key, anchors a v2 batch, reads it back and verifies proofs on-chain", async function () {
    const f = await deployFixture(chain.url);
    const provider = connectProvider(chain.url, 31337);
    const rpc = createRpc({ url: chain.url });
    const ledger = createLedgerClient({ rpc, address: f.address });
    try {
      const admin = devWallet(0).connect(provider);
      const publicKey = vrfSecretKey(new Uint8Array(32).fill(7)).publicKey;
      const keyId = vrfKeyIdOf(publicKey);

      // Without the role: refused, the role named.
      const refused = await errorOf(
        registerVrfKey({ wallet: admin, address: f.address, publicKey }),
      );
      expect(
        String((refused as Error).message) + String((refused as { details?: string }).details),
      ).to.match(/VRF_KEY_ROLE/);
      await send(f.admin, "grantRole", VRF_KEY_ROLE, f.accounts.admin);
      const first = await registerVrfKey({ wallet: admin, address: f.address, publicKey });
      expect(first).to.deep.include({ keyId, index: 0, status: "registered" });
      expect(await registerVrfKey({ wallet: admin, address: f.address, publicKey })).to.deep.equal({
        keyId,
        index: 0,
        status: "already-registered",
      });
      expect(
        await errorOf(
          registerVrfKey({ wallet: admin, address: f.address, publicKey: new Uint8Array(32) }),
        ),
      ).to.be.instanceOf(InvalidInputError);
      const keys = await ledger.vrfKeys();
      expect(keys).to.have.length(1);
      expect(keys[0]).to.deep.include({
        keyId,
        publicKey: "0x" + Buffer.from(publicKey).toString("hex"),
        index: 0,
      });

      // A v1 batch, then the premium-12 tree of the vectors as a v2 batch through the adapter.
      await anchor(f);
      const tree = vectors.trees["premium-12"]!;
      const adapter = createAnchorChain({
        wallet: devWallet(1).connect(provider),
        provider,
        chainId: 31337,
        address: f.address,
        pollMs: 20,
      });
      const args = {
        root: tree.root,
        kind: 0,
        period: 140307,
        totals: tree.lanes.map(BigInt),
        manifestHash: id("manifest v2"),
        supersedes: 0,
        idempotencyKey: id("idempotency v2"),
        vrfKeyId: keyId,
      };
      const signed = await adapter.signAnchorV2(args);
      if (!("rawTx" in signed)) throw new Error("expected a signed transaction");
      expect(await adapter.broadcast(signed.rawTx, signed.txHash)).to.equal("sent");
      const mined = await adapter.waitForAnchor(signed.txHash, 1);
      expect(mined).to.deep.include({
        batchId: 2,
        root: tree.root,
        idempotencyKey: args.idempotencyKey,
      });
      expect(await adapter.findAnchor(2)).to.deep.include({ batchId: 2, txHash: signed.txHash });
      expect(await adapter.signAnchorV2(args)).to.deep.equal({ existing: 2 });
      expect(
        await errorOf(adapter.signAnchorV2({ ...args, totals: args.totals.slice(0, 4) })),
      ).to.be.instanceOf(Error);
      const unknownKey = await errorOf(
        adapter.signAnchorV2({
          ...args,
          root: id("other root"),
          idempotencyKey: id("other"),
          vrfKeyId: id("no such key"),
        }),
      );
      expect(String((unknownKey as { details?: string }).details)).to.match(/register-vrf/);

      expect(await ledger.schemeOf(1)).to.equal("standard-v1");
      expect(await ledger.schemeOf(2)).to.equal("shafaf-tree/2");
      const b = await ledger.getBatchV2(2);
      expect(b).to.deep.include({
        batchId: 2,
        root: tree.root,
        vrfKeyId: keyId,
        period: 140307,
        kind: 0,
        supersedes: 0,
        supersededBy: 0,
        anchorer: f.accounts.anchorer,
      });
      expect(b.totals).to.deep.equal([...args.totals, 0n]);
      expect(await ledger.head()).to.equal(b.headAfter);
      // The whole log, v1 and v2 batches, recomputed from events.
      expect(await verifyLogHead({ rpc, contract: f.address })).to.deep.include({
        status: "ok",
        batchesChecked: 2,
        recomputedHead: b.headAfter,
      });
      const wrong = await errorOf(ledger.getBatch(2));
      expect(wrong).to.be.instanceOf(ContractRevertError);
      expect((wrong as ContractRevertError).errorName).to.equal("LedgerWrongScheme");
      expect((wrong as ContractRevertError).args.map(String)).to.deep.equal(["2", "1"]);

      // Proofs, through the contract.
      expect(await ledger.verifyInclusionV2(2, proof("premium-12", "inclusion-5"))).to.equal(true);
      expect(await ledger.verifyAbsenceV2(2, proof("premium-12", "absence-person-99"))).to.equal(
        true,
      );
      expect(await ledger.verifyProofV2(2, proof("premium-12", "range-person-1"))).to.equal(true);
      for (const name of ["corrupt-flipped-bit-path", "corrupt-range-claimed-absent"]) {
        expect(await ledger.verifyProofV2(2, proof("premium-12", name)), name).to.equal(false);
      }
      expect(
        await errorOf(ledger.verifyInclusionV2(2, proof("premium-12", "absence-person-99"))),
      ).to.be.instanceOf(SumTreeCalldataError);
      expect(
        await errorOf(ledger.verifyProofV2(2, proof("premium-12", "corrupt-lane-above-128-bits"))),
      ).to.be.instanceOf(SumTreeCalldataError);
      const onV1 = await errorOf(ledger.verifyInclusionV2(1, proof("premium-12", "inclusion-5")));
      expect((onV1 as ContractRevertError).errorName).to.equal("LedgerWrongScheme");
    } finally {
      provider.destroy();
    }
  });

  it("shafaf keys register-vrf records a keystore's key, once", async function () {
    const f = await deployFixture(chain.url);
    await send(f.admin, "grantRole", VRF_KEY_ROLE, f.accounts.anchorer);
    const dir = await mkdtemp(path.join(tmpdir(), "shafaf-register-vrf-"));
    try {
      const { publicKey, json } = await newVrfKeystore({ password: "correct horse battery" });
      const file = path.join(dir, "vrf.json");
      await writeKeystoreFile(file, json);
      const args = ["keys", "register-vrf", file, "--rpc", chain.url, "--contract", f.address];
      const denied = await runCli([...args, "--signer", "dev:0"]);
      expect(denied.code).to.equal(1);
      expect(denied.stderr).to.match(/VRF_KEY_ROLE/);
      const made = await runCli([...args, "--signer", "dev:1", "--json"]);
      expect(made.code, made.stderr).to.equal(0);
      const out = JSON.parse(made.stdout) as { keyId: string; index: number; status: string };
      expect(out).to.deep.include({
        keyId: vrfKeyIdOf(publicKey),
        index: 0,
        status: "registered",
      });
      const again = await runCli([...args, "--signer", "dev:1"]);
      expect(again.code).to.equal(0);
      expect(again.stdout).to.equal(`already registered: VRF key 0, id ${vrfKeyIdOf(publicKey)}\n`);
      const usage = await runCli(["keys", "register-vrf", file, "--signer", "dev:1"]);
      expect(usage.code).to.equal(64);
      expect(usage.stderr).to.match(/--rpc URL is required/);
      const ledger = createLedgerClient({ rpc: createRpc({ url: chain.url }), address: f.address });
      expect((await ledger.vrfKeys()).map((k) => k.keyId)).to.deep.equal([vrfKeyIdOf(publicKey)]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

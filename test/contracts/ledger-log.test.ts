/**
 * The ledger as a witness of its own log (ITransparencyLedger `recordLogCheckpoint`,
 * `verifyLogInclusion`) and as the record of the trust policy (`setTrustPolicy`). The RFC 6962
 * verification is driven through the deployed ledger with transparency-dev/merkle's vectors —
 * the same files src/core/rfc6962.ts is tested against — and with proofs of src/core/rfc6962.ts.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import fc from "fast-check";
import { network } from "hardhat";
import { ZeroHash, hexlify, id, type BaseContract, type Interface } from "ethers";
import {
  consistencyProof,
  hashLeaf,
  inclusionProof,
  memoryNodeSource,
  rootHash,
} from "../../src/core/rfc6962.ts";
import { typed } from "./typed-contract.ts";

const { ethers, networkHelpers } = await network.create();
const loadFixture = networkHelpers.loadFixture.bind(networkHelpers);

const LOG_ROLE = id("LOG_ROLE");
const BATCHES = 16; // the vectors' largest tree has 16 leaves
const METHODS = [
  "anchorBatch",
  "batchCount",
  "grantRole",
  "pause",
  "recordLogCheckpoint",
  "logCheckpoint",
  "verifyLogInclusion",
  "setTrustPolicy",
  "trustPolicy",
  "LOG_ROLE",
] as const;

const dir = path.resolve(import.meta.dirname, "../vectors/c2sp");
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- vector files are read as plain JSON
const load = (f: string): any => JSON.parse(readFileSync(path.join(dir, f), "utf8"));
const inclusion = load("merkle-inclusion.json") as {
  cases: {
    file: string;
    leafIdx: number;
    treeSize: number;
    root: string;
    leafHash: string;
    proof: string[] | null;
    wantErr: boolean;
  }[];
};
const consistency = load("merkle-consistency.json") as {
  cases: {
    file: string;
    size1: number;
    size2: number;
    root1: string;
    root2: string;
    proof: string[] | null;
    wantErr: boolean;
  }[];
};

/** base64 → 0x-hex bytes32, or undefined when it is not 32 bytes (bytes32 cannot carry it). */
const word = (b64: string | null): string | undefined => {
  const b = Buffer.from(b64 ?? "", "base64");
  return b.length === 32 ? hexlify(b) : undefined;
};
const words = (list: string[] | null): string[] | undefined => {
  const out = (list ?? []).map(word);
  return out.every((w) => w !== undefined) ? out : undefined;
};
const hex = (b: Uint8Array) => hexlify(b);

/** A real ledger log of `n` entries: leaf hashes of distinct entries, with src/core's prover. */
function logOf(n: number, salt = "entry") {
  const node = memoryNodeSource(
    Array.from({ length: n }, (_, i) => hashLeaf(new TextEncoder().encode(`${salt} ${i}`))),
  );
  return {
    node,
    root: (size: number) => hex(rootHash(size, node)),
    consistency: (a: number, b: number) => consistencyProof(a, b, node).map(hex),
    inclusion: (i: number, size: number) => inclusionProof(i, size, node).map(hex),
  };
}

async function ledgerWithBatchesFixture() {
  const [admin, anchorer, logger, outsider, pauser] = await ethers.getSigners();
  const contract = await ethers.deployContract("TransparencyLedger", [
    admin!.address,
    0,
    [anchorer!.address],
    [],
    [pauser!.address],
  ]);
  const ledger = typed(contract as BaseContract, METHODS);
  await ledger.grantRole(LOG_ROLE, logger!.address);
  const anchor = ledger.connect(anchorer!);
  for (let n = 1; n <= BATCHES; n++) {
    await anchor.anchorBatch(id(`root ${n}`), 0, 140307, 1n, 1n, id(`m ${n}`), 0n, id(`k ${n}`));
  }
  return {
    ledger,
    asLogger: ledger.connect(logger!),
    admin: admin!,
    logger: logger!,
    outsider: outsider!,
    pauser: pauser!,
  };
}

/** The ledger's custom error of a failed call, or "ok". */
async function outcome(call: Promise<unknown>, ledger: { interface: Interface }): Promise<string> {
  try {
    await call;
    return "ok";
  } catch (error) {
    const data = (error as { data?: string }).data;
    const parsed = data === undefined ? null : ledger.interface.parseError(data);
    if (parsed === null) throw error;
    return parsed.name;
  }
}

describe("TransparencyLedger", function () {
  describe("recordLogCheckpoint", function () {
    it("records the first checkpoint as given, emits it, and exposes it", async function () {
      const { ledger, asLogger, logger } = await loadFixture(ledgerWithBatchesFixture);
      const log = logOf(BATCHES);
      expect(await ledger.logCheckpoint()).to.deep.equal([0n, ZeroHash]);
      await expect(asLogger.recordLogCheckpoint(5, log.root(5), []))
        .to.emit(ledger, "LogCheckpointRecorded")
        .withArgs(5, log.root(5), 0, logger.address);
      expect(await ledger.logCheckpoint()).to.deep.equal([5n, log.root(5)]);
      expect(await ledger.LOG_ROLE()).to.equal(LOG_ROLE);
    });

    it("accepts each consistent extension, with a proof from src/core/rfc6962.ts", async function () {
      const { ledger, asLogger, logger } = await loadFixture(ledgerWithBatchesFixture);
      const log = logOf(BATCHES);
      let previous = 0;
      for (const size of [1, 2, 3, 4, 7, 8, 13, 16]) {
        const proof = previous === 0 ? [] : log.consistency(previous, size);
        await expect(asLogger.recordLogCheckpoint(size, log.root(size), proof))
          .to.emit(ledger, "LogCheckpointRecorded")
          .withArgs(size, log.root(size), previous, logger.address);
        previous = size;
      }
      expect(await ledger.logCheckpoint()).to.deep.equal([16n, log.root(16)]);
    });

    it("refuses a forked log with the recorded root and the one the proof leads to", async function () {
      const { ledger, asLogger } = await loadFixture(ledgerWithBatchesFixture);
      const log = logOf(BATCHES);
      const fork = logOf(BATCHES, "other entry"); // same sizes, different entries
      await asLogger.recordLogCheckpoint(6, log.root(6), []);
      const proof = fork.consistency(6, 10);
      // The calculated old root is the fork's: the evidence of the split.
      await expect(asLogger.recordLogCheckpoint(10, fork.root(10), proof))
        .to.be.revertedWithCustomError(ledger, "LedgerLogInconsistent")
        .withArgs(6, log.root(6), fork.root(6));
    });

    it("refuses a new root the proof does not lead to, naming the calculated one", async function () {
      const { ledger, asLogger } = await loadFixture(ledgerWithBatchesFixture);
      const log = logOf(BATCHES);
      await asLogger.recordLogCheckpoint(3, log.root(3), []);
      await expect(asLogger.recordLogCheckpoint(9, log.root(8), log.consistency(3, 9)))
        .to.be.revertedWithCustomError(ledger, "LedgerLogRootMismatch")
        .withArgs(9, log.root(8), log.root(9));
    });

    it("checks the proof's length before hashing: none for the first, the RFC's for later ones", async function () {
      const { ledger, asLogger } = await loadFixture(ledgerWithBatchesFixture);
      const log = logOf(BATCHES);
      await expect(asLogger.recordLogCheckpoint(3, log.root(3), [log.root(1)]))
        .to.be.revertedWithCustomError(ledger, "LedgerLogProofLength")
        .withArgs(0, 3, 0, 1);
      await asLogger.recordLogCheckpoint(3, log.root(3), []);
      const proof = log.consistency(3, 11);
      await expect(asLogger.recordLogCheckpoint(11, log.root(11), [...proof, ZeroHash]))
        .to.be.revertedWithCustomError(ledger, "LedgerLogProofLength")
        .withArgs(3, 11, proof.length, proof.length + 1);
      await expect(asLogger.recordLogCheckpoint(11, log.root(11), proof.slice(1)))
        .to.be.revertedWithCustomError(ledger, "LedgerLogProofLength")
        .withArgs(3, 11, proof.length, proof.length - 1);
    });

    it("refuses a checkpoint that does not grow, or has more entries than anchored batches", async function () {
      const { ledger, asLogger } = await loadFixture(ledgerWithBatchesFixture);
      const log = logOf(BATCHES + 1);
      await expect(asLogger.recordLogCheckpoint(0, log.root(1), []))
        .to.be.revertedWithCustomError(ledger, "LedgerLogNotGrowing")
        .withArgs(0, 0);
      await expect(asLogger.recordLogCheckpoint(BATCHES + 1, log.root(BATCHES + 1), []))
        .to.be.revertedWithCustomError(ledger, "LedgerLogBeyondBatches")
        .withArgs(BATCHES + 1, BATCHES);
      await asLogger.recordLogCheckpoint(4, log.root(4), []);
      await expect(asLogger.recordLogCheckpoint(4, log.root(4), []))
        .to.be.revertedWithCustomError(ledger, "LedgerLogNotGrowing")
        .withArgs(4, 4);
      await expect(asLogger.recordLogCheckpoint(2, log.root(2), []))
        .to.be.revertedWithCustomError(ledger, "LedgerLogNotGrowing")
        .withArgs(4, 2);
    });

    it("refuses the zero root, an account without LOG_ROLE, and any call while paused", async function () {
      const { ledger, asLogger, outsider, pauser } = await loadFixture(ledgerWithBatchesFixture);
      const log = logOf(BATCHES);
      await expect(asLogger.recordLogCheckpoint(2, ZeroHash, [])).to.be.revertedWithCustomError(
        ledger,
        "LedgerZeroRoot",
      );
      await expect(ledger.connect(outsider).recordLogCheckpoint(2, log.root(2), []))
        .to.be.revertedWithCustomError(ledger, "AccessControlUnauthorizedAccount")
        .withArgs(outsider.address, LOG_ROLE);
      await ledger.connect(pauser).pause();
      await expect(asLogger.recordLogCheckpoint(2, log.root(2), [])).to.be.revertedWithCustomError(
        ledger,
        "LedgerEnforcedPause",
      );
    });

    it(`agrees with transparency-dev/merkle's ${consistency.cases.length} consistency vectors`, async function () {
      const tally = { extension: 0, accepted: 0, notGrowing: 0, fromEmpty: 0, notBytes32: 0 };
      for (const c of consistency.cases) {
        const root1 = word(c.root1);
        const root2 = word(c.root2);
        const proof = words(c.proof);
        if (root1 === undefined || root2 === undefined || proof === undefined) {
          // A hash that is not 32 bytes cannot be passed as bytes32: the ABI refuses it.
          tally.notBytes32++;
          continue;
        }
        const { ledger, asLogger } = await loadFixture(ledgerWithBatchesFixture);
        if (c.size1 === 0) {
          // The ledger's first checkpoint takes no proof (a proof from the empty tree proves nothing).
          tally.fromEmpty++;
          continue;
        }
        await asLogger.recordLogCheckpoint(c.size1, root1, []);
        const got = await outcome(asLogger.recordLogCheckpoint(c.size2, root2, proof), ledger);
        if (c.size2 <= c.size1) {
          // verify.go accepts equal sizes with equal roots; the ledger records growth only.
          expect(got, c.file).to.equal("LedgerLogNotGrowing");
          tally.notGrowing++;
          continue;
        }
        tally.extension++;
        if (c.wantErr) {
          expect(got, c.file).to.be.oneOf([
            "LedgerLogProofLength",
            "LedgerLogInconsistent",
            "LedgerLogRootMismatch",
          ]);
        } else {
          expect(got, c.file).to.equal("ok");
          tally.accepted++;
          expect(await ledger.logCheckpoint()).to.deep.equal([BigInt(c.size2), root2]);
        }
      }
      // Every vector was run or accounted for.
      expect(tally).to.deep.equal({
        extension: 61,
        accepted: 4,
        notGrowing: 6,
        fromEmpty: 4,
        notBytes32: 27,
      });
    });
  });

  describe("recordLogCheckpoint (properties)", function () {
    const MANY = 64;
    async function ledgerWithManyBatchesFixture() {
      const f = await ledgerWithBatchesFixture();
      const anchor = f.ledger.connect((await ethers.getSigners())[1]!);
      for (let n = BATCHES + 1; n <= MANY; n++) {
        await anchor.anchorBatch(
          id(`root ${n}`),
          0,
          140307,
          1n,
          1n,
          id(`m ${n}`),
          0n,
          id(`k ${n}`),
        );
      }
      return f;
    }
    const log = logOf(MANY);
    const fork = logOf(MANY, "forked entry");

    it("accepts every extension proven by src/core, and refuses it with one bit flipped or from a forked log", async function () {
      await fc.assert(
        fc.asyncProperty(
          fc
            .tuple(fc.integer({ min: 1, max: MANY - 1 }), fc.integer({ min: 1, max: MANY - 1 }))
            .map(([a, b]) => [a, a + 1 + (b % (MANY - a))] as const),
          fc.nat(),
          fc.integer({ min: 0, max: 255 }),
          async ([size1, size2], pick, bit) => {
            const { ledger, asLogger } = await loadFixture(ledgerWithManyBatchesFixture);
            await asLogger.recordLogCheckpoint(size1, log.root(size1), []);
            const proof = log.consistency(size1, size2);
            const flipped = [...proof];
            const k = pick % proof.length;
            const bytes = Buffer.from(proof[k]!.slice(2), "hex");
            bytes[bit >> 3]! ^= 1 << (bit & 7);
            flipped[k] = hexlify(bytes);
            const errors = ["LedgerLogInconsistent", "LedgerLogRootMismatch"];
            expect(
              await outcome(asLogger.recordLogCheckpoint(size2, log.root(size2), flipped), ledger),
            ).to.be.oneOf(errors);
            expect(
              await outcome(
                asLogger.recordLogCheckpoint(
                  size2,
                  fork.root(size2),
                  fork.consistency(size1, size2),
                ),
                ledger,
              ),
            ).to.be.oneOf(errors);
            expect(
              await outcome(asLogger.recordLogCheckpoint(size2, log.root(size2), proof), ledger),
            ).to.equal("ok");
          },
        ),
        { numRuns: 40 },
      );
    });
  });

  describe("verifyLogInclusion", function () {
    it(`agrees with transparency-dev/merkle's ${inclusion.cases.length} inclusion vectors`, async function () {
      const tally = { run: 0, proven: 0, notBytes32: 0 };
      for (const c of inclusion.cases) {
        const root = word(c.root);
        const leaf = word(c.leafHash);
        const proof = words(c.proof);
        if (root === undefined || leaf === undefined || proof === undefined) {
          tally.notBytes32++;
          continue;
        }
        const { ledger, asLogger } = await loadFixture(ledgerWithBatchesFixture);
        if (c.treeSize > 0) await asLogger.recordLogCheckpoint(c.treeSize, root, []);
        // leafIdx-sub-@1 is 0 − 1 in Go's uint64 (2^64 − 1), which JSON gives back as 2^64.
        const index = c.leafIdx >= 2 ** 64 ? 2n ** 64n - 1n : BigInt(c.leafIdx);
        expect(await ledger.verifyLogInclusion(index, leaf, proof), c.file).to.equal(!c.wantErr);
        tally.run++;
        if (!c.wantErr) tally.proven++;
      }
      expect(tally).to.deep.equal({ run: 72, proven: 6, notBytes32: 26 });
    });

    it("proves every entry of the recorded tree, and refuses another index, a flipped bit or a stale proof", async function () {
      const { ledger, asLogger } = await loadFixture(ledgerWithBatchesFixture);
      const log = logOf(BATCHES);
      expect(await ledger.verifyLogInclusion(0, hex(log.node(0, 0)), [])).to.equal(false); // nothing recorded
      await asLogger.recordLogCheckpoint(11, log.root(11), []);
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 10 }), async (i) => {
          const leaf = hex(log.node(0, i));
          const proof = log.inclusion(i, 11);
          expect(await ledger.verifyLogInclusion(i, leaf, proof)).to.equal(true);
          expect(await ledger.verifyLogInclusion((i + 1) % 11, leaf, proof)).to.equal(false);
          const flipped = [...proof];
          flipped[0] = hexlify(
            Uint8Array.from(Buffer.from(proof[0]!.slice(2), "hex"), (b, k) =>
              k === 31 ? b ^ 1 : b,
            ),
          );
          expect(await ledger.verifyLogInclusion(i, leaf, flipped)).to.equal(false);
          expect(await ledger.verifyLogInclusion(i, leaf, [...proof, ZeroHash])).to.equal(false);
        }),
        { numRuns: 11 },
      );
      const stale = log.inclusion(2, 11);
      await asLogger.recordLogCheckpoint(16, log.root(16), log.consistency(11, 16));
      expect(await ledger.verifyLogInclusion(2, hex(log.node(0, 2)), stale)).to.equal(false);
      expect(
        await ledger.verifyLogInclusion(2, hex(log.node(0, 2)), log.inclusion(2, 16)),
      ).to.equal(true);
      expect(await ledger.verifyLogInclusion(16, hex(log.node(0, 2)), [])).to.equal(false);
    });
  });

  describe("setTrustPolicy", function () {
    it("records the policy hash from the admin only, with the previous one in the event", async function () {
      const { ledger, admin, outsider, pauser } = await loadFixture(ledgerWithBatchesFixture);
      const first = id("policy 1");
      const second = id("policy 2");
      expect(await ledger.trustPolicy()).to.equal(ZeroHash);
      await expect(ledger.setTrustPolicy(first))
        .to.emit(ledger, "TrustPolicySet")
        .withArgs(first, ZeroHash, admin.address);
      await ledger.connect(pauser).pause(); // governance may change the policy during a pause
      await expect(ledger.setTrustPolicy(second))
        .to.emit(ledger, "TrustPolicySet")
        .withArgs(second, first, admin.address);
      expect(await ledger.trustPolicy()).to.equal(second);
      await expect(ledger.connect(outsider).setTrustPolicy(first))
        .to.be.revertedWithCustomError(ledger, "AccessControlUnauthorizedAccount")
        .withArgs(outsider.address, ZeroHash);
      await expect(ledger.setTrustPolicy(ZeroHash)).to.be.revertedWithCustomError(
        ledger,
        "LedgerZeroTrustPolicy",
      );
    });
  });
});

/**
 * TransparencyLedger's `shafaf-tree/2` side: VRF key registry, anchorBatchV2 (shared ids, head,
 * idempotency and supersession with v1), scheme separation, and the on-chain verifiers run over
 * every proof of test/vectors/tree-v2.json (valid ones verify, every corruption fails).
 */
import { expect } from "chai";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { network } from "hardhat";
import fc from "fast-check";
import { AbiCoder, Interface, ZeroHash, id, keccak256, randomBytes } from "ethers";
import { buildSumTree, type SumTree } from "../../src/core/build-sum-tree.ts";
import { LEDGER_METHODS, typed } from "./typed-contract.ts";
import {
  SUM_TREE_WINDOW_TUPLE,
  SumTreeCalldataError,
  sumTreeProofCalldata,
  type LaneTuple,
} from "../../src/chain/sum-tree-calldata.ts";

interface ProofVector {
  name: string;
  tree: string;
  trust: { root: string; lanes?: string[] };
  proof: { type: string; root: { lanes: string[] } } & Record<string, unknown>;
  valid: boolean;
  failedChecks: string[];
}
const FILE = path.resolve(import.meta.dirname, "../vectors/tree-v2.json");
const file = JSON.parse(await readFile(FILE, "utf8")) as {
  trees: Record<string, { kind: "premium" | "pension" }>;
  proofs: ProofVector[];
};
const proofs = file.proofs;
const treeKind = new Map(
  Object.entries(file.trees).map(([name, t]) => [name, t.kind === "premium" ? 0 : 1] as const),
);

const { ethers, networkHelpers } = await network.create();
const loadFixture = networkHelpers.loadFixture.bind(networkHelpers);

const PREMIUM = 0;
const PENSION = 1;
const V1 = 0;
const V2 = 1;
const VRF_KEY_ROLE = id("VRF_KEY_ROLE");
const abi = AbiCoder.defaultAbiCoder();
const PK1 = id("vrf public key 1");
const PK2 = id("vrf public key 2");
const keyIdOf = (pk: string): string => keccak256(pk);

interface AnchorV2 {
  root: string;
  kind: number;
  period: number;
  totals: LaneTuple;
  manifestHash: string;
  supersedes: bigint;
  idempotencyKey: string;
  vrfKeyId: string;
}

function batchV2(n: number, overrides: Partial<AnchorV2> = {}): AnchorV2 {
  return {
    root: id(`v2 root ${n}`),
    kind: PREMIUM,
    period: 140307,
    totals: [12n, 9n, 925_942_080n, 351n, 277_782_624n, 0n],
    manifestHash: id(`v2 manifest ${n}`),
    supersedes: 0n,
    idempotencyKey: id(`v2 key ${n}`),
    vrfKeyId: keyIdOf(PK1),
    ...overrides,
  };
}

const v1Args = (n: number, kind = PREMIUM, period = 140307, supersedes = 0n) =>
  [
    id(`v1 root ${n}`),
    kind,
    period,
    100n,
    5_000n,
    id(`v1 manifest ${n}`),
    supersedes,
    id(`v1 key ${n}`),
  ] as const;

/** The spec's v2 head formula (ITransparencyLedger.sol), computed off-chain. */
function nextHeadV2(previous: string, batchId: bigint, a: AnchorV2): string {
  return keccak256(
    abi.encode(
      [
        "bytes32",
        "uint64",
        "bytes32",
        "uint8",
        "uint32",
        "uint8",
        "uint128[6]",
        "bytes32",
        "bytes32",
      ],
      [previous, batchId, a.root, a.kind, a.period, 1, a.totals, a.manifestHash, a.vrfKeyId],
    ),
  );
}

async function deployFixture() {
  const [admin, anchorer, keyAdmin, outsider] = await ethers.getSigners();
  const ledger = typed(
    await ethers.deployContract("TransparencyLedger", [
      admin!.address,
      3 * 24 * 3600,
      [anchorer!.address],
      [],
      [admin!.address],
    ]),
    LEDGER_METHODS,
  );
  await ledger.grantRole(VRF_KEY_ROLE, keyAdmin!.address);
  return { ledger, admin: admin!, anchorer: anchorer!, keyAdmin: keyAdmin!, outsider: outsider! };
}

async function withKeyFixture() {
  const f = await deployFixture();
  await f.ledger.connect(f.keyAdmin).registerVrfKey(PK1);
  return f;
}

/** Batch 1 v1 premium 140307, batch 2 v2 premium 140307, batch 3 v1 pension 140308. */
async function mixedFixture() {
  const f = await withKeyFixture();
  const anchor = f.ledger.connect(f.anchorer);
  await anchor.anchorBatch(...v1Args(1));
  await anchor.anchorBatchV2(batchV2(2));
  await anchor.anchorBatch(...v1Args(3, PENSION, 140308));
  return f;
}

describe("TransparencyLedger (shafaf-tree/2)", function () {
  describe("registerVrfKey", function () {
    it("records the key as the current one and emits VrfKeyRegistered", async function () {
      const { ledger, keyAdmin } = await loadFixture(deployFixture);
      expect(await ledger.VRF_KEY_ROLE()).to.equal(VRF_KEY_ROLE);
      expect(await ledger.vrfKeyCount()).to.equal(0n);
      expect(await ledger.currentVrfKeyId()).to.equal(ZeroHash);
      await expect(ledger.connect(keyAdmin).registerVrfKey(PK1))
        .to.emit(ledger, "VrfKeyRegistered")
        .withArgs(keyIdOf(PK1), PK1, 0, keyAdmin.address);
      const tx = ledger.connect(keyAdmin).registerVrfKey(PK2);
      await expect(tx)
        .to.emit(ledger, "VrfKeyRegistered")
        .withArgs(keyIdOf(PK2), PK2, 1, keyAdmin.address);
      const block = await ethers.provider.getBlock("latest");
      expect(await ledger.vrfKeyCount()).to.equal(2n);
      expect(await ledger.vrfKeyIdAt(0)).to.equal(keyIdOf(PK1));
      expect(await ledger.vrfKeyIdAt(1)).to.equal(keyIdOf(PK2));
      expect(await ledger.currentVrfKeyId()).to.equal(keyIdOf(PK2));
      const key = await ledger.getVrfKey(keyIdOf(PK2));
      expect(key.publicKey).to.equal(PK2);
      expect(key.index).to.equal(1n);
      expect(key.registeredAt).to.equal(BigInt(block!.timestamp));
    });

    it("is VRF_KEY_ROLE's only (not even the admin's without the role)", async function () {
      const { ledger, admin, outsider } = await loadFixture(deployFixture);
      for (const who of [admin, outsider]) {
        await expect(ledger.connect(who).registerVrfKey(PK1))
          .to.be.revertedWithCustomError(ledger, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, VRF_KEY_ROLE);
      }
    });

    it("refuses the zero key and a key registered before", async function () {
      const { ledger, keyAdmin } = await loadFixture(withKeyFixture);
      await expect(ledger.connect(keyAdmin).registerVrfKey(ZeroHash)).to.be.revertedWithCustomError(
        ledger,
        "LedgerZeroVrfKey",
      );
      await expect(ledger.connect(keyAdmin).registerVrfKey(PK1))
        .to.be.revertedWithCustomError(ledger, "LedgerVrfKeyAlreadyRegistered")
        .withArgs(keyIdOf(PK1), 0);
    });

    it("works while paused (a rotation may be what ends a pause)", async function () {
      const { ledger, admin, keyAdmin } = await loadFixture(withKeyFixture);
      await ledger.connect(admin).pause();
      await expect(ledger.connect(keyAdmin).registerVrfKey(PK2)).to.emit(
        ledger,
        "VrfKeyRegistered",
      );
    });

    it("answers LedgerUnknownVrfKey for an unknown id or index", async function () {
      const { ledger } = await loadFixture(withKeyFixture);
      await expect(ledger.getVrfKey(keyIdOf(PK2)))
        .to.be.revertedWithCustomError(ledger, "LedgerUnknownVrfKey")
        .withArgs(keyIdOf(PK2));
      await expect(ledger.vrfKeyIdAt(1))
        .to.be.revertedWithCustomError(ledger, "LedgerUnknownVrfKey")
        .withArgs(ZeroHash);
    });
  });

  describe("anchorBatchV2", function () {
    it("stores every field, chains the head and emits BatchAnchoredV2", async function () {
      const { ledger, anchorer } = await loadFixture(withKeyFixture);
      const anchor = ledger.connect(anchorer);
      await anchor.anchorBatch(...v1Args(1));
      const head1 = await ledger.head();
      const b = batchV2(2, { kind: PENSION, totals: [5n, 4n, 820n, 8n, 800n, 2n] });
      const expectedHead = nextHeadV2(head1, 2n, b);
      await expect(anchor.anchorBatchV2(b))
        .to.emit(ledger, "BatchAnchoredV2")
        .withArgs(
          2n,
          b.root,
          b.period,
          b.kind,
          b.totals,
          b.manifestHash,
          0n,
          b.idempotencyKey,
          expectedHead,
          b.vrfKeyId,
          anchorer.address,
        );
      const block = await ethers.provider.getBlock("latest");
      expect(await ledger.head()).to.equal(expectedHead);
      expect(await ledger.batchCount()).to.equal(2n);
      expect(await ledger.schemeOf(1)).to.equal(V1);
      expect(await ledger.schemeOf(2)).to.equal(V2);
      expect(await ledger.batchIdOfRoot(b.root)).to.equal(2n);
      expect(await ledger.batchIdOfIdempotencyKey(b.idempotencyKey)).to.equal(2n);
      const got = await ledger.getBatchV2(2);
      expect(got.root).to.equal(b.root);
      expect(got.manifestHash).to.equal(b.manifestHash);
      expect(got.idempotencyKey).to.equal(b.idempotencyKey);
      expect(got.headAfter).to.equal(expectedHead);
      expect(got.vrfKeyId).to.equal(b.vrfKeyId);
      expect([...got.totals]).to.deep.equal(b.totals);
      expect(got.period).to.equal(BigInt(b.period));
      expect(got.kind).to.equal(BigInt(PENSION));
      expect(got.supersedes).to.equal(0n);
      expect(got.supersededBy).to.equal(0n);
      expect(got.anchorer).to.equal(anchorer.address);
      expect(got.anchoredAt).to.equal(BigInt(block!.timestamp));
      // A v1 batch after it chains from the v2 head.
      await anchor.anchorBatch(...v1Args(3));
      const v1 = await ledger.getBatch(3);
      const [root, kind, period, count, total, manifest] = v1Args(3);
      expect(v1.headAfter).to.equal(
        keccak256(
          abi.encode(
            ["bytes32", "uint64", "bytes32", "uint8", "uint32", "uint64", "uint128", "bytes32"],
            [expectedHead, 3n, root, kind, period, count, total, manifest],
          ),
        ),
      );
    });

    it("accepts lane values up to 2^128 − 1 and stores them exactly", async function () {
      const { ledger, anchorer } = await loadFixture(withKeyFixture);
      const max = (1n << 128n) - 1n;
      const b = batchV2(1, { kind: PENSION, totals: [max, max, max, max, max, max] });
      await ledger.connect(anchorer).anchorBatchV2(b);
      expect([...(await ledger.getBatchV2(1)).totals]).to.deep.equal(b.totals);
    });

    it("is ANCHORER_ROLE's only, and stops while paused", async function () {
      const { ledger, admin, outsider, anchorer } = await loadFixture(withKeyFixture);
      await expect(ledger.connect(outsider).anchorBatchV2(batchV2(1)))
        .to.be.revertedWithCustomError(ledger, "AccessControlUnauthorizedAccount")
        .withArgs(outsider.address, id("ANCHORER_ROLE"));
      await ledger.connect(admin).pause();
      await expect(
        ledger.connect(anchorer).anchorBatchV2(batchV2(1)),
      ).to.be.revertedWithCustomError(ledger, "LedgerEnforcedPause");
    });

    it("refuses bad input with a named error and its values", async function () {
      const { ledger, anchorer } = await loadFixture(withKeyFixture);
      const anchor = ledger.connect(anchorer);
      await expect(anchor.anchorBatchV2(batchV2(1, { period: 140313 })))
        .to.be.revertedWithCustomError(ledger, "LedgerInvalidPeriod")
        .withArgs(140313);
      await expect(
        anchor.anchorBatchV2(batchV2(1, { totals: [0n, 0n, 0n, 0n, 0n, 0n] })),
      ).to.be.revertedWithCustomError(ledger, "LedgerZeroRecordCount");
      await expect(anchor.anchorBatchV2(batchV2(1, { totals: [1n, 1n, 1n, 1n, 1n, 7n] })))
        .to.be.revertedWithCustomError(ledger, "LedgerUnusedLane")
        .withArgs(PREMIUM, 5, 7n);
      await expect(
        anchor.anchorBatchV2(batchV2(1, { root: ZeroHash })),
      ).to.be.revertedWithCustomError(ledger, "LedgerZeroRoot");
      await expect(
        anchor.anchorBatchV2(batchV2(1, { idempotencyKey: ZeroHash })),
      ).to.be.revertedWithCustomError(ledger, "LedgerZeroIdempotencyKey");
      await expect(anchor.anchorBatchV2(batchV2(1, { vrfKeyId: keyIdOf(PK2) })))
        .to.be.revertedWithCustomError(ledger, "LedgerUnknownVrfKey")
        .withArgs(keyIdOf(PK2));
    });

    it("shares root and idempotency uniqueness with v1 batches", async function () {
      const { ledger, anchorer } = await loadFixture(mixedFixture);
      const anchor = ledger.connect(anchorer);
      const [v1Root, , , , , , , v1Key] = v1Args(1);
      await expect(anchor.anchorBatchV2(batchV2(9, { idempotencyKey: v1Key })))
        .to.be.revertedWithCustomError(ledger, "LedgerDuplicateIdempotencyKey")
        .withArgs(v1Key, 1n);
      await expect(anchor.anchorBatchV2(batchV2(9, { root: v1Root })))
        .to.be.revertedWithCustomError(ledger, "LedgerDuplicateRoot")
        .withArgs(v1Root, 1n);
      await expect(anchor.anchorBatchV2(batchV2(2)))
        .to.be.revertedWithCustomError(ledger, "LedgerDuplicateIdempotencyKey")
        .withArgs(batchV2(2).idempotencyKey, 2n);
      await expect(anchor.anchorBatch(...v1Args(9).with(0, batchV2(2).root)))
        .to.be.revertedWithCustomError(ledger, "LedgerDuplicateRoot")
        .withArgs(batchV2(2).root, 2n);
    });

    it("corrects a v1 or a v2 batch of the same kind and period", async function () {
      const { ledger, anchorer } = await loadFixture(mixedFixture);
      const anchor = ledger.connect(anchorer);
      await expect(anchor.anchorBatchV2(batchV2(4, { supersedes: 1n })))
        .to.emit(ledger, "BatchSuperseded")
        .withArgs(1n, 4n);
      expect((await ledger.getBatch(1)).supersededBy).to.equal(4n);
      await expect(anchor.anchorBatchV2(batchV2(5, { supersedes: 2n })))
        .to.emit(ledger, "BatchSuperseded")
        .withArgs(2n, 5n);
      expect((await ledger.getBatchV2(2)).supersededBy).to.equal(5n);
      expect((await ledger.getBatchV2(5)).supersedes).to.equal(2n);
      await expect(anchor.anchorBatchV2(batchV2(6, { supersedes: 2n })))
        .to.be.revertedWithCustomError(ledger, "LedgerAlreadySuperseded")
        .withArgs(2n, 5n);
      await expect(anchor.anchorBatchV2(batchV2(6, { supersedes: 3n })))
        .to.be.revertedWithCustomError(ledger, "LedgerSupersedeMismatch")
        .withArgs(3n, PENSION, 140308);
      await expect(anchor.anchorBatchV2(batchV2(6, { supersedes: 9n })))
        .to.be.revertedWithCustomError(ledger, "LedgerUnknownBatch")
        .withArgs(9n);
    });

    it("does not let a v1 batch correct a v2 batch", async function () {
      const { ledger, anchorer } = await loadFixture(mixedFixture);
      await expect(ledger.connect(anchorer).anchorBatch(...v1Args(4, PREMIUM, 140307, 2n)))
        .to.be.revertedWithCustomError(ledger, "LedgerWrongScheme")
        .withArgs(2n, V2);
    });
  });

  describe("scheme separation", function () {
    it("v1 reads and verifyRecord(s) refuse a v2 batch, v2 reads refuse a v1 batch", async function () {
      const { ledger } = await loadFixture(mixedFixture);
      await expect(ledger.getBatch(2))
        .to.be.revertedWithCustomError(ledger, "LedgerWrongScheme")
        .withArgs(2n, V2);
      await expect(ledger.verifyRecord(2, ZeroHash, []))
        .to.be.revertedWithCustomError(ledger, "LedgerWrongScheme")
        .withArgs(2n, V2);
      await expect(ledger.verifyRecords(2, [ZeroHash], [], []))
        .to.be.revertedWithCustomError(ledger, "LedgerWrongScheme")
        .withArgs(2n, V2);
      await expect(ledger.getBatchV2(1))
        .to.be.revertedWithCustomError(ledger, "LedgerWrongScheme")
        .withArgs(1n, V1);
      const window = sumTreeProofCalldata(proofs[0]!.proof).windows[0]!;
      await expect(ledger.verifyInclusionV2(1, 1, 1, window))
        .to.be.revertedWithCustomError(ledger, "LedgerWrongScheme")
        .withArgs(1n, V1);
      await expect(ledger.verifyRangeV2(3, 1, 1, ZeroHash, [window]))
        .to.be.revertedWithCustomError(ledger, "LedgerWrongScheme")
        .withArgs(3n, V1);
      await expect(ledger.verifyAbsenceV2(1, 1, 1, ZeroHash, [window]))
        .to.be.revertedWithCustomError(ledger, "LedgerWrongScheme")
        .withArgs(1n, V1);
      for (const unknown of [0, 4]) {
        await expect(ledger.schemeOf(unknown))
          .to.be.revertedWithCustomError(ledger, "LedgerUnknownBatch")
          .withArgs(unknown);
        await expect(ledger.getBatchV2(unknown))
          .to.be.revertedWithCustomError(ledger, "LedgerUnknownBatch")
          .withArgs(unknown);
        await expect(ledger.verifyInclusionV2(unknown, 1, 1, window))
          .to.be.revertedWithCustomError(ledger, "LedgerUnknownBatch")
          .withArgs(unknown);
      }
    });
  });

  describe("verifyInclusionV2, verifyRangeV2, verifyAbsenceV2 — test/vectors/tree-v2.json", function () {
    /** Anchors the vector's trusted root with its trusted totals (else the proof's claimed ones). */
    async function anchoredFor(v: ProofVector, kind: 0 | 1) {
      const f = await loadFixture(withKeyFixture);
      const lanes = (v.trust.lanes ?? v.proof.root.lanes).map(BigInt);
      while (lanes.length < 6) lanes.push(0n);
      await f.ledger
        .connect(f.anchorer)
        .anchorBatchV2(batchV2(1, { root: v.trust.root, kind, totals: lanes as LaneTuple }));
      return f;
    }

    for (const v of proofs) {
      const label = `${v.tree} ${v.name}: ${v.valid ? "verifies" : `fails (${v.failedChecks.join(", ")})`}`;
      it(label, async function () {
        let c;
        try {
          c = sumTreeProofCalldata(v.proof);
        } catch (error) {
          // Only a proof that is malformed as JSON may be refused before the chain sees it.
          expect(error).to.be.instanceOf(SumTreeCalldataError);
          expect(v.valid).to.equal(false);
          expect(v.failedChecks.every((k) => k === "format" || k === "scheme")).to.equal(true);
          return;
        }
        const { ledger } = await anchoredFor(v, treeKind.get(v.tree)!);
        const ok =
          c.type === "inclusion"
            ? await ledger.verifyInclusionV2(1, c.batchSize, c.provinceCount, c.windows[0]!)
            : await ledger.getFunction(c.type === "range" ? "verifyRangeV2" : "verifyAbsenceV2")(
                1,
                c.batchSize,
                c.provinceCount,
                c.key!,
                c.windows,
              );
        expect(ok).to.equal(v.valid);
      });
    }

    it("every leaf of a random tree is provable, every key's range and absence too; another tree's proofs fail (property)", async function () {
      const PROVINCES = ["IR-00", "IR-07", "IR-23", "IR-30"];
      const record = fc.record({
        person: fc.integer({ min: 0, max: 12 }),
        province: fc.constantFrom(...PROVINCES),
        amounts: fc.tuple(
          fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
          fc.bigInt({ min: 0n, max: 31n }),
          fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        ),
      });
      const keyOf = (person: number) =>
        keccak256(AbiCoder.defaultAbiCoder().encode(["uint256"], [person]));
      const build = (recs: { person: number; province: string; amounts: bigint[] }[]): SumTree =>
        buildSumTree("premium", {
          keys: Buffer.concat(recs.map((r) => Buffer.from(keyOf(r.person).slice(2), "hex"))),
          commitments: randomBytes(32 * recs.length),
          provinces: recs.map((r) => r.province),
          amounts: new BigUint64Array(recs.flatMap((r) => r.amounts)),
        });
      await fc.assert(
        fc.asyncProperty(
          fc.array(record, { minLength: 1, maxLength: 24 }),
          fc.array(record, { minLength: 1, maxLength: 8 }),
          async (recs, otherRecs) => {
            const tree = build(recs);
            const other = build(otherRecs);
            const f = await loadFixture(withKeyFixture);
            await f.ledger
              .connect(f.anchorer)
              .anchorBatchV2(
                batchV2(1, { root: tree.root, totals: [...tree.lanes, 0n] as LaneTuple }),
              );
            const verify = async (proof: unknown): Promise<boolean> => {
              const c = sumTreeProofCalldata(proof);
              return c.type === "inclusion"
                ? ((await f.ledger.verifyInclusionV2(
                    1,
                    c.batchSize,
                    c.provinceCount,
                    c.windows[0]!,
                  )) as boolean)
                : ((await f.ledger.getFunction(
                    c.type === "range" ? "verifyRangeV2" : "verifyAbsenceV2",
                  )(1, c.batchSize, c.provinceCount, c.key!, c.windows)) as boolean);
            };
            for (let i = 0; i < tree.size; i++) {
              expect(await verify(tree.inclusionProof(i, 1)), `leaf ${i}`).to.equal(true);
            }
            for (let person = 0; person <= 13; person++) {
              const proof = tree.personProof(Buffer.from(keyOf(person).slice(2), "hex"), 1);
              expect(await verify(proof), `person ${person} (${proof.type})`).to.equal(true);
            }
            expect(await verify(other.inclusionProof(0, 1))).to.equal(false);
          },
        ),
        { numRuns: 12 },
      );
    });

    describe("every shape and width check fails a proof that is otherwise honest", function () {
      type Calldata = ReturnType<typeof sumTreeProofCalldata>;
      const premiumVector = (name: string) =>
        proofs.find((v) => v.tree === "premium-12" && v.name === name)!;
      const run = async (name: string, c: Calldata): Promise<boolean> => {
        const { ledger } = await anchoredFor(premiumVector(name), PREMIUM);
        return c.type === "inclusion"
          ? ((await ledger.verifyInclusionV2(
              1,
              c.batchSize,
              c.provinceCount,
              c.windows[0]!,
            )) as boolean)
          : ((await ledger.verifyRangeV2(
              1,
              c.batchSize,
              c.provinceCount,
              c.key!,
              c.windows,
            )) as boolean);
      };
      const ascii = (code: string) => "0x" + Buffer.from(code, "ascii").toString("hex");
      const cases: [string, string, (c: Calldata) => void][] = [
        [
          "provinceIndex out of order",
          "range-person-1",
          (c) => {
            c.windows[0]!.provinceIndex = 1;
            c.windows[1]!.provinceIndex = 0;
          },
        ],
        [
          "province codes not ascending",
          "range-person-1",
          (c) => {
            c.windows[1]!.province = c.windows[0]!.province;
          },
        ],
        [
          "a window without leaves",
          "range-person-1",
          (c) => {
            c.windows[2]!.leaves = [];
          },
        ],
        [
          "index past the subtree",
          "inclusion-1",
          (c) => {
            c.windows[0]!.index = c.windows[0]!.size;
          },
        ],
        [
          "provinceIndex past the province count",
          "inclusion-1",
          (c) => {
            c.windows[0]!.provinceIndex = c.provinceCount;
          },
        ],
        [
          "a trailing province sibling",
          "inclusion-1",
          (c) => {
            c.windows[0]!.provincePath.push(c.windows[0]!.provincePath[0]!);
          },
        ],
        [
          "a province code not starting IR-",
          "inclusion-1",
          (c) => {
            c.windows[0]!.province = ascii("XR-07");
          },
        ],
        [
          "a province code with a letter",
          "inclusion-1",
          (c) => {
            c.windows[0]!.province = ascii("IR-0A");
          },
        ],
        [
          "a premium leaf with lane 5 set",
          "inclusion-1",
          (c) => {
            c.windows[0]!.leaves[0]!.lanes[5] = 1n;
          },
        ],
        [
          "a leaf lane of 2^64",
          "inclusion-1",
          (c) => {
            c.windows[0]!.leaves[0]!.lanes[2] = 1n << 64n;
          },
        ],
        [
          "a leaf counting two records",
          "inclusion-1",
          (c) => {
            c.windows[0]!.leaves[0]!.lanes[0] = 2n;
          },
        ],
        [
          "a leaf counting two persons",
          "inclusion-1",
          (c) => {
            c.windows[0]!.leaves[0]!.lanes[1] = 2n;
          },
        ],
        [
          "a left sibling with a premium lane 5",
          "inclusion-1",
          (c) => {
            c.windows[0]!.path[0]!.lanes[5] = 1n;
          },
        ],
        [
          "a right sibling with a premium lane 5",
          "inclusion-0",
          (c) => {
            c.windows[0]!.path[0]!.lanes[5] = 1n;
          },
        ],
        [
          "a subtree claim with a premium lane 5",
          "inclusion-0",
          (c) => {
            c.windows[0]!.subtree.lanes[5] = 1n;
          },
        ],
      ];
      for (const [what, name, mutate] of cases) {
        it(what, async function () {
          const honest = sumTreeProofCalldata(premiumVector(name).proof);
          expect(await run(name, honest), "the honest proof").to.equal(true);
          const c = structuredClone(honest);
          mutate(c);
          expect(await run(name, c)).to.equal(false);
        });
      }
    });

    it("a valid range proof is not an absence proof, and the reverse", async function () {
      const range = proofs.find((v) => v.valid && v.proof.type === "range")!;
      const absence = proofs.find((v) => v.valid && v.proof.type === "absence")!;
      for (const [v, fn] of [
        [range, "verifyAbsenceV2"],
        [absence, "verifyRangeV2"],
      ] as const) {
        const c = sumTreeProofCalldata(v.proof);
        const { ledger } = await anchoredFor(v, treeKind.get(v.tree)!);
        expect(
          await ledger.getFunction(fn)(1, c.batchSize, c.provinceCount, c.key!, c.windows),
        ).to.equal(false);
      }
    });

    it("an inclusion window with two leaves fails", async function () {
      const v = proofs.find((p) => p.valid && p.proof.type === "range")!;
      const c = sumTreeProofCalldata(v.proof);
      const window = c.windows.find((w) => w.leaves.length > 1)!;
      const { ledger } = await anchoredFor(v, treeKind.get(v.tree)!);
      expect(await ledger.verifyInclusionV2(1, c.batchSize, c.provinceCount, window)).to.equal(
        false,
      );
    });

    it("a lane of 129 bits in calldata is refused by the ABI decoder (revert)", async function () {
      const v = proofs.find((p) => p.name === "corrupt-lane-above-128-bits")!;
      expect(v.valid).to.equal(false);
      const honest = proofs.find((p) => p.tree === v.tree && p.name === "inclusion-0")!;
      const c = sumTreeProofCalldata(honest.proof);
      const { ledger } = await anchoredFor(honest, treeKind.get(honest.tree)!);
      const wide = new Interface([
        `function verifyInclusionV2(uint64, uint64, uint32, ${SUM_TREE_WINDOW_TUPLE.replaceAll("uint128", "uint256")})`,
      ]);
      const window = structuredClone(c.windows[0]!);
      window.path[0]!.lanes[2] = 1n << 128n;
      // Encoded with uint256 lanes, sent with the real selector (same layout, wider values).
      const selector = ledger.interface.getFunction("verifyInclusionV2")!.selector;
      const encode = () =>
        selector +
        wide
          .encodeFunctionData("verifyInclusionV2", [1, c.batchSize, c.provinceCount, window])
          .slice(10);
      const data = encode();
      await expect(ethers.provider.call({ to: await ledger.getAddress(), data })).to.revert(ethers);
      // The same call with the lane in range is decoded, and answers.
      window.path[0]!.lanes[2] = c.windows[0]!.path[0]!.lanes[2];
      const fine = encode();
      expect(
        BigInt(await ethers.provider.call({ to: await ledger.getAddress(), data: fine })),
      ).to.equal(1n);
    });
  });
});

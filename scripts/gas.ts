/**
 * `npm run gas` (hardhat run scripts/gas.ts): the gas of the ledger's writes and verification,
 * measured on a fresh in-process Hardhat network. Figures are whole-transaction gas (21,000 base and
 * calldata included), as a finance system pays them. Exits 1 when `anchorBatch` or
 * `anchorBatchV2` reaches 200,000. The `shafaf-tree/2` verifiers are measured with proofs from a
 * premium batch of V2_RECORDS records in 31 provinces (the calldata sizes are printed).
 * The ledger log's checkpoints (`recordLogCheckpoint`) are measured on a second ledger whose batch
 * count is set to 1,000,000 in storage (anchoring a million batches would take hours; only the
 * bound `size <= batchCount` reads it), with real RFC 6962 proofs of a 1,000,000-entry log.
 */
import { network } from "hardhat";
import {
  AbiCoder,
  concat,
  getBytes,
  hexlify,
  id,
  keccak256,
  randomBytes,
  toQuantity,
} from "ethers";
import { buildSumTree } from "../src/core/build-sum-tree.ts";
import { sumTreeProofCalldata } from "../src/chain/sum-tree-calldata.ts";
import { createHash } from "node:crypto";
import { consistencyProof, inclusionProof, rootHash } from "../src/core/rfc6962.ts";

const ANCHOR_BUDGET = 200_000n;
const PROOF_DEPTH = 16;

const { ethers } = await network.create();
const [admin, anchorer, auditor, auditor2] = await ethers.getSigners();
const ledger = await ethers.deployContract("TransparencyLedger", [
  admin!.address,
  3 * 24 * 3600,
  [anchorer!.address],
  [auditor!.address, auditor2!.address],
  [admin!.address],
]);
const asAnchorer = ledger.connect(anchorer!);

let keyCounter = 0;
const random32 = (): string => hexlify(randomBytes(32));

async function gasOf(
  tx: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>,
): Promise<bigint> {
  const receipt = await (await tx).wait();
  return receipt!.gasUsed;
}

function anchor(root: string, supersedes = 0n, period = 140307): Promise<bigint> {
  keyCounter += 1;
  return gasOf(
    asAnchorer.getFunction("anchorBatch")(
      root,
      0,
      period,
      184_223n, // a realistic month of one province
      987_654_321_000_000n,
      random32(),
      supersedes,
      keccak256(AbiCoder.defaultAbiCoder().encode(["uint256"], [keyCounter])),
    ),
  );
}

/** Sorted-pair keccak, as OpenZeppelin MerkleProof. */
function hashPair(a: Uint8Array, b: Uint8Array): Uint8Array {
  return getBytes(keccak256(Buffer.compare(a, b) <= 0 ? concat([a, b]) : concat([b, a])));
}

const rows: [string, bigint][] = [];
rows.push(["anchorBatch (first batch)", await anchor(random32())]);
rows.push(["anchorBatch (later batch)", await anchor(random32())]);
rows.push(["anchorBatch (correcting, supersedes ≠ 0)", await anchor(random32(), 2n)]);
rows.push(["anchorBatch (correction of a correction)", await anchor(random32(), 3n)]);
rows.push([
  "attest (first verdict)",
  await gasOf(ledger.connect(auditor!).getFunction("attest")(1n, 1, random32())),
]);
rows.push([
  "attest (second auditor)",
  await gasOf(ledger.connect(auditor2!).getFunction("attest")(1n, 2, random32())),
]);
rows.push([
  "attest (replacing own verdict)",
  await gasOf(ledger.connect(auditor!).getFunction("attest")(1n, 2, random32())),
]);

// A 16-level proof: a leaf and 16 random siblings define the root that is anchored.
const leaf = getBytes(random32());
const proof = Array.from({ length: PROOF_DEPTH }, () => getBytes(random32()));
const root = proof.reduce(hashPair, leaf);
await anchor(hexlify(root), 0n, 140308);
const batchId = await ledger.getFunction("batchCount")();
const verify = ledger.getFunction("verifyRecord");
const ok = (await verify(
  batchId,
  hexlify(leaf),
  proof.map((p) => hexlify(p)),
)) as boolean;
if (!ok) throw new Error("the 16-level proof did not verify: the measurement is wrong");
rows.push([
  `verifyRecord (${PROOF_DEPTH}-level proof, eth_estimateGas)`,
  await verify.estimateGas(
    batchId,
    hexlify(leaf),
    proof.map((p) => hexlify(p)),
  ),
]);

// ─── shafaf-tree/2 ───
const V2_RECORDS = Number(process.env.GAS_V2_RECORDS ?? 1_000_000);
const PROVINCES = Array.from({ length: 31 }, (_, i) => `IR-${String(i).padStart(2, "0")}`);
await ledger.getFunction("grantRole")(id("VRF_KEY_ROLE"), admin!.address);
const vrfPublicKey = random32();
rows.push([
  "registerVrfKey",
  await gasOf(ledger.connect(admin!).getFunction("registerVrfKey")(vrfPublicKey)),
]);
const vrfKeyId = keccak256(vrfPublicKey);

function anchorV2(root: string, supersedes = 0n, period = 140309, kind = 0): Promise<bigint> {
  keyCounter += 1;
  return gasOf(
    asAnchorer.getFunction("anchorBatchV2")({
      root,
      kind,
      period,
      totals: [
        184_223n,
        180_001n,
        12_345_678_900_000n,
        5_000_000n,
        3_703_703_670_000n,
        kind === 0 ? 0n : 180_000n,
      ],
      manifestHash: random32(),
      supersedes,
      idempotencyKey: keccak256(AbiCoder.defaultAbiCoder().encode(["uint256"], [keyCounter])),
      vrfKeyId,
    }),
  );
}
rows.push(["anchorBatchV2 (a v2 batch)", await anchorV2(random32())]);
const firstV2 = await ledger.getFunction("batchCount")();
rows.push(["anchorBatchV2 (correcting a v2 batch)", await anchorV2(random32(), firstV2)]);
rows.push(["anchorBatchV2 (a pension batch, 6 lanes)", await anchorV2(random32(), 0n, 140309, 1)]);

// A premium batch of V2_RECORDS records, one person each, spread over 31 provinces.
const keys = randomBytes(V2_RECORDS * 32);
const commitments = randomBytes(V2_RECORDS * 32);
const amounts = new BigUint64Array(V2_RECORDS * 3);
for (let i = 0; i < V2_RECORDS; i++) amounts.set([71_661_840n, 31n, 21_498_552n], i * 3);
const tree = buildSumTree("premium", {
  keys,
  commitments,
  provinces: Array.from({ length: V2_RECORDS }, (_, i) => PROVINCES[i % PROVINCES.length]!),
  amounts,
});
keyCounter += 1;
await asAnchorer.getFunction("anchorBatchV2")({
  root: tree.root,
  kind: 0,
  period: 140310,
  totals: [...tree.lanes, 0n],
  manifestHash: random32(),
  supersedes: 0n,
  idempotencyKey: keccak256(AbiCoder.defaultAbiCoder().encode(["uint256"], [keyCounter])),
  vrfKeyId,
});
const v2Batch = await ledger.getFunction("batchCount")();
const selectorBytes = 4;
const inclusion = sumTreeProofCalldata(tree.inclusionProof(Math.floor(V2_RECORDS / 2), 0));
const inclusionArgs = [
  v2Batch,
  inclusion.batchSize,
  inclusion.provinceCount,
  inclusion.windows[0]!,
] as const;
if (!((await ledger.getFunction("verifyInclusionV2")(...inclusionArgs)) as boolean))
  throw new Error("the v2 inclusion proof did not verify: the measurement is wrong");
const w = inclusion.windows[0]!;
const inclusionBytes =
  (ledger.interface.encodeFunctionData("verifyInclusionV2", inclusionArgs).length - 2) / 2 -
  selectorBytes;
rows.push([
  `verifyInclusionV2 (${V2_RECORDS.toLocaleString("en-US")} records: ${w.path.length} + ${w.provincePath.length} siblings, ${inclusionBytes.toLocaleString("en-US")} B calldata, eth_estimateGas)`,
  await ledger.getFunction("verifyInclusionV2").estimateGas(...inclusionArgs),
]);
const absent = sumTreeProofCalldata(tree.personProof(randomBytes(32), 0));
if (absent.type !== "absence") throw new Error("a random key was in the batch");
const absenceArgs = [
  v2Batch,
  absent.batchSize,
  absent.provinceCount,
  absent.key!,
  absent.windows,
] as const;
if (!((await ledger.getFunction("verifyAbsenceV2")(...absenceArgs)) as boolean))
  throw new Error("the v2 absence proof did not verify: the measurement is wrong");
const absenceLeaves = absent.windows.reduce((n, x) => n + x.leaves.length, 0);
const absenceNodes = absent.windows.reduce((n, x) => n + x.path.length + x.provincePath.length, 0);
const absenceBytes =
  (ledger.interface.encodeFunctionData("verifyAbsenceV2", absenceArgs).length - 2) / 2 -
  selectorBytes;
rows.push([
  `verifyAbsenceV2 (same batch: ${absent.windows.length} windows, ${absenceLeaves} leaves, ${absenceNodes} siblings, ${absenceBytes.toLocaleString("en-US")} B calldata, eth_estimateGas)`,
  await ledger.getFunction("verifyAbsenceV2").estimateGas(...absenceArgs),
]);

// ── the ledger log's checkpoints ──
const LOG_ENTRIES = 1_000_000;
/** The complete-subtree hashes of a log of LOG_ENTRIES distinct entries, one flat buffer per level. */
const levels: Buffer[] = [];
{
  const sha = (...parts: Uint8Array[]) => {
    const h = createHash("sha256");
    for (const p of parts) h.update(p);
    return h.digest();
  };
  let level = Buffer.alloc(LOG_ENTRIES * 32);
  const entry = Buffer.alloc(8);
  for (let i = 0; i < LOG_ENTRIES; i++) {
    entry.writeBigUInt64BE(BigInt(i));
    sha(Buffer.of(0), entry).copy(level, i * 32);
  }
  levels.push(level);
  while (level.length >= 64) {
    const next = Buffer.alloc(Math.floor(level.length / 64) * 32);
    for (let i = 0; i * 64 + 64 <= level.length; i++)
      sha(Buffer.of(1), level.subarray(i * 64, i * 64 + 64)).copy(next, i * 32);
    levels.push(next);
    level = next;
  }
}
const logNode = (level: number, index: number): Uint8Array =>
  levels[level]!.subarray(index * 32, index * 32 + 32);
const logRoot = (size: number) => hexlify(rootHash(size, logNode));
const logLedger = await ethers.deployContract("TransparencyLedger", [
  admin!.address,
  0,
  [],
  [],
  [],
]);
await (await logLedger.getFunction("grantRole")(id("LOG_ROLE"), anchorer!.address)).wait();
// The slot that packs _batchCount (0), _pauseState (1: active) and _logSize (0) after the
// inherited AccessControlDefaultAdminRules slots: the one that reads exactly 1 << 64.
let SLOT: string | undefined;
for (let i = 0; i < 16 && SLOT === undefined; i++) {
  const value = BigInt(
    await ethers.provider.send("eth_getStorageAt", [logLedger.target, toQuantity(i)]),
  );
  if (value === 1n << 64n) SLOT = toQuantity(i);
}
if (SLOT === undefined) throw new Error("the ledger's batch count slot was not found");
await ethers.provider.send("hardhat_setStorageAt", [
  logLedger.target,
  SLOT,
  "0x" + ((1n << 64n) | BigInt(LOG_ENTRIES)).toString(16).padStart(64, "0"),
]);
if ((await logLedger.getFunction("batchCount")()) !== BigInt(LOG_ENTRIES))
  throw new Error("the batch count was not set: the measurement is wrong");
const asLogger = logLedger.connect(anchorer!);
const checkpoint = async (from: number, to: number): Promise<[string, bigint]> => {
  const proof = from === 0 ? [] : consistencyProof(from, to, logNode).map((h) => hexlify(h));
  const gas = await gasOf(asLogger.getFunction("recordLogCheckpoint")(to, logRoot(to), proof));
  const what =
    from === 0
      ? `first checkpoint, size ${to.toLocaleString("en-US")}`
      : `${from.toLocaleString("en-US")} → ${to.toLocaleString("en-US")} entries, ${proof.length}-hash proof`;
  return [`recordLogCheckpoint (${what})`, gas];
};
rows.push(await checkpoint(0, 999));
rows.push(await checkpoint(999, 1_000));
rows.push(await checkpoint(1_000, 999_999));
rows.push(await checkpoint(999_999, LOG_ENTRIES));
const entryIndex = 123_456;
const logInclusion = inclusionProof(entryIndex, LOG_ENTRIES, logNode).map((h) => hexlify(h));
const logLeaf = hexlify(logNode(0, entryIndex));
if (
  !((await logLedger.getFunction("verifyLogInclusion")(
    entryIndex,
    logLeaf,
    logInclusion,
  )) as boolean)
)
  throw new Error("the log inclusion proof did not verify: the measurement is wrong");
rows.push([
  `verifyLogInclusion (${LOG_ENTRIES.toLocaleString("en-US")} entries, ${logInclusion.length}-hash proof, eth_estimateGas)`,
  await logLedger.getFunction("verifyLogInclusion").estimateGas(entryIndex, logLeaf, logInclusion),
]);
rows.push([
  "setTrustPolicy (first)",
  await gasOf(logLedger.getFunction("setTrustPolicy")(random32())),
]);

const width = Math.max(...rows.map(([name]) => name.length));
process.stdout.write(`TransparencyLedger gas (transaction total, Hardhat in-process network)\n`);
for (const [name, gas] of rows) {
  process.stdout.write(`  ${name.padEnd(width)}  ${gas.toLocaleString("en-US").padStart(9)}\n`);
}
const anchors = rows.filter(([name]) => name.startsWith("anchorBatch"));
const over = anchors.filter(([, gas]) => gas >= ANCHOR_BUDGET);
if (over.length > 0) {
  process.stderr.write(
    `anchorBatch is over its ${ANCHOR_BUDGET.toLocaleString("en-US")} gas budget: ${over.map(([n]) => n).join(", ")}\n`,
  );
  process.exitCode = 1;
}

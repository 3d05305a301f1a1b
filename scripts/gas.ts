/**
 * `npm run gas` (hardhat run scripts/gas.ts): the gas of the ledger's writes and verification,
 * measured on a fresh in-process Hardhat network. Figures are whole-transaction gas (21,000 base and
 * calldata included), as a finance system pays them. Exits 1 when `anchorBatch` reaches 200,000.
 */
import { network } from "hardhat";
import { AbiCoder, concat, getBytes, hexlify, keccak256, randomBytes } from "ethers";

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

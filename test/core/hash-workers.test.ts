import { expect } from "chai";
import { createHashWorkers } from "../../src/anchor/hash-workers.ts";
import { bytesToHex, type Hex } from "../../src/core/hex.ts";
import { doubleKeccak256Many } from "../../src/core/keccak.ts";
import { leafHashes, type LeafValues } from "../../src/core/leaf.ts";

// Lives beside the core tests because it checks equality with core's single-threaded hashing.
describe("createHashWorkers (src/anchor/hash-workers.ts)", function () {
  it("hashes leaves on worker threads byte-identically to core's leafHashes, across chunks", async function () {
    const workers = await createHashWorkers({ threads: 2, chunk: 700 });
    try {
      const word = (i: number, k: number): Hex =>
        bytesToHex(Uint8Array.from({ length: 32 }, (_, j) => (i * 7 + k * 13 + j) & 0xff));
      const values: LeafValues[] = Array.from(
        { length: 5003 },
        (_, i) =>
          [
            word(i, 0),
            BigInt(i % 2),
            140307n,
            BigInt(i) * 10n ** 20n,
            word(i, 1),
            word(i, 2),
            word(i, 3),
          ] as const,
      );
      const ours = await workers.leafHashes(values);
      expect(bytesToHex(ours)).to.equal(bytesToHex(leafHashes(values)));
      const raw = Uint8Array.from({ length: 100 * 3000 }, (_, i) => (i * 31) & 0xff);
      expect(bytesToHex(await workers.doubleKeccak256Many(raw, 100))).to.equal(
        bytesToHex(doubleKeccak256Many(raw, 100)),
      );
      expect(await workers.leafHashes([])).to.have.length(0);
      await workers.doubleKeccak256Many(raw, 7).then(
        () => expect.fail("should reject"),
        (e: unknown) => expect(e).to.be.instanceOf(RangeError),
      );
    } finally {
      await workers.close();
    }
  });
  it("propagates a bad leaf as an error instead of hanging", async function () {
    const workers = await createHashWorkers({ threads: 1, chunk: 10 });
    try {
      const bad = [[`0x12`, 0n, 0n, 0n, `0x12`, `0x12`, `0x12`]] as unknown as LeafValues[];
      await workers.leafHashes(bad).then(
        () => expect.fail("should reject"),
        (e: unknown) => expect(e).to.be.instanceOf(RangeError),
      );
    } finally {
      await workers.close();
    }
  });
});

/**
 * CreateAddress.compute against ethers' getCreateAddress: the ledger finds batch n's data contract
 * at compute(ledger, n), so every nonce length (1 to 8 bytes) must agree.
 */
import { expect } from "chai";
import { network } from "hardhat";
import fc from "fast-check";
import { getAddress, getCreateAddress, hexlify } from "ethers";
import { typed } from "./typed-contract.ts";

const { ethers, networkHelpers } = await network.create();

async function harnessFixture() {
  return typed(await ethers.deployContract("CreateAddressHarness"), ["compute"]);
}

const EDGES = [
  0n,
  1n,
  0x7fn,
  0x80n,
  0xffn,
  0x100n,
  0xffffn,
  0x10000n,
  0xffffffn,
  0x1000000n,
  2n ** 32n - 1n,
  2n ** 32n,
  2n ** 56n - 1n,
  2n ** 56n,
  2n ** 64n - 1n,
];

describe("CreateAddress", function () {
  it("agrees with ethers at every nonce-length boundary", async function () {
    const harness = await networkHelpers.loadFixture(harnessFixture);
    const deployer = await harness.getAddress();
    for (const nonce of EDGES) {
      expect(await harness.compute(deployer, nonce), `nonce ${nonce}`).to.equal(
        getCreateAddress({ from: deployer, nonce }),
      );
    }
  });

  it("agrees with ethers for random deployers and nonces", async function () {
    const harness = await networkHelpers.loadFixture(harnessFixture);
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 20, maxLength: 20 }),
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        async (bytes, nonce) => {
          const deployer = getAddress(hexlify(bytes));
          expect(await harness.compute(deployer, nonce)).to.equal(
            getCreateAddress({ from: deployer, nonce }),
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});

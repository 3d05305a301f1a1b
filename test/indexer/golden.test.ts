/**
 * Pins the on-disk format `shafaf-index/1`: a scripted node serves a fixed history (anchors, a
 * correction, attestations, role changes, a pause), the indexer writes it, and every key and value
 * must equal test/golden/indexer/index-store-1.json. A second history mixes `shafaf-tree/2`
 * batches and VRF keys into v1 ones (index-store-1-v2.json): v2 events add views without
 * changing a byte of what v1 histories write. `UPDATE_GOLDEN=1` rewrites the files — only
 * together with a format version bump (or, for the v2 file, when it is first written).
 */
import { expect } from "chai";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { keccak256 } from "ethers";
import { tempStores } from "./ledger-fixture.ts";
import { A, H, indexScripted, ledgerHistory, type LedgerHistory } from "./scripted-history.ts";

const GOLDEN = path.resolve(import.meta.dirname, "../golden/indexer/index-store-1.json");
const GOLDEN_V2 = path.resolve(import.meta.dirname, "../golden/indexer/index-store-1-v2.json");
const LEDGER = "0x" + "5f".repeat(20);
const HEAD_BLOCK = 20;

/** Indexes `h` (served by a scripted QBFT node) into a fresh store and returns its dump. */
async function indexHistory(h: LedgerHistory, holders: string[]): Promise<Record<string, string>> {
  const stores = await tempStores();
  try {
    const store = await stores.open("golden");
    await indexScripted(h, store, {
      headBlock: HEAD_BLOCK,
      confirmations: 0,
      holders,
      validators: [A(0xe2), A(0xe1)],
    });
    return Object.fromEntries(await store.dump());
  } finally {
    await stores.cleanup();
  }
}

const history = () => ledgerHistory(LEDGER);

async function expectGolden(file: string, dump: Record<string, string>): Promise<void> {
  expect(dump["!meta!log"]).to.include('"status":"ok"');
  if (process.env.UPDATE_GOLDEN === "1") {
    await writeFile(file, JSON.stringify(dump, null, 1) + "\n");
  }
  const golden = JSON.parse(await readFile(file, "utf8")) as Record<string, string>;
  expect(dump).to.deep.equal(golden);
}

describe("index store format shafaf-index/1 (golden)", function () {
  it("writes exactly the golden keys and values for a fixed history", async function () {
    const h = await history();
    const { emit, anchorAt } = h;
    emit(2, "RoleGranted", [H("ANCHORER_ROLE"), A(0xa1), A(0xad)]);
    emit(2, "RoleGranted", [H("AUDITOR_ROLE"), A(0xb1), A(0xad)]);
    emit(2, "RoleGranted", [H("PAUSER_ROLE"), A(0xc1), A(0xad)]);
    anchorAt(4, 1, 0, 140307, 30, 9_000_000_000n, 0, {
      byProvince: {
        "IR-01": { count: 20, total: "6000000000" },
        "IR-23": { count: 10, total: "3000000000" },
      },
    });
    anchorAt(5, 2, 1, 140307, 25, 1_250_000_000_000n, 0, {
      byProvince: { "IR-05": { count: 25, total: "1250000000000" } },
      byCategory: {
        retirement: { count: 20, total: "1000000000000" },
        survivors: { count: 5, total: "250000000000" },
      },
      onTime: 24,
      late: 1,
    });
    anchorAt(7, 3, 0, 140307, 31, 9_100_000_000n, 1, {
      byProvince: {
        "IR-01": { count: 21, total: "6100000000" },
        "IR-23": { count: 10, total: "3000000000" },
      },
      reason: "late-rows",
    });
    anchorAt(9, 4, 0, 140308, 12, 400_000_000n, 0); // manifest not held
    emit(11, "BatchAttested", [2, A(0xb1), 1, 0, H("report 2")]);
    emit(12, "BatchAttested", [3, A(0xb1), 2, 0, H("report 3")]);
    emit(14, "RoleRevoked", [H("AUDITOR_ROLE"), A(0xb1), A(0xad)]);
    emit(15, "Paused", [A(0xc1)]);
    emit(16, "Unpaused", [A(0xad)]);

    const holders = [`${H("ANCHORER_ROLE")}!${A(0xa1)}`, `${H("PAUSER_ROLE")}!${A(0xc1)}`];
    await expectGolden(GOLDEN, await indexHistory(h, holders));
  });

  it("writes exactly the golden keys and values for a history mixing shafaf-tree/1 and /2", async function () {
    const h = await history();
    const { emit, anchorAt, anchorV2At } = h;
    const key0 = keccak256("0x" + "42".repeat(32));
    const key1 = keccak256("0x" + "43".repeat(32));
    emit(2, "RoleGranted", [H("ANCHORER_ROLE"), A(0xa1), A(0xad)]);
    emit(2, "RoleGranted", [H("VRF_KEY_ROLE"), A(0xd1), A(0xad)]);
    anchorAt(3, 1, 0, 140307, 30, 9_000_000_000n, 0, {
      byProvince: {
        "IR-01": { count: 20, total: "6000000000" },
        "IR-23": { count: 10, total: "3000000000" },
      },
    });
    emit(4, "VrfKeyRegistered", [key0, "0x" + "42".repeat(32), 0, A(0xd1)]);
    // a v2 premium batch corrects the v1 one (supersession across schemes)
    anchorV2At(5, 2, 0, 140307, [31n, 29n, 30_000_000_000n, 900n, 9_100_000_000n, 0n], 1, key0, {
      byProvince: {
        "IR-01": { count: 21, total: "6100000000" },
        "IR-23": { count: 10, total: "3000000000" },
      },
      reason: "late-rows",
    });
    // a small v2 pension batch (4 persons), manifest not held
    anchorV2At(6, 3, 1, 140307, [5n, 4n, 820_000_000n, 8_000_000n, 800_000_000n, 2n], 0, key0);
    emit(8, "VrfKeyRegistered", [key1, "0x" + "43".repeat(32), 1, A(0xd1)]);
    anchorAt(9, 4, 1, 140308, 12, 400_000_000n, 0);
    anchorV2At(10, 5, 0, 140308, [40n, 40n, 1_000_000n, 1_200n, 300_000n, 0n], 0, key1);
    emit(11, "BatchAttested", [2, A(0xb1), 1, 0, H("report 2")]);
    const holders = [`${H("ANCHORER_ROLE")}!${A(0xa1)}`, `${H("VRF_KEY_ROLE")}!${A(0xd1)}`];
    await expectGolden(GOLDEN_V2, await indexHistory(h, holders));
  });
});

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
const GOLDEN_PAGED = path.resolve(
  import.meta.dirname,
  "../golden/indexer/index-store-1-paged.json",
);
const LEDGER = "0x" + "5f".repeat(20);
const HEAD_BLOCK = 20;

/** Indexes `h` (served by a scripted QBFT node) into a fresh store and returns its dump. */
async function indexHistory(
  h: LedgerHistory,
  holders: string[],
  options: { headBlock?: number; blocksPerCommit?: number; reorgWindow?: number } = {},
): Promise<Record<string, string>> {
  const stores = await tempStores();
  try {
    const store = await stores.open("golden");
    await indexScripted(h, store, {
      headBlock: HEAD_BLOCK,
      confirmations: 0,
      holders,
      validators: [A(0xe2), A(0xe1)],
      ...options,
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

  it("writes exactly the golden keys and values when a long history is caught up in many ranges", async function () {
    // Several events per block, keys touched again in later blocks of the same range and in later
    // ranges, corrections of corrections, an auditor changing its verdict, v1 and v2 batches, a
    // pause, role changes; committed 10 blocks at a time with undo records for the last 9 blocks
    // only (so that a range holds blocks whose undo records are not kept before ones that are). Written by the indexer before its catch-up was made faster (per-range views held as
    // objects, undo records only where they are kept): the faster code must write the same bytes.
    const h = await history();
    const { emit, anchorAt, anchorV2At } = h;
    const key0 = keccak256("0x" + "42".repeat(32));
    const provinces = (n: number) => ({
      "IR-01": { count: 20 + n, total: String(6_000_000_000 + n) },
      "IR-23": { count: 10, total: "3000000000" },
    });
    emit(2, "RoleGranted", [H("ANCHORER_ROLE"), A(0xa1), A(0xad)]);
    emit(2, "RoleGranted", [H("AUDITOR_ROLE"), A(0xb1), A(0xad)]);
    emit(2, "RoleGranted", [H("AUDITOR_ROLE"), A(0xb2), A(0xad)]);
    emit(2, "RoleGranted", [H("PAUSER_ROLE"), A(0xc1), A(0xad)]);
    emit(2, "RoleGranted", [H("VRF_KEY_ROLE"), A(0xd1), A(0xad)]);
    anchorAt(3, 1, 0, 140307, 30, 9_000_000_000n, 0, {
      byProvince: provinces(0),
      people: 28,
      onTime: 25,
      late: 5,
    });
    anchorAt(3, 2, 1, 140307, 25, 1_250_000_000_000n, 0, {
      byProvince: { "IR-05": { count: 25, total: "1250000000000" } },
      byCategory: { retirement: { count: 25, total: "1250000000000" } },
    });
    emit(4, "VrfKeyRegistered", [key0, "0x" + "42".repeat(32), 0, A(0xd1)]);
    anchorAt(5, 3, 0, 140307, 31, 9_100_000_000n, 1, {
      byProvince: provinces(1),
      people: 29,
      reason: "late-rows",
    });
    emit(5, "BatchAttested", [2, A(0xb1), 1, 0, H("report 2")]);
    anchorV2At(6, 4, 0, 140308, [40n, 38n, 1_000_000n, 1_200n, 300_000n, 0n], 0, key0, {
      byProvince: provinces(2),
      people: 38,
    });
    emit(7, "BatchAttested", [2, A(0xb2), 2, 0, H("report 2b")]);
    emit(7, "BatchAttested", [3, A(0xb1), 1, 0, H("report 3")]);
    anchorAt(8, 5, 0, 140308, 12, 400_000_000n, 0); // manifest not held
    emit(9, "BatchAttested", [2, A(0xb1), 2, 1, H("report 2c")]);
    emit(9, "Paused", [A(0xc1)]);
    anchorV2At(10, 6, 0, 140308, [41n, 39n, 1_100_000n, 1_230n, 310_000n, 0n], 4, key0, {
      byProvince: provinces(3),
      people: 39,
    });
    emit(11, "Unpaused", [A(0xad)]);
    emit(11, "RoleRevoked", [H("AUDITOR_ROLE"), A(0xb2), A(0xad)]);
    anchorAt(13, 7, 0, 140307, 32, 9_200_000_000n, 3, { byProvince: provinces(4) });
    anchorAt(14, 8, 1, 140308, 5, 50_000_000n, 0, {
      byCategory: { survivors: { count: 5, total: "50000000" } },
    });
    emit(17, "BatchAttested", [7, A(0xb1), 1, 0, H("report 7")]);
    anchorAt(17, 9, 1, 140308, 6, 60_000_000n, 8, {
      byCategory: { survivors: { count: 6, total: "60000000" } },
    });
    anchorAt(21, 10, 0, 140309, 3, 3_000n, 0, { byProvince: provinces(5) });
    anchorAt(21, 11, 0, 140309, 4, 4_000n, 10, { byProvince: provinces(6) });
    emit(25, "BatchAttested", [11, A(0xb1), 1, 0, H("report 11")]);
    emit(30, "RoleGranted", [H("AUDITOR_ROLE"), A(0xb3), A(0xad)]);
    anchorAt(30, 12, 1, 140309, 7, 70_000n, 0);
    const holders = [
      `${H("ANCHORER_ROLE")}!${A(0xa1)}`,
      `${H("AUDITOR_ROLE")}!${A(0xb1)}`,
      `${H("AUDITOR_ROLE")}!${A(0xb3)}`,
      `${H("PAUSER_ROLE")}!${A(0xc1)}`,
      `${H("VRF_KEY_ROLE")}!${A(0xd1)}`,
    ];
    const paged = await indexHistory(h, holders, {
      headBlock: 32,
      blocksPerCommit: 10,
      reorgWindow: 9,
    });
    const blocks = (dump: Record<string, string>) =>
      Object.keys(dump).filter((k) => k.startsWith("!blocks!"));
    expect(blocks(paged)).to.deep.equal([
      "!blocks!0000000000000019",
      "!blocks!000000000000001e",
      "!blocks!0000000000000020",
    ]);
    await expectGolden(GOLDEN_PAGED, paged);
    // the views do not depend on how the catch-up was cut into ranges (undo records do)
    const views = (dump: Record<string, string>) =>
      Object.fromEntries(Object.entries(dump).filter(([k]) => !k.startsWith("!blocks!")));
    const whole = await indexHistory(h, holders, { headBlock: 32 });
    expect(blocks(whole)).to.have.length(17);
    expect(views(whole)).to.deep.equal(views(paged));
    const small = await indexHistory(h, holders, {
      headBlock: 32,
      blocksPerCommit: 3,
      reorgWindow: 2,
    });
    expect(views(small)).to.deep.equal(views(paged));
  });
});

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
import { AbiCoder, id, Interface, keccak256, toUtf8Bytes } from "ethers";
import { loadLedgerArtifact } from "../../src/chain/artifact.ts";
import { nextLogHead, nextLogHeadV2 } from "../../src/core/log-head.ts";
import { createRpc } from "../../src/chain/rpc.ts";
import { createIndexer } from "../../src/indexer/create-indexer.ts";
import { block, hash, startFakeNode } from "../chain/fake-node.ts";
import { tempStores } from "./ledger-fixture.ts";

const GOLDEN = path.resolve(import.meta.dirname, "../golden/indexer/index-store-1.json");
const GOLDEN_V2 = path.resolve(import.meta.dirname, "../golden/indexer/index-store-1-v2.json");
const LEDGER = "0x" + "5f".repeat(20);
const HEAD_BLOCK = 20;
const A = (n: number) => "0x" + n.toString(16).padStart(40, "0");
const H = (s: string) => keccak256(toUtf8Bytes(s));

/** A scripted ledger history: encoded logs, the head after them, manifests held. */
async function history() {
  const iface = new Interface((await loadLedgerArtifact()).abi);
  const manifests = new Map<string, Uint8Array>();
  const logs: Record<string, unknown>[] = [];
  const h = { head: "0x" + "00".repeat(32) };
  let logIndex = 0;
  const emit = (blockNumber: number, name: string, args: unknown[]) => {
    const { data, topics } = iface.encodeEventLog(iface.getEvent(name)!, args);
    logs.push({
      address: LEDGER,
      topics,
      data,
      blockNumber: "0x" + blockNumber.toString(16),
      blockHash: hash(blockNumber),
      transactionHash: H(`tx ${blockNumber} ${logIndex}`),
      transactionIndex: "0x0",
      logIndex: "0x" + (logIndex++).toString(16),
      removed: false,
    });
  };
  const manifestOf = (id: number, manifest?: object) => {
    const bytes = toUtf8Bytes(JSON.stringify(manifest ?? { id }));
    const manifestHash = keccak256(bytes);
    if (manifest !== undefined) manifests.set(manifestHash, bytes);
    return manifestHash;
  };
  const anchorAt = (
    blockNumber: number,
    id: number,
    kind: 0 | 1,
    period: number,
    count: number,
    total: bigint,
    supersedes: number,
    manifest?: object,
  ) => {
    const manifestHash = manifestOf(id, manifest);
    const root = H(`root ${id}`);
    h.head = nextLogHead(h.head, {
      batchId: id,
      root,
      kind,
      period,
      recordCount: count,
      totalAmount: total,
      manifestHash,
    });
    emit(blockNumber, "BatchAnchored", [
      id,
      root,
      period,
      kind,
      count,
      total,
      manifestHash,
      supersedes,
      H(`key ${id}`),
      h.head,
      A(0xa1),
    ]);
    if (supersedes !== 0) emit(blockNumber, "BatchSuperseded", [supersedes, id]);
  };
  const anchorV2At = (
    blockNumber: number,
    id: number,
    kind: 0 | 1,
    period: number,
    totals: bigint[],
    supersedes: number,
    vrfKeyId: string,
    manifest?: object,
  ) => {
    const manifestHash = manifestOf(id, manifest);
    const root = H(`root ${id}`);
    h.head = nextLogHeadV2(h.head, {
      batchId: id,
      root,
      kind,
      period,
      totals,
      manifestHash,
      vrfKeyId,
    });
    emit(blockNumber, "BatchAnchoredV2", [
      id,
      root,
      period,
      kind,
      totals,
      manifestHash,
      supersedes,
      H(`key ${id}`),
      h.head,
      vrfKeyId,
      A(0xa1),
    ]);
    if (supersedes !== 0) emit(blockNumber, "BatchSuperseded", [supersedes, id]);
  };
  return { logs, manifests, emit, anchorAt, anchorV2At, head: () => h.head };
}

/** Serves `logs` from a scripted node, indexes them into a fresh store and returns its dump. */
async function indexHistory(
  h: Awaited<ReturnType<typeof history>>,
  holders: string[],
): Promise<Record<string, string>> {
  const { logs, manifests } = h;
  const node = await startFakeNode(({ method, params }) => {
    switch (method) {
      case "eth_chainId":
        return { result: "0x7a69" };
      case "eth_blockNumber":
        return { result: "0x" + HEAD_BLOCK.toString(16) };
      case "eth_getBlockByNumber":
        return { result: block(Number(params[0])) };
      case "eth_getCode":
        return {
          result: params[1] === "latest" || Number(params[1]) >= 1 ? "0x6080" : "0x",
        };
      case "eth_getLogs": {
        const q = params[0] as { fromBlock: string; toBlock: string };
        return {
          result: logs.filter(
            (l) =>
              Number(l.blockNumber) >= Number(q.fromBlock) &&
              Number(l.blockNumber) <= Number(q.toBlock),
          ),
        };
      }
      case "eth_call": {
        // the contract's state after the history: head, roles (hasRole) and pause
        const data = (params[0] as { data: string }).data;
        const coder = AbiCoder.defaultAbiCoder();
        if (data.startsWith(id("hasRole(bytes32,address)").slice(0, 10))) {
          const [role, account] = coder.decode(["bytes32", "address"], "0x" + data.slice(10));
          const key = `${String(role)}!${String(account).toLowerCase()}`;
          return { result: coder.encode(["bool"], [holders.includes(key)]) };
        }
        if (data.startsWith(id("paused()").slice(0, 10)))
          return { result: coder.encode(["bool"], [false]) };
        return { result: coder.encode(["bytes32"], [h.head()]) };
      }
      case "qbft_getValidatorsByBlockNumber":
        return { result: [A(0xe2), A(0xe1)] };
      default:
        return { error: { code: -32601, message: `method ${method} not found` } };
    }
  });
  const stores = await tempStores();
  try {
    const store = await stores.open("golden");
    await createIndexer({
      rpc: createRpc({ url: node.url, retries: 0 }),
      store,
      address: LEDGER,
      confirmations: 0,
      manifestSource: (_id, hash) => manifests.get(hash),
    }).syncOnce();
    return Object.fromEntries(await store.dump());
  } finally {
    await stores.cleanup();
    await node.close();
  }
}

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

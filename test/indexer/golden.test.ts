/**
 * Pins the on-disk format `shafaf-index/1`: a scripted node serves a fixed history (anchors, a
 * correction, attestations, role changes, a pause), the indexer writes it, and every key and value
 * must equal test/golden/indexer/index-store-1.json. `UPDATE_GOLDEN=1` rewrites the file — only
 * together with a format version bump.
 */
import { expect } from "chai";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { AbiCoder, id, Interface, keccak256, toUtf8Bytes } from "ethers";
import { loadLedgerArtifact } from "../../src/chain/artifact.ts";
import { nextLogHead } from "../../src/core/log-head.ts";
import { createRpc } from "../../src/chain/rpc.ts";
import { createIndexer } from "../../src/indexer/create-indexer.ts";
import { block, hash, startFakeNode } from "../chain/fake-node.ts";
import { tempStores } from "./ledger-fixture.ts";

const GOLDEN = path.resolve(import.meta.dirname, "../golden/indexer/index-store-1.json");
const LEDGER = "0x" + "5f".repeat(20);
const HEAD_BLOCK = 20;
const A = (n: number) => "0x" + n.toString(16).padStart(40, "0");
const H = (s: string) => keccak256(toUtf8Bytes(s));

describe("index store format shafaf-index/1 (golden)", function () {
  it("writes exactly the golden keys and values for a fixed history", async function () {
    const iface = new Interface((await loadLedgerArtifact()).abi);
    const manifests = new Map<string, Uint8Array>();
    const logs: Record<string, unknown>[] = [];
    let head = "0x" + "00".repeat(32);
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
      const bytes = toUtf8Bytes(JSON.stringify(manifest ?? { id }));
      const manifestHash = keccak256(bytes);
      if (manifest !== undefined) manifests.set(manifestHash, bytes);
      const root = H(`root ${id}`);
      head = nextLogHead(head, {
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
        head,
        A(0xa1),
      ]);
      if (supersedes !== 0) emit(blockNumber, "BatchSuperseded", [supersedes, id]);
    };
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
            const holders = [`${H("ANCHORER_ROLE")}!${A(0xa1)}`, `${H("PAUSER_ROLE")}!${A(0xc1)}`];
            const key = `${String(role)}!${String(account).toLowerCase()}`;
            return { result: coder.encode(["bool"], [holders.includes(key)]) };
          }
          if (data.startsWith(id("paused()").slice(0, 10)))
            return { result: coder.encode(["bool"], [false]) };
          return { result: coder.encode(["bytes32"], [head]) };
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
        manifestSource: (_id, h) => manifests.get(h),
      }).syncOnce();
      const dump = Object.fromEntries(await store.dump());
      expect(dump["!meta!log"]).to.include('"status":"ok"');
      if (process.env.UPDATE_GOLDEN === "1") {
        await writeFile(GOLDEN, JSON.stringify(dump, null, 1) + "\n");
      }
      const golden = JSON.parse(await readFile(GOLDEN, "utf8")) as Record<string, string>;
      expect(dump).to.deep.equal(golden);
    } finally {
      await stores.cleanup();
      await node.close();
    }
  });
});

/**
 * Typed reads of the ledger contract over `eth_call`, at any block, with the contract's custom
 * errors decoded. The ABI is src/core/ledger-abi.ts, generated from the compiled contract
 * (`npm run abi`), so that reading the chain needs no build artifacts at run time.
 */
import { Interface, type Result } from "ethers";
import { LEDGER_ABI } from "../core/ledger-abi.ts";
import {
  ChainDataError,
  ChainMismatchError,
  RpcResponseError,
  ShafafError,
  type RpcTransportError,
} from "./errors.ts";
import { decodeLedgerLog, type LedgerEvent } from "./ledger-events.ts";
import type { RawLog } from "./get-logs.ts";
import { requestAll, toQuantity, type Rpc } from "./rpc.ts";
import { SumTreeCalldataError, sumTreeProofCalldata } from "./sum-tree-calldata.ts";

const ledgerInterface = new Interface(LEDGER_ABI);

/** A batch as `getBatch` returns it. */
export interface OnChainBatch {
  batchId: number;
  root: string;
  manifestHash: string;
  idempotencyKey: string;
  headAfter: string;
  totalAmount: bigint;
  recordCount: number;
  period: number;
  kind: 0 | 1;
  supersedes: number;
  supersededBy: number;
  anchorer: string;
  anchoredAt: number;
}

/** A `shafaf-tree/2` batch as `getBatchV2` returns it. */
export interface LedgerBatchV2 {
  batchId: number;
  root: string;
  manifestHash: string;
  idempotencyKey: string;
  headAfter: string;
  /** keccak256 of the VRF public key the batch's person keys derive from. */
  vrfKeyId: string;
  /** The root's six lanes (tree-v2.md §4; a premium batch's lane 5 is 0). */
  totals: bigint[];
  period: number;
  kind: 0 | 1;
  supersedes: number;
  supersededBy: number;
  anchorer: string;
  anchoredAt: number;
}

/** A registered VRF public key. */
/** A batch with its scheme: what `readBatch` returns. */
export type AnyLedgerBatch =
  | { scheme: "standard-v1"; batch: OnChainBatch }
  | { scheme: "shafaf-tree/2"; batch: LedgerBatchV2 };

export interface OnChainVrfKey {
  keyId: string;
  /** 32 bytes, 0x-hex (RFC 8032 encoding). */
  publicKey: string;
  index: number;
  registeredAt: number;
}

/** The tree scheme of a batch: the contract's `Scheme` enum. */
export type BatchScheme = "standard-v1" | "shafaf-tree/2";

/** A block to read at: a number, or a tag (`latest` is final under QBFT). */
export type BlockTag = number | "latest" | "finalized" | "safe";

export interface LedgerClient {
  readonly address: string;
  batchCount(at?: BlockTag): Promise<number>;
  head(at?: BlockTag): Promise<string>;
  paused(at?: BlockTag): Promise<boolean>;
  /** @throws ContractRevertError `LedgerUnknownBatch` for an id outside 1..batchCount(). */
  getBatch(batchId: number, at?: BlockTag): Promise<OnChainBatch>;
  batchIdOfRoot(root: string, at?: BlockTag): Promise<number>;
  /** @throws ContractRevertError `LedgerUnknownBatch`, or `LedgerWrongScheme` for a v1 batch. */
  getBatchV2(batchId: number, at?: BlockTag): Promise<LedgerBatchV2>;
  /**
   * A batch of either scheme: `schemeOf`, then `getBatch` or `getBatchV2` at the same block.
   * @throws ContractRevertError `LedgerUnknownBatch` for an id outside 1..batchCount().
   */
  readBatch(batchId: number, at?: BlockTag): Promise<AnyLedgerBatch>;
  /** @throws ContractRevertError `LedgerUnknownBatch`. */
  schemeOf(batchId: number, at?: BlockTag): Promise<BatchScheme>;
  /** Every registered VRF key, oldest first (the last is the current key). */
  vrfKeys(at?: BlockTag): Promise<OnChainVrfKey[]>;
  /** @throws ContractRevertError `LedgerUnknownVrfKey`. */
  getVrfKey(keyId: string, at?: BlockTag): Promise<OnChainVrfKey>;
  /**
   * Runs the contract's verifier of a `shafaf-tree/2` proof (JSON, tree-v2.md §7) against
   * anchored batch `batchId`'s root and totals: `verifyInclusionV2`, `verifyRangeV2` or
   * `verifyAbsenceV2` after the proof's `type`. True when the proof verifies.
   * @throws SumTreeCalldataError for a malformed proof; ContractRevertError `LedgerUnknownBatch`
   * or `LedgerWrongScheme`.
   */
  verifyProofV2(batchId: number, proof: unknown, at?: BlockTag): Promise<boolean>;
  /** verifyProofV2 for an inclusion proof only (SumTreeCalldataError for another type). */
  verifyInclusionV2(batchId: number, proof: unknown, at?: BlockTag): Promise<boolean>;
  /** verifyProofV2 for an absence proof only (SumTreeCalldataError for another type). */
  verifyAbsenceV2(batchId: number, proof: unknown, at?: BlockTag): Promise<boolean>;
  attestationOf(
    batchId: number,
    auditor: string,
    at?: BlockTag,
  ): Promise<{ verdict: 0 | 1 | 2; reportHash: string }>;
  attestationCounts(
    batchId: number,
    at?: BlockTag,
  ): Promise<{ confirmations: number; disputes: number }>;
  hasRole(role: string, account: string, at?: BlockTag): Promise<boolean>;
  /** `hasRole` for each pair, at one block, in one JSON-RPC batch when the client sends them. */
  hasRoles(pairs: readonly { role: string; account: string }[], at?: BlockTag): Promise<boolean[]>;
  /** The ledger log's latest recorded checkpoint; `{ size: 0, root: 0x00…00 }` before the first. */
  logCheckpoint(at?: BlockTag): Promise<{ size: number; root: string }>;
  /** The SHA-256 of the trust-policy file governance recorded; 0x00…00 before the first. */
  trustPolicy(at?: BlockTag): Promise<string>;
  /** Throws {@link ChainMismatchError} when there is no contract code at the address at `at`. */
  assertDeployed(at?: BlockTag): Promise<void>;
  /** See {@link decodeLedgerLog}. */
  decodeLog(log: RawLog): LedgerEvent | undefined;
}

/** The contract reverted; `errorName` and `args` when the error is one of the ledger's. */
export class ContractRevertError extends ShafafError {
  override name = "ContractRevertError";
  readonly errorName: string | undefined;
  readonly args: readonly unknown[];
  constructor(
    method: string,
    errorName: string | undefined,
    args: readonly unknown[],
    data: string,
  ) {
    super(
      errorName === undefined
        ? `${method} reverted (data ${data.slice(0, 74)})`
        : `${method} reverted with ${errorName}(${args.map(String).join(", ")})`,
      { code: "chain.contract.revert" },
    );
    this.errorName = errorName;
    this.args = args;
  }
}

/** What the reads of a {@link LedgerClient} throw: the node unreachable (retryable), its answer an error or malformed, another chain, or the contract's own revert. */
export type LedgerReadErrorType =
  RpcTransportError | RpcResponseError | ChainDataError | ChainMismatchError | ContractRevertError;

/**
 * @example
 * const ledger = createLedgerClient({ rpc, address: "0x5FbDB2315678afecb367f032d93F642f64180aa3" });
 * const n = await ledger.batchCount();
 * const batch = await ledger.getBatch(n);
 */
export function createLedgerClient(options: { rpc: Rpc; address: string }): LedgerClient {
  const { rpc } = options;
  if (!/^0x[0-9a-fA-F]{40}$/.test(options.address)) {
    throw new ShafafError(`not a contract address: ${JSON.stringify(options.address)}`, {
      details: "Give the ledger's address as 0x followed by 40 hex digits (--contract).",
      code: "chain.address",
    });
  }
  const address = options.address.toLowerCase();

  async function call(
    method: string,
    args: readonly unknown[],
    at: BlockTag = "latest",
  ): Promise<Result> {
    const data = ledgerInterface.encodeFunctionData(method, args);
    let raw: unknown;
    try {
      raw = await rpc.request("eth_call", [
        { to: address, data },
        typeof at === "number" ? toQuantity(at) : at,
      ]);
    } catch (error) {
      const revert = revertData(error);
      if (revert !== undefined) throw decodeRevert(method, revert);
      throw error;
    }
    return decodeResult(method, raw);
  }

  /** `call` of `method` with each of `argsList`, at one block, as one batch (`requestAll`). */
  async function callMany(
    method: string,
    argsList: readonly (readonly unknown[])[],
    at: BlockTag = "latest",
  ): Promise<Result[]> {
    const tag = typeof at === "number" ? toQuantity(at) : at;
    let raws: unknown[];
    try {
      raws = await requestAll(
        rpc,
        argsList.map((args) => ({
          method: "eth_call",
          params: [{ to: address, data: ledgerInterface.encodeFunctionData(method, args) }, tag],
        })),
      );
    } catch (error) {
      const revert = revertData(error);
      if (revert !== undefined) throw decodeRevert(method, revert);
      throw error;
    }
    return raws.map((raw) => decodeResult(method, raw));
  }

  function decodeResult(method: string, raw: unknown): Result {
    if (typeof raw !== "string" || !/^0x([0-9a-fA-F]{2})*$/.test(raw)) {
      throw new ChainDataError(`eth_call ${method} returned ${JSON.stringify(raw)?.slice(0, 80)}`);
    }
    if (raw === "0x") {
      throw new ChainMismatchError(
        `${method} returned nothing: is ${address} the ledger contract?`,
        {
          details:
            "Check --contract, and that the node serves the chain the ledger was deployed on.",
          code: "chain.contract.missing",
        },
      );
    }
    try {
      return ledgerInterface.decodeFunctionResult(method, raw);
    } catch (error) {
      throw new ChainDataError(`cannot decode ${method}'s answer: is ${address} the ledger?`, {
        cause: error,
      });
    }
  }

  const client: LedgerClient = {
    address,
    async batchCount(at) {
      return Number((await call("batchCount", [], at))[0] as bigint);
    },
    async head(at) {
      return ((await call("head", [], at))[0] as string).toLowerCase();
    },
    async paused(at) {
      return (await call("paused", [], at))[0] as boolean;
    },
    async getBatch(batchId, at) {
      const b = (await call("getBatch", [batchId], at))[0] as Result;
      return {
        batchId,
        root: (b[0] as string).toLowerCase(),
        manifestHash: (b[1] as string).toLowerCase(),
        idempotencyKey: (b[2] as string).toLowerCase(),
        headAfter: (b[3] as string).toLowerCase(),
        totalAmount: b[4] as bigint,
        recordCount: Number(b[5] as bigint),
        period: Number(b[6] as bigint),
        kind: Number(b[7] as bigint) as 0 | 1,
        supersedes: Number(b[8] as bigint),
        supersededBy: Number(b[9] as bigint),
        anchorer: (b[10] as string).toLowerCase(),
        anchoredAt: Number(b[11] as bigint),
      };
    },
    async batchIdOfRoot(root, at) {
      return Number((await call("batchIdOfRoot", [root], at))[0] as bigint);
    },
    async getBatchV2(batchId, at) {
      const b = (await call("getBatchV2", [batchId], at))[0] as Result;
      return {
        batchId,
        root: (b[0] as string).toLowerCase(),
        manifestHash: (b[1] as string).toLowerCase(),
        idempotencyKey: (b[2] as string).toLowerCase(),
        headAfter: (b[3] as string).toLowerCase(),
        vrfKeyId: (b[4] as string).toLowerCase(),
        totals: [...(b[5] as Result)].map((v) => v as bigint),
        period: Number(b[6] as bigint),
        kind: Number(b[7] as bigint) as 0 | 1,
        supersedes: Number(b[8] as bigint),
        supersededBy: Number(b[9] as bigint),
        anchorer: (b[10] as string).toLowerCase(),
        anchoredAt: Number(b[11] as bigint),
      };
    },
    async readBatch(batchId, at) {
      return (await client.schemeOf(batchId, at)) === "shafaf-tree/2"
        ? { scheme: "shafaf-tree/2", batch: await client.getBatchV2(batchId, at) }
        : { scheme: "standard-v1", batch: await client.getBatch(batchId, at) };
    },
    async schemeOf(batchId, at) {
      const s = Number((await call("schemeOf", [batchId], at))[0] as bigint);
      if (s === 0) return "standard-v1";
      if (s === 1) return "shafaf-tree/2";
      throw new ChainDataError(`schemeOf(${batchId}) answered ${s}, which no scheme has`);
    },
    async logCheckpoint(at) {
      const r = await call("logCheckpoint", [], at);
      return { size: Number(r[0] as bigint), root: (r[1] as string).toLowerCase() };
    },
    async trustPolicy(at) {
      return ((await call("trustPolicy", [], at))[0] as string).toLowerCase();
    },
    async vrfKeys(at) {
      const count = Number((await call("vrfKeyCount", [], at))[0] as bigint);
      const keys: OnChainVrfKey[] = [];
      for (let i = 0; i < count; i++) {
        const keyId = ((await call("vrfKeyIdAt", [i], at))[0] as string).toLowerCase();
        keys.push(await this.getVrfKey(keyId, at));
      }
      return keys;
    },
    async getVrfKey(keyId, at) {
      const k = (await call("getVrfKey", [keyId], at))[0] as Result;
      return {
        keyId: keyId.toLowerCase(),
        publicKey: (k[0] as string).toLowerCase(),
        index: Number(k[1] as bigint),
        registeredAt: Number(k[2] as bigint),
      };
    },
    async verifyProofV2(batchId, proof, at) {
      const c = sumTreeProofCalldata(proof);
      const r =
        c.type === "inclusion"
          ? await call(
              "verifyInclusionV2",
              [batchId, c.batchSize, c.provinceCount, c.windows[0]],
              at,
            )
          : await call(
              c.type === "range" ? "verifyRangeV2" : "verifyAbsenceV2",
              [batchId, c.batchSize, c.provinceCount, c.key, c.windows],
              at,
            );
      return r[0] as boolean;
    },
    async verifyInclusionV2(batchId, proof, at) {
      expectType(proof, "inclusion");
      return this.verifyProofV2(batchId, proof, at);
    },
    async verifyAbsenceV2(batchId, proof, at) {
      expectType(proof, "absence");
      return this.verifyProofV2(batchId, proof, at);
    },
    async attestationOf(batchId, auditor, at) {
      const r = await call("attestationOf", [batchId, auditor], at);
      return {
        verdict: Number(r[0] as bigint) as 0 | 1 | 2,
        reportHash: (r[1] as string).toLowerCase(),
      };
    },
    async attestationCounts(batchId, at) {
      const r = await call("attestationCounts", [batchId], at);
      return { confirmations: Number(r[0] as bigint), disputes: Number(r[1] as bigint) };
    },
    async hasRole(role, account, at) {
      return (await call("hasRole", [role, account], at))[0] as boolean;
    },
    async hasRoles(pairs, at) {
      const results = await callMany(
        "hasRole",
        pairs.map((p) => [p.role, p.account]),
        at,
      );
      return results.map((r) => r[0] as boolean);
    },
    async assertDeployed(at = "latest") {
      const code = await rpc.request<string>("eth_getCode", [
        address,
        typeof at === "number" ? toQuantity(at) : at,
      ]);
      if (code === "0x" || code === "" || code === null) {
        throw new ChainMismatchError(`there is no contract at ${address} (block ${String(at)})`, {
          details:
            "The address is wrong, the node serves another chain, or the chain was reset. Check --contract and --rpc; after a chain reset, deploy again and run with --reindex.",
          code: "chain.contract.missing",
        });
      }
    },
    decodeLog: decodeLedgerLog,
  };
  return client;
}

function expectType(proof: unknown, type: "inclusion" | "absence"): void {
  const actual = sumTreeProofCalldata(proof).type;
  if (actual !== type) throw new SumTreeCalldataError("type", `is ${actual}, not ${type}`);
}

/** The revert data carried by a node's eth_call error (Hardhat, Geth, Besu all put it in `data`). */
function revertData(error: unknown): string | undefined {
  if (!(error instanceof RpcResponseError)) return undefined;
  const d = error.data;
  const hex =
    typeof d === "string"
      ? d
      : typeof d === "object" && d !== null
        ? (d as { data?: unknown }).data
        : undefined;
  if (typeof hex === "string" && /^0x([0-9a-fA-F]{2})*$/.test(hex)) return hex;
  if (/revert/i.test(error.shortMessage)) return "0x";
  return undefined;
}

function decodeRevert(method: string, data: string): ContractRevertError {
  try {
    const parsed = ledgerInterface.parseError(data);
    if (parsed !== null)
      return new ContractRevertError(method, parsed.name, [...parsed.args], data);
  } catch {
    // not one of ours: fall through
  }
  return new ContractRevertError(method, undefined, [], data);
}

/**
 * The pipeline's view of the ledger contract: the few calls that anchoring needs, with
 * crash-safe sending (sign first, persist the signed bytes, then broadcast; re-broadcasting the
 * same bytes is harmless) and the contract's custom errors decoded into readable failures.
 */
import {
  Contract,
  Interface,
  keccak256,
  type HDNodeWallet,
  type JsonRpcProvider,
  type Wallet,
} from "ethers";
import { ShafafError } from "../core/errors.ts";
import { recordKindOfNumber } from "../core/kinds/record-kinds.ts";
import { SUM_TREE_LANES } from "../core/sum-tree-lanes.ts";
import { LEDGER_ABI } from "../core/ledger-abi.ts";
import { decodeContractError, explainChainError, findRevertData } from "../chain/explain-error.ts";

/** The ledger's interface (the generated ABI, src/core/ledger-abi.ts) for encoding and decoding. */
export const ledgerAnchorInterface = new Interface(LEDGER_ABI);

export interface AnchorArgs {
  root: string;
  kind: number;
  period: number;
  recordCount: number;
  totalAmount: bigint;
  manifestHash: string;
  supersedes: number;
  idempotencyKey: string;
}

/** anchorBatchV2's argument (ITransparencyLedger.AnchorV2): a `shafaf-tree/2` batch. */
export interface AnchorV2Args {
  root: string;
  kind: number;
  period: number;
  /** The root's lanes (docs/spec/tree-v2.md §4): 5 for premium, 6 for pension. */
  totals: readonly bigint[];
  manifestHash: string;
  supersedes: number;
  idempotencyKey: string;
  /** keccak256 of the registered VRF public key the batch's person keys derive from. */
  vrfKeyId: string;
}

export interface MinedAnchor {
  batchId: number;
  txHash: string;
  blockNumber: number;
  blockHash: string;
  /** Block timestamp, unix seconds. */
  anchoredAt: number;
  root: string;
  manifestHash: string;
  idempotencyKey: string;
}

/** Advice for the contract errors anchoring can meet (the generic advice is in explain-error.ts). */
const HINTS: Record<string, string> = {
  LedgerDuplicateRoot: "this exact tree was already anchored",
  LedgerUnknownBatch: "--supersedes names a batch that does not exist on this contract",
  LedgerSupersedeMismatch: "a correction must have the kind and period of the batch it supersedes",
  LedgerAlreadySuperseded: "that batch was already corrected; supersede the newer batch instead",
  AccessControlUnauthorizedAccount:
    "the signing account lacks ANCHORER_ROLE; grant it (shafaf deploy --anchorer ADDR, or shafaf roles)",
  EnforcedPause: "the ledger is paused; anchoring resumes when governance unpauses it",
  LedgerEnforcedPause: "the ledger is paused; anchoring resumes when governance unpauses it",
  LedgerInvalidPeriod: "the period must be YYYYMM with year >= 1300",
  LedgerWrongScheme: "a standard-v1 batch cannot correct a shafaf-tree/2 batch",
  LedgerUnknownVrfKey:
    "the batch names a VRF key that is not registered on this contract; register it (shafaf keys register-vrf)",
  LedgerUnusedLane: "a premium batch has 5 lanes: its lane 5 must be 0",
};

/** The decoded contract error inside `error`, if there is one. */
export function decodeLedgerError(error: unknown): { name: string; args: unknown[] } | undefined {
  const data = findRevertData(error);
  return data === undefined ? undefined : decodeContractError(data);
}

/** A JSON-RPC request function (a provider's `send`). */
export type RpcSend = (method: string, params: unknown[]) => Promise<unknown>;

export type StoredTxStatus =
  | { status: "mined"; blockNumber: number; succeeded: boolean }
  | { status: "pending" }
  /** Neither mined nor in this node's pool: refused when sent (e.g. no gas money) or dropped. */
  | { status: "unknown" };

/**
 * Where the transaction `txHash` is, as the node at `send` sees it.
 *
 * @example
 * await readTransactionStatus((m, p) => provider.send(m, p), "0x…") // { status: "unknown" }
 */
export async function readTransactionStatus(
  send: RpcSend,
  txHash: string,
): Promise<StoredTxStatus> {
  const receipt = (await send("eth_getTransactionReceipt", [txHash])) as {
    status: string;
    blockNumber: string;
  } | null;
  if (receipt !== null) {
    return {
      status: "mined",
      blockNumber: Number(BigInt(receipt.blockNumber)),
      succeeded: BigInt(receipt.status) === 1n,
    };
  }
  const tx = await send("eth_getTransactionByHash", [txHash]);
  return tx === null ? { status: "unknown" } : { status: "pending" };
}

export interface AnchorChain {
  readonly chainId: number;
  /** The contract address, checksummed. */
  readonly contract: string;
  readonly account: string;
  /** The hash of the node's block 0: which history of the chain this is. */
  genesisHash(): Promise<string>;
  batchIdOfIdempotencyKey(key: string): Promise<number>;
  /**
   * Estimates and signs `anchorBatch(args)` without sending it. A revert during estimation throws
   * `LedgerRevertError` — except `LedgerDuplicateIdempotencyKey`, returned as `{ existing }`.
   */
  signAnchor(args: AnchorArgs): Promise<{ rawTx: string; txHash: string } | { existing: number }>;
  /** signAnchor for a `shafaf-tree/2` batch (`anchorBatchV2`); same results and errors. */
  signAnchorV2(
    args: AnchorV2Args,
  ): Promise<{ rawTx: string; txHash: string } | { existing: number }>;
  /** Sends signed bytes. Resolves "sent" or "known" (already in the pool or mined); "stale" when its nonce was used by another transaction. */
  broadcast(rawTx: string, txHash: string): Promise<"sent" | "known" | "stale">;
  /**
   * Waits until `txHash` has `confirmations` blocks (1 = mined). Returns undefined when the node
   * no longer knows the transaction (dropped). Throws LedgerRevertError-free `ShafafError` on a revert.
   */
  waitForAnchor(
    txHash: string,
    confirmations: number,
    options?: { timeoutMs?: number; onWait?: (mined: boolean) => void },
  ): Promise<MinedAnchor | { reverted: true } | undefined>;
  /** The BatchAnchored or BatchAnchoredV2 event of `batchId` (its transaction and block). */
  findAnchor(batchId: number): Promise<MinedAnchor>;
  /** True when the ledger has recorded the VRF key `keyId` (keccak256 of its public key). */
  isVrfKeyRegistered(keyId: string): Promise<boolean>;
  /** Where a stored transaction is: mined, pending in the node's pool, or unknown to it. */
  transactionStatus(txHash: string): Promise<StoredTxStatus>;
}

interface RawReceipt {
  status: string;
  blockNumber: string;
  blockHash: string;
  transactionHash: string;
  logs: { address: string; topics: string[]; data: string }[];
}

/**
 * @example
 * const chain = createAnchorChain({ wallet, provider, chainId, address: "0x…" });
 * const batchId = await chain.batchIdOfIdempotencyKey(key);
 */
export function createAnchorChain(options: {
  wallet: Wallet | HDNodeWallet;
  provider: JsonRpcProvider;
  chainId: number;
  address: string;
  pollMs?: number;
  /** The RPC URL as the user gave it, for advice in error messages (`shafaf dev fund --rpc …`). */
  rpcUrl?: string;
}): AnchorChain {
  const { wallet, provider } = options;
  const contract = new Contract(options.address, LEDGER_ABI, wallet);
  const address = contract.target as string;
  const pollMs = options.pollMs ?? 200;
  const eventTopics = [
    ledgerAnchorInterface.getEvent("BatchAnchored")!.topicHash,
    ledgerAnchorInterface.getEvent("BatchAnchoredV2")!.topicHash,
  ];
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  async function blockOf(blockHash: string): Promise<{ timestamp: number; number: number }> {
    const block = (await provider.send("eth_getBlockByHash", [blockHash, false])) as {
      timestamp: string;
      number: string;
    } | null;
    if (block === null)
      throw new ShafafError(`the node does not know block ${blockHash}`, { retryable: true });
    return { timestamp: Number(BigInt(block.timestamp)), number: Number(BigInt(block.number)) };
  }

  async function fromLog(
    log: { address: string; topics: string[]; data: string },
    tx: { transactionHash: string; blockNumber: number; blockHash: string },
  ): Promise<MinedAnchor> {
    const parsed = ledgerAnchorInterface.parseLog(log);
    if (parsed === null) throw new ShafafError("unexpected log in the anchoring transaction");
    const { timestamp } = await blockOf(tx.blockHash);
    return {
      batchId: Number(parsed.args.getValue("batchId") as bigint),
      txHash: tx.transactionHash,
      blockNumber: tx.blockNumber,
      blockHash: tx.blockHash,
      anchoredAt: timestamp,
      root: parsed.args.getValue("root") as string,
      manifestHash: parsed.args.getValue("manifestHash") as string,
      idempotencyKey: parsed.args.getValue("idempotencyKey") as string,
    };
  }

  /** Estimates and signs `method(params)`; a duplicate idempotency key answers `{ existing }`. */
  async function sign(
    method: "anchorBatch" | "anchorBatchV2",
    params: readonly unknown[],
  ): Promise<{ rawTx: string; txHash: string } | { existing: number }> {
    let populated;
    try {
      populated = await wallet.populateTransaction(
        await contract.getFunction(method).populateTransaction(...params),
      );
    } catch (error) {
      const decoded = decodeLedgerError(error);
      if (decoded?.name === "LedgerDuplicateIdempotencyKey")
        return { existing: Number(decoded.args[1]) };
      throw explainChainError(error, {
        account: wallet.address,
        chainId: options.chainId,
        rpcUrl: options.rpcUrl,
        action: "anchoring the batch",
        hints: HINTS,
      });
    }
    const rawTx = await wallet.signTransaction(populated);
    return { rawTx, txHash: keccak256(rawTx) };
  }

  return {
    chainId: options.chainId,
    contract: address,
    account: wallet.address,

    async genesisHash() {
      const block = (await provider.send("eth_getBlockByNumber", ["0x0", false])) as {
        hash?: unknown;
      } | null;
      if (typeof block?.hash !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(block.hash))
        throw new ShafafError("the node returned no genesis block", { retryable: true });
      return block.hash.toLowerCase();
    },

    async batchIdOfIdempotencyKey(key) {
      const fn = contract.getFunction("batchIdOfIdempotencyKey");
      return Number((await fn.staticCall(key)) as bigint);
    },

    signAnchor(args) {
      return sign("anchorBatch", [
        args.root,
        args.kind,
        args.period,
        args.recordCount,
        args.totalAmount,
        args.manifestHash,
        args.supersedes,
        args.idempotencyKey,
      ]);
    },

    async signAnchorV2(args) {
      const kind = recordKindOfNumber(args.kind);
      if (kind === undefined)
        throw new ShafafError(`${args.kind} is not a record kind's number`, {
          code: "anchor.chain.kind",
        });
      const count = SUM_TREE_LANES[kind].length;
      if (args.totals.length !== count)
        throw new ShafafError(`a ${kind} batch has ${count} lanes, not ${args.totals.length}`, {
          code: "anchor.chain.lanes",
        });
      const totals = [...args.totals];
      while (totals.length < 6) totals.push(0n);
      return sign("anchorBatchV2", [
        {
          root: args.root,
          kind: args.kind,
          period: args.period,
          totals,
          manifestHash: args.manifestHash,
          supersedes: args.supersedes,
          idempotencyKey: args.idempotencyKey,
          vrfKeyId: args.vrfKeyId,
        },
      ]);
    },

    async broadcast(rawTx, txHash) {
      try {
        await provider.send("eth_sendRawTransaction", [rawTx]);
        return "sent";
      } catch (error) {
        const known = (await provider.send("eth_getTransactionByHash", [txHash])) as unknown;
        if (known !== null) return "known";
        const message = String((error as { message?: string }).message ?? error);
        if (/nonce too low|nonce.*(used|already)|replacement/i.test(message)) return "stale";
        throw explainChainError(error, {
          account: wallet.address,
          chainId: options.chainId,
          rpcUrl: options.rpcUrl,
          action: "sending the anchoring transaction",
        });
      }
    },

    async waitForAnchor(txHash, confirmations, waitOptions = {}) {
      const deadline = Date.now() + (waitOptions.timeoutMs ?? 600_000);
      for (;;) {
        const receipt = (await provider.send("eth_getTransactionReceipt", [
          txHash,
        ])) as RawReceipt | null;
        if (receipt === null) {
          const tx = (await provider.send("eth_getTransactionByHash", [txHash])) as unknown;
          if (tx === null) return undefined;
          waitOptions.onWait?.(false);
        } else {
          if (BigInt(receipt.status) !== 1n) return { reverted: true };
          const mined = Number(BigInt(receipt.blockNumber));
          const head = Number(BigInt((await provider.send("eth_blockNumber", [])) as string));
          if (head - mined + 1 >= confirmations) {
            // The receipt may be from a block that was since reorganised away: re-read it.
            const again = (await provider.send("eth_getTransactionReceipt", [
              txHash,
            ])) as RawReceipt | null;
            if (again === null || again.blockHash !== receipt.blockHash) continue;
            const log = again.logs.find(
              (l) =>
                l.address.toLowerCase() === address.toLowerCase() &&
                eventTopics.includes(l.topics[0] ?? ""),
            );
            if (log === undefined)
              throw new ShafafError(`transaction ${txHash} emitted no BatchAnchored event`);
            return fromLog(log, {
              transactionHash: txHash,
              blockNumber: mined,
              blockHash: again.blockHash,
            });
          }
          waitOptions.onWait?.(true);
        }
        if (Date.now() > deadline) {
          throw new ShafafError(`transaction ${txHash} is not confirmed yet`, {
            details: "run the same command again later: it resumes and waits for this transaction",
            retryable: true,
            code: "anchor.chain.wait-timeout",
          });
        }
        await sleep(pollMs);
      }
    },

    async isVrfKeyRegistered(keyId) {
      try {
        await contract.getFunction("getVrfKey").staticCall(keyId);
        return true;
      } catch (error) {
        if (decodeLedgerError(error)?.name === "LedgerUnknownVrfKey") return false;
        throw error;
      }
    },

    transactionStatus(txHash) {
      return readTransactionStatus((method, params) => provider.send(method, params), txHash);
    },

    async findAnchor(batchId) {
      const topic1 = "0x" + batchId.toString(16).padStart(64, "0");
      const logs = (await provider.send("eth_getLogs", [
        { address, fromBlock: "0x0", toBlock: "latest", topics: [eventTopics, topic1] },
      ])) as (RawReceipt["logs"][number] & {
        transactionHash: string;
        blockNumber: string;
        blockHash: string;
      })[];
      const log = logs[0];
      if (log === undefined)
        throw new ShafafError(`no BatchAnchored event for batch ${batchId} on ${address}`);
      return fromLog(log, {
        transactionHash: log.transactionHash,
        blockNumber: Number(BigInt(log.blockNumber)),
        blockHash: log.blockHash,
      });
    },
  };
}

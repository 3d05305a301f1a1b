/**
 * Records the ledger log's checkpoint on the ledger (`recordLogCheckpoint`, LOG_ROLE), which
 * accepts it only as an RFC 6962-consistent extension of the checkpoint it recorded before. The
 * caller holds the log and gives its roots and proofs as functions, so this module knows nothing
 * of tiles. Before sending, the chain's recorded tree is compared with the log's own tree at that
 * size: a difference is a split view, reported with both roots, never "fixed" by a transaction.
 */
import { Contract, Interface, type HDNodeWallet, type Wallet } from "ethers";
import type { ShafafError } from "../core/errors.ts";
import { InvariantError } from "../core/errors.ts";
import { bytesToHex } from "../core/hex.ts";
import { LEDGER_ABI } from "../core/ledger-abi.ts";
import { sendContractCall } from "./send-contract-call.ts";

const ledgerInterface = new Interface(LEDGER_ABI);

export interface RecordLogCheckpointParameters {
  /** An account with LOG_ROLE, connected to the chain. */
  wallet: Wallet | HDNodeWallet;
  /** The ledger's address. */
  address: string;
  /** The log's size now (> 0). */
  size: number;
  /** The log's root at `size` (32 bytes). */
  root: Uint8Array;
  /** The log's root at an earlier size `n` (1 ≤ n ≤ size). */
  rootAt(n: number): Uint8Array;
  /** The RFC 6962 consistency proof from `n` entries to `size` (1 ≤ n < size). */
  consistencyProof(n: number): Uint8Array[];
  chainId?: number;
  rpcUrl?: string;
}

export type RecordLogCheckpointReturnType =
  | {
      status: "recorded";
      size: number;
      previousSize: number;
      root: string;
      txHash: string;
      blockNumber: number;
    }
  /** The chain already holds this checkpoint. */
  | { status: "up-to-date"; size: number; root: string }
  /**
   * The chain holds a larger checkpoint than this log has (another holder of the same log
   * recorded it first); it is compared with this log once the log reaches that size.
   */
  | { status: "chain-ahead"; size: number; recordedSize: number };

/** What the caller should do about a failed recording. */
export type RecordLogCheckpointErrorType = InvariantError | ShafafError;

const HINTS: Record<string, string> = {
  AccessControlUnauthorizedAccount:
    "the signing account lacks LOG_ROLE: governance grants it (shafaf roles propose --grant log:ADDR)",
  LedgerEnforcedPause:
    "the ledger is paused: log checkpoints are recorded again once governance unpauses it",
  LedgerLogBeyondBatches:
    "the log has more entries than the ledger has batches: it was built from another chain or contract",
};

const hex = (b: Uint8Array) => bytesToHex(b).toLowerCase();

/**
 * @throws InvariantError `log.chain-split` when the chain recorded another tree at its size than
 * this log has (both roots in the message); ShafafError (the contract's error explained) when the
 * transaction is refused or reverts.
 * @example
 * const r = await recordLogCheckpoint({ wallet, address: ledger, size: log.size(),
 *   root: log.rootHash(), rootAt: (n) => log.rootHash(n), consistencyProof: (n) => log.consistencyProof(n) });
 */
export async function recordLogCheckpoint(
  params: RecordLogCheckpointParameters,
): Promise<RecordLogCheckpointReturnType> {
  const { wallet, size } = params;
  if (!(Number.isSafeInteger(size) && size > 0) || params.root.length !== 32)
    throw new InvariantError(`no checkpoint of size ${size} with a 32-byte root to record`, {
      code: "log.checkpoint.invalid",
    });
  const root = hex(params.root);
  const contract = new Contract(params.address, LEDGER_ABI, wallet);
  const [recorded, recordedRootRaw] = (await contract.getFunction("logCheckpoint")()) as [
    bigint,
    string,
  ];
  const recordedSize = Number(recorded);
  const recordedRoot = recordedRootRaw.toLowerCase();
  if (recordedSize > size) return { status: "chain-ahead", size, recordedSize };
  if (recordedSize > 0) {
    const mine = hex(params.rootAt(recordedSize));
    if (mine !== recordedRoot)
      throw new InvariantError(
        `split view: the ledger recorded root ${recordedRoot} for the log's first ${recordedSize} entries, this log has ${mine}`,
        {
          code: "log.chain-split",
          details:
            "the log and the chain disagree about the same entries: stop publishing checkpoints and find out which tree is wrong (shafaf log verify, the monitors, the witnesses)",
        },
      );
    if (recordedSize === size) return { status: "up-to-date", size, root };
  }
  const proof = recordedSize === 0 ? [] : params.consistencyProof(recordedSize).map(hex);
  const sent = await sendContractCall<RecordLogCheckpointReturnType>({
    wallet,
    address: params.address,
    abi: ledgerInterface,
    method: "recordLogCheckpoint",
    args: [size, root, proof],
    eventName: "LogCheckpointRecorded",
    action: "recording the ledger log's checkpoint",
    code: "chain.log-checkpoint",
    chainId: params.chainId,
    rpcUrl: params.rpcUrl,
    hints: HINTS,
    // Another holder of the same log recorded this size (or a larger one) in the meantime.
    onRefusal: (e) => {
      if (e.name !== "LedgerLogNotGrowing") return undefined;
      const now = Number(e.args[0]);
      return now > size
        ? { status: "chain-ahead", size, recordedSize: now }
        : { status: "up-to-date", size, root };
    },
  });
  if (sent.status === "refused") return sent.answer;
  return {
    status: "recorded",
    size: Number(sent.event.args.getValue("size") as bigint),
    previousSize: Number(sent.event.args.getValue("previousSize") as bigint),
    root: (sent.event.args.getValue("root") as string).toLowerCase(),
    txHash: sent.txHash,
    blockNumber: sent.blockNumber,
  };
}

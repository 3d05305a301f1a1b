/**
 * One contract transaction, sent and mined, the one way Shafaf's small admin calls do it
 * (registering a VRF key, recording the trust policy, recording a log checkpoint): a refusal at
 * estimation is either an expected outcome the caller names (`onRefusal`) or explained
 * (`explainChainError`: what happened, what to do); a mined revert is an error; the mined
 * transaction's event of `eventName` is what the caller reads its result from.
 */
import {
  Contract,
  type HDNodeWallet,
  type Interface,
  type LogDescription,
  type Wallet,
} from "ethers";
import { ShafafError } from "../core/errors.ts";
import {
  decodeContractError,
  explainChainError,
  findRevertData,
  type ExplainContext,
} from "./explain-error.ts";

interface MinedReceipt {
  status: number | null;
  blockNumber: number;
  logs: { topics: readonly string[]; data: string }[];
}

export interface SendContractCallParams<Early> {
  wallet: Wallet | HDNodeWallet;
  address: string;
  /** The contract's interface: its functions, events and errors. */
  abi: Interface;
  method: string;
  args: readonly unknown[];
  /** The event the call must emit; its first match (and `accept`) is returned. */
  eventName: string;
  /** Narrows the events of `eventName` to the call's own (default: the first). */
  accept?: (event: LogDescription) => boolean;
  /** What the transaction does, for messages ("registering the VRF key"). */
  action: string;
  /** The stable code prefix of this call's errors (`chain.vrf` → `chain.vrf.reverted`). */
  code: string;
  chainId?: number | undefined;
  rpcUrl?: string | undefined;
  hints?: Record<string, string>;
  /**
   * A contract error at estimation that is an answer, not a failure (the key is already
   * registered): return the caller's result for it, or undefined to explain it as an error.
   */
  onRefusal?: (error: { name: string; args: readonly unknown[] }) => Early | undefined;
}

export type SendContractCallResult<Early> =
  | { status: "mined"; event: LogDescription; txHash: string; blockNumber: number }
  | { status: "refused"; answer: Early };

/**
 * @throws {ShafafError} explained by `explainChainError` when the call is refused (and
 * `onRefusal` does not answer it), `<code>.reverted` when the mined transaction reverted,
 * `<code>.no-event` when it emitted no `eventName` event.
 * @example
 * const r = await sendContractCall({ wallet, address, abi: ledgerInterface, method: "setTrustPolicy",
 *   args: [hash], eventName: "TrustPolicySet", action: "recording the trust policy", code: "chain.trust-policy" });
 */
export async function sendContractCall<Early = never>(
  p: SendContractCallParams<Early>,
): Promise<SendContractCallResult<Early>> {
  const contract = new Contract(p.address, p.abi, p.wallet);
  const context: ExplainContext = {
    account: p.wallet.address,
    chainId: p.chainId,
    rpcUrl: p.rpcUrl,
    action: p.action,
    ...(p.hints !== undefined ? { hints: p.hints } : {}),
  };
  let tx: { hash: string; wait(): Promise<MinedReceipt | null> };
  try {
    tx = (await contract.getFunction(p.method)(...p.args)) as typeof tx;
  } catch (error) {
    const data = findRevertData(error);
    const decoded = data === undefined ? undefined : decodeContractError(data);
    const answer = decoded === undefined ? undefined : p.onRefusal?.(decoded);
    if (answer !== undefined) return { status: "refused", answer };
    throw explainChainError(error, context);
  }
  const receipt = await tx.wait();
  if (receipt === null || receipt.status !== 1)
    throw new ShafafError(`${p.action}: transaction ${tx.hash} reverted`, {
      code: `${p.code}.reverted`,
    });
  for (const log of receipt.logs) {
    const event = p.abi.parseLog(log);
    if (event?.name === p.eventName && (p.accept?.(event) ?? true))
      return { status: "mined", event, txHash: tx.hash, blockNumber: receipt.blockNumber };
  }
  throw new ShafafError(`transaction ${tx.hash} emitted no ${p.eventName} event`, {
    code: `${p.code}.no-event`,
  });
}

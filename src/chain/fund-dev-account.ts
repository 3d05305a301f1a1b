/**
 * Gas money for a new account on the development chain: a plain ETH transfer from one of
 * Hardhat's well-known accounts. Refused on any chain but 31337, where those accounts' keys are
 * public and hold real value only by accident.
 */
import { parseEther, formatEther } from "ethers";
import { InvalidInputError } from "../core/errors.ts";
import { explainChainError } from "./explain-error.ts";
import { DEV_CHAIN_ID, connectSigner } from "./signer.ts";

export interface FundDevAccountParams {
  rpcUrl: string;
  /** The account to fund. */
  to: string;
  /** Decimal ETH, e.g. "10" or "0.5". */
  amount: string;
  /** `dev:<n>`, the development account that pays (default dev:0). */
  from?: string | undefined;
}

export interface FundDevAccountResult {
  from: string;
  to: string;
  amountWei: bigint;
  txHash: string;
  blockNumber: number;
  /** The funded account's balance afterwards, in wei. */
  balanceWei: bigint;
}

/**
 * Sends `amount` ETH from a development account to `to` and waits for it to be mined.
 *
 * @example
 * await fundDevAccount({ rpcUrl: "http://127.0.0.1:8545", to: "0x5A0b…", amount: "10" });
 */
export async function fundDevAccount(params: FundDevAccountParams): Promise<FundDevAccountResult> {
  let amountWei: bigint;
  try {
    amountWei = parseEther(params.amount);
  } catch {
    amountWei = -1n;
  }
  if (amountWei <= 0n) {
    throw new InvalidInputError(
      `--amount ${JSON.stringify(params.amount)} is not an amount of ETH`,
      {
        details: "give a positive decimal number of ETH, e.g. --amount 10",
        code: "chain.fund.amount",
      },
    );
  }
  const from = params.from ?? "dev:0";
  let signer;
  try {
    signer = await connectSigner({ rpcUrl: params.rpcUrl, spec: { dev: from } });
  } catch (error) {
    if ((error as { code?: string }).code === "chain.signer.dev-refused") {
      throw new InvalidInputError(
        `shafaf dev fund works only on the development chain (id ${DEV_CHAIN_ID})`,
        {
          details:
            "this chain is not a development chain: its accounts are funded by its operator; ask them to send gas money to the account",
          code: "chain.fund.not-dev",
          cause: error,
        },
      );
    }
    throw error;
  }
  try {
    const tx = await signer.wallet.sendTransaction({ to: params.to, value: amountWei });
    const mined = await tx.wait();
    const balanceWei = await signer.provider.getBalance(params.to);
    return {
      from: signer.address,
      to: params.to,
      amountWei,
      txHash: tx.hash,
      blockNumber: mined?.blockNumber ?? 0,
      balanceWei,
    };
  } catch (error) {
    throw explainChainError(error, {
      account: signer.address,
      chainId: signer.chainId,
      rpcUrl: params.rpcUrl,
      action: `funding ${params.to}`,
    });
  } finally {
    signer.provider.destroy();
  }
}

/** Wei as ETH text without trailing zeros ("10", "0.5"). */
export function formatEth(wei: bigint): string {
  return formatEther(wei).replace(/\.0$/, "");
}

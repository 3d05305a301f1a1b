/**
 * Records the trust policy's hash on a ledger whose admin is an account (a trial or development
 * ledger): `setTrustPolicy`, DEFAULT_ADMIN_ROLE. A governed ledger's admin is its timelock: there
 * the change is a proposal (`proposeRoleChanges` with `{ action: "set-trust-policy" }`).
 * Idempotent: a hash already recorded is reported, not sent again.
 */
import { Contract, Interface, type HDNodeWallet, type Wallet } from "ethers";
import { InvalidInputError, ShafafError } from "../core/errors.ts";
import { LEDGER_ABI } from "../core/ledger-abi.ts";
import { explainChainError } from "./explain-error.ts";

const ledgerInterface = new Interface(LEDGER_ABI);

export interface SetTrustPolicyParameters {
  /** The ledger's admin account, connected to the chain. */
  wallet: Wallet | HDNodeWallet;
  /** The ledger's address. */
  address: string;
  /** trustPolicyHash(file bytes) of src/core/tlog-policy.ts: 0x + 64 hex, not zero. */
  policyHash: string;
  chainId?: number;
  rpcUrl?: string;
}

export type SetTrustPolicyReturnType =
  | {
      status: "recorded";
      policyHash: string;
      previous: string;
      txHash: string;
      blockNumber: number;
    }
  | { status: "already-recorded"; policyHash: string };

const HINTS: Record<string, string> = {
  AccessControlUnauthorizedAccount:
    "only the ledger's admin records the trust policy; on a governed ledger propose it: shafaf roles propose --trust-policy FILE",
};

/**
 * @throws InvalidInputError for a malformed hash; ShafafError (the contract's error explained)
 * when the transaction is refused or reverts.
 * @example
 * await setTrustPolicy({ wallet: admin, address: ledger, policyHash: trustPolicyHash(bytes) });
 */
export async function setTrustPolicy(
  params: SetTrustPolicyParameters,
): Promise<SetTrustPolicyReturnType> {
  if (!/^0x[0-9a-fA-F]{64}$/.test(params.policyHash) || /^0x0{64}$/.test(params.policyHash))
    throw new InvalidInputError(`${JSON.stringify(params.policyHash)} is not a policy hash`, {
      details: "give trustPolicyHash of the policy file (src/core/tlog-policy.ts)",
      field: "policyHash",
      code: "chain.trust-policy.hash",
    });
  const policyHash = params.policyHash.toLowerCase();
  const contract = new Contract(params.address, LEDGER_ABI, params.wallet);
  const current = ((await contract.getFunction("trustPolicy")()) as string).toLowerCase();
  if (current === policyHash) return { status: "already-recorded", policyHash };
  let tx;
  try {
    tx = (await contract.getFunction("setTrustPolicy")(policyHash)) as {
      hash: string;
      wait(): Promise<{
        status: number | null;
        blockNumber: number;
        logs: { topics: readonly string[]; data: string }[];
      } | null>;
    };
  } catch (error) {
    throw explainChainError(error, {
      account: params.wallet.address,
      chainId: params.chainId,
      rpcUrl: params.rpcUrl,
      action: "recording the trust policy",
      hints: HINTS,
    });
  }
  const receipt = await tx.wait();
  if (receipt === null || receipt.status !== 1)
    throw new ShafafError(`the trust policy transaction ${tx.hash} reverted`, {
      code: "chain.trust-policy.reverted",
    });
  for (const log of receipt.logs) {
    const parsed = ledgerInterface.parseLog(log);
    if (parsed?.name === "TrustPolicySet")
      return {
        status: "recorded",
        policyHash,
        previous: (parsed.args.getValue("previous") as string).toLowerCase(),
        txHash: tx.hash,
        blockNumber: receipt.blockNumber,
      };
  }
  throw new ShafafError(`transaction ${tx.hash} emitted no TrustPolicySet event`, {
    code: "chain.trust-policy.no-event",
  });
}

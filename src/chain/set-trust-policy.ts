/**
 * Records the trust policy's hash on a ledger whose admin is an account (a trial or development
 * ledger): `setTrustPolicy`, DEFAULT_ADMIN_ROLE. A governed ledger's admin is its timelock: there
 * the change is a proposal (`proposeRoleChanges` with `{ action: "set-trust-policy" }`).
 * Idempotent: a hash already recorded is reported, not sent again.
 */
import { Contract, Interface, type HDNodeWallet, type Wallet } from "ethers";
import { InvalidInputError } from "../core/errors.ts";
import { LEDGER_ABI } from "../core/ledger-abi.ts";
import { sendContractCall } from "./send-contract-call.ts";

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
  const sent = await sendContractCall({
    wallet: params.wallet,
    address: params.address,
    abi: ledgerInterface,
    method: "setTrustPolicy",
    args: [policyHash],
    eventName: "TrustPolicySet",
    action: "recording the trust policy",
    code: "chain.trust-policy",
    chainId: params.chainId,
    rpcUrl: params.rpcUrl,
    hints: HINTS,
  });
  if (sent.status === "refused") return sent.answer; // never: no refusal is an answer here
  return {
    status: "recorded",
    policyHash,
    previous: (sent.event.args.getValue("previous") as string).toLowerCase(),
    txHash: sent.txHash,
    blockNumber: sent.blockNumber,
  };
}

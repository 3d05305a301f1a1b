/**
 * Records the organization's VRF public key on the ledger (`registerVrfKey`, VRF_KEY_ROLE): the
 * key persons check their VRF proofs against, named by its id in every `shafaf-tree/2` batch.
 * Idempotent: a key registered before is reported with its index, not sent again.
 */
import { Contract, Interface, keccak256, type HDNodeWallet, type Wallet } from "ethers";
import { InvalidInputError, ShafafError } from "../core/errors.ts";
import { isValidVrfPublicKey } from "../core/vrf.ts";
import { decodeContractError, explainChainError, findRevertData } from "./explain-error.ts";

/** The registry's part of ITransparencyLedger (pinned; checked against the compiled ABI in tests). */
export const VRF_KEY_REGISTRY_ABI = [
  "function registerVrfKey(bytes32 publicKey) returns (bytes32 keyId)",
  "function getVrfKey(bytes32 keyId) view returns ((bytes32 publicKey, uint32 index, uint64 registeredAt) key)",
  "event VrfKeyRegistered(bytes32 indexed keyId, bytes32 publicKey, uint32 index, address indexed registrar)",
] as const;

const registry = new Interface(VRF_KEY_REGISTRY_ABI);

/** The on-chain id of a VRF public key: keccak256 of its 32 bytes. */
export function vrfKeyIdOf(publicKey: Uint8Array): string {
  return keccak256(publicKey);
}

export interface RegisterVrfKeyParameters {
  /** An account with VRF_KEY_ROLE, connected to the chain. */
  wallet: Wallet | HDNodeWallet;
  /** The ledger's address. */
  address: string;
  /** 32 bytes, RFC 8032 encoding (a VRF keystore's `publicKey`). */
  publicKey: Uint8Array;
  chainId?: number;
  rpcUrl?: string;
}

export type RegisterVrfKeyReturnType = {
  keyId: string;
  index: number;
} & (
  { status: "registered"; txHash: string; blockNumber: number } | { status: "already-registered" }
);

const HINTS: Record<string, string> = {
  AccessControlUnauthorizedAccount:
    "the signing account lacks VRF_KEY_ROLE: governance grants it (shafaf roles propose --grant vrf_key:ADDR)",
};

/**
 * @throws InvalidInputError when `publicKey` is not a valid VRF public key; ShafafError (with the
 * contract's error explained) when the transaction is refused or reverts.
 * @example
 * const r = await registerVrfKey({ wallet, address: ledger, publicKey });
 * console.log(r.keyId, r.index, r.status);
 */
export async function registerVrfKey(
  params: RegisterVrfKeyParameters,
): Promise<RegisterVrfKeyReturnType> {
  const { wallet, publicKey } = params;
  if (!isValidVrfPublicKey(publicKey)) {
    throw new InvalidInputError("the VRF public key is not a valid edwards25519 public key", {
      details:
        "give the public key of a VRF keystore made by `shafaf keys new-vrf` (32 bytes, RFC 8032)",
      code: "chain.vrf.public-key",
    });
  }
  const keyId = vrfKeyIdOf(publicKey);
  const contract = new Contract(params.address, VRF_KEY_REGISTRY_ABI, wallet);
  const context = {
    account: wallet.address,
    chainId: params.chainId,
    rpcUrl: params.rpcUrl,
    action: "registering the VRF key",
    hints: HINTS,
  };
  let tx;
  try {
    tx = (await contract.getFunction("registerVrfKey")(publicKey)) as {
      hash: string;
      wait(): Promise<{
        status: number | null;
        blockNumber: number;
        logs: { topics: readonly string[]; data: string }[];
      } | null>;
    };
  } catch (error) {
    const data = findRevertData(error);
    const decoded = data === undefined ? undefined : decodeContractError(data);
    if (decoded?.name === "LedgerVrfKeyAlreadyRegistered")
      return { keyId, index: Number(decoded.args[1]), status: "already-registered" };
    throw explainChainError(error, context);
  }
  const receipt = await tx.wait();
  if (receipt === null || receipt.status !== 1)
    throw new ShafafError(`the VRF key registration ${tx.hash} reverted`, {
      code: "chain.vrf.reverted",
    });
  for (const log of receipt.logs) {
    const parsed = registry.parseLog(log);
    if (parsed?.name === "VrfKeyRegistered" && parsed.args.getValue("keyId") === keyId) {
      return {
        keyId,
        index: Number(parsed.args.getValue("index") as bigint),
        status: "registered",
        txHash: tx.hash,
        blockNumber: receipt.blockNumber,
      };
    }
  }
  throw new ShafafError(`transaction ${tx.hash} emitted no VrfKeyRegistered event`, {
    code: "chain.vrf.no-event",
  });
}

/**
 * Records the organization's VRF public key on the ledger (`registerVrfKey`, VRF_KEY_ROLE): the
 * key persons check their VRF proofs against, named by its id in every `shafaf-tree/2` batch.
 * Idempotent: a key registered before is reported with its index, not sent again.
 */
import { Interface, keccak256, type HDNodeWallet, type Wallet } from "ethers";
import { InvalidInputError } from "../core/errors.ts";
import { isValidVrfPublicKey } from "../core/vrf.ts";
import { sendContractCall } from "./send-contract-call.ts";

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
  const sent = await sendContractCall<{ index: number }>({
    wallet,
    address: params.address,
    abi: registry,
    method: "registerVrfKey",
    args: [publicKey],
    eventName: "VrfKeyRegistered",
    accept: (event) => event.args.getValue("keyId") === keyId,
    action: "registering the VRF key",
    code: "chain.vrf",
    chainId: params.chainId,
    rpcUrl: params.rpcUrl,
    hints: HINTS,
    onRefusal: (e) =>
      e.name === "LedgerVrfKeyAlreadyRegistered" ? { index: Number(e.args[1]) } : undefined,
  });
  if (sent.status === "refused")
    return { keyId, index: sent.answer.index, status: "already-registered" };
  return {
    keyId,
    index: Number(sent.event.args.getValue("index") as bigint),
    status: "registered",
    txHash: sent.txHash,
    blockNumber: sent.blockNumber,
  };
}

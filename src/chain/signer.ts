/**
 * The account that signs Shafaf's transactions: a decrypted keystore, or — on the development
 * chain only (chain id 31337) — one of Hardhat's well-known accounts (`--signer dev:<n>`), whose
 * private keys are public knowledge and MUST NOT sign on any other chain.
 */
import { HDNodeWallet, JsonRpcProvider, Network, type Wallet } from "ethers";
import { InvalidInputError, ShafafError } from "../core/errors.ts";
import { redactUrl } from "./errors.ts";
import { loadKeystore } from "./keystore.ts";

export const DEV_CHAIN_ID = 31337;
/** Hardhat's published development mnemonic. Its accounts are for chain 31337 only. */
export const DEV_MNEMONIC = "test test test test test test test test test test test junk";

/** `dev:<n>` → n; anything else is a usage error. */
export function parseDevSignerSpec(spec: string): number {
  const m = /^dev:(\d{1,3})$/.exec(spec);
  if (m === null || Number(m[1]) > 19) {
    throw new InvalidInputError(`invalid --signer ${JSON.stringify(spec)}`, {
      details:
        "use dev:<n> with n from 0 to 19 (Hardhat's development accounts), or --keystore FILE",
      code: "chain.signer.spec",
    });
  }
  return Number(m[1]);
}

/** The n-th well-known development account (unconnected). */
export function devWallet(n: number): HDNodeWallet {
  return HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, `m/44'/60'/0'/0/${n}`);
}

/**
 * Asks `url` for its chain id with a plain JSON-RPC call (bounded in time), so that an unreachable
 * node is a clear error instead of ethers' endless network detection.
 */
export async function fetchChainId(url: string, timeoutMs = 10_000): Promise<number> {
  let body: { result?: string; error?: { message?: string } };
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    body = (await res.json()) as typeof body;
  } catch (error) {
    throw new ShafafError(`cannot reach the chain at ${redactUrl(url)}`, {
      details: "check --rpc and that the node is running",
      retryable: true,
      code: "chain.rpc.unreachable",
      cause: error,
    });
  }
  if (typeof body.result !== "string") {
    throw new ShafafError(`the node at ${redactUrl(url)} did not answer eth_chainId`, {
      details: body.error?.message ?? "no result",
      code: "chain.rpc.chain-id",
    });
  }
  return Number(BigInt(body.result));
}

/**
 * A provider for `url` pinned to `chainId` (no background network detection), polling fast, and
 * without ethers' 250 ms response cache: a signer that sends two transactions in a row must see
 * the nonce the first one used, not a cached count.
 */
export function connectProvider(url: string, chainId: number): JsonRpcProvider {
  const provider = new JsonRpcProvider(url, Network.from(chainId), {
    staticNetwork: true,
    batchMaxCount: 1,
    pollingInterval: 250,
    cacheTimeout: -1,
  });
  return provider;
}

export type SignerSpec = { keystore: string; password: string } | { dev: string };

export interface ConnectedSigner {
  wallet: Wallet | HDNodeWallet;
  provider: JsonRpcProvider;
  chainId: number;
  address: string;
}

/**
 * Connects the signing account to the chain at `rpcUrl`. A `dev:<n>` signer is refused unless the
 * chain id is 31337.
 *
 * @example
 * const { wallet } = await connectSigner({ rpcUrl, spec: { dev: "dev:0" } });
 */
export async function connectSigner(options: {
  rpcUrl: string;
  spec: SignerSpec;
}): Promise<ConnectedSigner> {
  const devIndex = "dev" in options.spec ? parseDevSignerSpec(options.spec.dev) : undefined;
  const chainId = await fetchChainId(options.rpcUrl);
  if (devIndex !== undefined && chainId !== DEV_CHAIN_ID) {
    throw new InvalidInputError(`--signer dev:${devIndex} is refused on chain ${chainId}`, {
      details: `development accounts have public keys and work only on the development chain (id ${DEV_CHAIN_ID}); use --keystore FILE`,
      code: "chain.signer.dev-refused",
    });
  }
  const provider = connectProvider(options.rpcUrl, chainId);
  const base =
    devIndex !== undefined
      ? devWallet(devIndex)
      : await loadKeystore(
          (options.spec as { keystore: string }).keystore,
          (options.spec as { password: string }).password,
        );
  const wallet = base.connect(provider);
  return { wallet, provider, chainId, address: wallet.address };
}

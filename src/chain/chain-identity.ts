import { ChainMismatchError } from "./errors.ts";

/**
 * Which chain something was built on. The chain id alone does not say it: a development node
 * restarted (or a network relaunched) keeps its chain id and, with the same deployer, the ledger's
 * address, but starts a new history with a new genesis block. Batch ids then restart at 1.
 */
export interface ChainIdentity {
  chainId: number;
  /** Hash of block 0, lower-case 0x hex. */
  genesisHash: string;
}

export interface AssertSameChainOptions {
  /** What holds `recorded`, as the subject of a sentence: "the index", "this data directory". */
  subject: string;
  /** How to fix it (the `details` of the error). */
  fix: string;
  /** Prefix of the error codes: `<prefix>.chain-mismatch`, `<prefix>.genesis-mismatch`. */
  codePrefix: string;
}

/**
 * THE rule binding stored data to one chain history (used by the indexer and the anchor
 * pipeline): the node must serve the recorded chain id and the recorded genesis block. Throws
 * `ChainMismatchError` (not retryable) otherwise.
 *
 * @example
 * assertSameChain(setup, { chainId, genesisHash: genesis.hash },
 *   { subject: "the index", fix: "point --rpc at the indexed chain", codePrefix: "indexer" });
 */
export function assertSameChain(
  recorded: ChainIdentity,
  actual: ChainIdentity,
  options: AssertSameChainOptions,
): void {
  if (recorded.chainId !== actual.chainId) {
    throw new ChainMismatchError(
      `the node serves chain ${actual.chainId}, ${options.subject} holds chain ${recorded.chainId}`,
      { details: options.fix, code: `${options.codePrefix}.chain-mismatch` },
    );
  }
  if (recorded.genesisHash.toLowerCase() !== actual.genesisHash.toLowerCase()) {
    throw new ChainMismatchError(
      `the node's genesis block is ${actual.genesisHash}, ${options.subject} was built on genesis ${recorded.genesisHash}`,
      {
        details: `${options.fix} (The embedded development chain starts a new genesis every time it starts.)`,
        code: `${options.codePrefix}.genesis-mismatch`,
      },
    );
  }
}

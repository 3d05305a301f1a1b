/**
 * Renders `src/core/ledger-abi.ts` from the compiled TransparencyLedger's ABI: the one TypeScript
 * source of the ledger's ABI, which the contract client, the pipeline, the auditors' tools and the
 * browser portal all import. The ledger's entry of `render-contract-abi.ts`.
 */
import { CONTRACT_ABIS, renderContractAbi } from "./render-contract-abi.ts";

const LEDGER = CONTRACT_ABIS.find((c) => c.label === "ledger")!;

/** Where the generated module lives, relative to the repository root. */
export const LEDGER_ABI_MODULE = LEDGER.module;
/** The compiled artifact it is generated from, relative to the repository root. */
export const LEDGER_ARTIFACT = LEDGER.artifact;

/**
 * The module's text for the given compiled ABI. Throws on an overloaded name.
 *
 * @example
 * const text = await renderLedgerAbi(artifact.abi, "/repo/src/core/ledger-abi.ts");
 */
export function renderLedgerAbi(abi: readonly unknown[], modulePath: string): Promise<string> {
  return renderContractAbi(LEDGER, abi, modulePath);
}

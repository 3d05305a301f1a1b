/**
 * Compiled contracts as Hardhat writes them (`npx hardhat build`): the ABI and creation bytecode
 * that `deployLedger` and `deployGovernance` send. Reading the chain needs no artifact (see
 * `ledger-client.ts`); deploying does.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { InvalidInputError, InvariantError } from "../core/errors.ts";

export interface ContractArtifact {
  readonly contractName: string;
  /** The ABI as JSON fragments. */
  readonly abi: readonly Record<string, unknown>[];
  /** Creation bytecode, 0x-prefixed. */
  readonly bytecode: string;
}

export interface LoadArtifactOptions {
  /** Project root holding `artifacts/` (default: this repository). */
  root?: string;
}

const projectRoot = path.resolve(import.meta.dirname, "../..");

/**
 * Reads `artifacts/<source>/<name>.json` and checks that it holds an ABI and creation bytecode.
 *
 * @example
 * const { abi, bytecode } = await loadArtifact("contracts/TransparencyLedger.sol", "TransparencyLedger");
 */
export async function loadArtifact(
  source: string,
  contractName: string,
  options: LoadArtifactOptions = {},
): Promise<ContractArtifact> {
  const file = path.join(options.root ?? projectRoot, "artifacts", source, `${contractName}.json`);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") {
      throw new InvalidInputError(`the compiled ${contractName} contract is missing`, {
        details: `${file} does not exist: run \`npx hardhat build\` in ${path.dirname(path.dirname(path.dirname(file)))} first`,
        code: "chain.artifact.missing",
        cause: error,
      });
    }
    throw error;
  }
  let parsed: { contractName?: unknown; abi?: unknown; bytecode?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch (error) {
    throw new InvariantError(`${file} is not JSON`, {
      details: "delete it and run `npx hardhat build` again",
      code: "chain.artifact.corrupt",
      cause: error,
    });
  }
  if (
    parsed.contractName !== contractName ||
    !Array.isArray(parsed.abi) ||
    typeof parsed.bytecode !== "string" ||
    !/^0x(?:[0-9a-fA-F]{2})+$/.test(parsed.bytecode)
  ) {
    throw new InvariantError(`${file} is not a compiled ${contractName} artifact`, {
      details: "it lacks contractName, abi or creation bytecode; run `npx hardhat build` again",
      code: "chain.artifact.corrupt",
    });
  }
  return {
    contractName,
    abi: parsed.abi as Record<string, unknown>[],
    bytecode: parsed.bytecode,
  };
}

/**
 * The TransparencyLedger contract.
 *
 * @example
 * const { abi, bytecode } = await loadLedgerArtifact();
 */
export function loadLedgerArtifact(options: LoadArtifactOptions = {}): Promise<ContractArtifact> {
  return loadArtifact("contracts/TransparencyLedger.sol", "TransparencyLedger", options);
}

/** The governance council (k-of-n approvals over its own TimelockController). */
export function loadCouncilArtifact(options: LoadArtifactOptions = {}): Promise<ContractArtifact> {
  return loadArtifact("contracts/governance/ShafafCouncil.sol", "ShafafCouncil", options);
}

/** The council's TimelockController (OpenZeppelin's, unchanged). */
export function loadTimelockArtifact(options: LoadArtifactOptions = {}): Promise<ContractArtifact> {
  return loadArtifact("contracts/governance/ShafafTimelock.sol", "ShafafTimelock", options);
}

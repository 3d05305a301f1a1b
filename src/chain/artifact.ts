/**
 * Compiled contracts as Hardhat writes them (`npx hardhat build`): the ABI and creation bytecode
 * that `deployLedger` and `deployGovernance` send. Reading the chain needs no artifact (see
 * `ledger-client.ts`); deploying does.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync, utimesSync } from "node:fs";
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

/** What {@link loadArtifact} throws: the artifact is missing (run `npx hardhat build`) or corrupt. */
export type LoadArtifactErrorType = InvalidInputError | InvariantError;

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
  const root = options.root ?? projectRoot;
  const file = path.join(root, "artifacts", source, `${contractName}.json`);
  if (root === projectRoot) {
    if (!existsSync(file)) {
      process.stderr.write("shafaf: compiling the contracts (first run: `npx hardhat build`)…\n");
      compileContracts(root);
    } else if (sourcesNewerThan(root, file)) {
      // After a `git pull` without `npm install`: deploying the old bytecode would fail later
      // with an opaque revert; Hardhat's build is incremental, so this costs seconds once.
      process.stderr.write(
        "shafaf: the contracts changed since they were compiled; compiling them again (`npx hardhat build`)…\n",
      );
      // A source touched but not changed leaves Hardhat's cached artifact as it was: mark it
      // checked, so that the next run does not compile again.
      if (compileContracts(root) === 0 && existsSync(file))
        utimesSync(file, new Date(), new Date());
    }
  }
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") {
      throw new InvalidInputError(`the compiled ${contractName} contract is missing`, {
        details: `${file} does not exist: run \`npx hardhat build\` in ${root} first`,
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
 * Compiles the contracts of this repository (offline: solc from the npm `solc` package) and returns
 * Hardhat's exit status. `npm install` runs it (postinstall); `loadArtifact` runs it when an
 * artifact is missing (a clone whose install skipped scripts, or `artifacts/` deleted). Hardhat's
 * build is incremental, so it costs one compile once.
 */
/** True when a Solidity source under `contracts/` was modified after `artifact` was written. */
export function sourcesNewerThan(root: string, artifact: string): boolean {
  const built = statSync(artifact).mtimeMs;
  const dir = path.join(root, "contracts");
  if (!existsSync(dir)) return false;
  return readdirSync(dir, { recursive: true, withFileTypes: true }).some(
    (e) =>
      e.isFile() &&
      e.name.endsWith(".sol") &&
      statSync(path.join(e.parentPath, e.name)).mtimeMs > built,
  );
}

export function compileContracts(root: string = projectRoot): number {
  const cli = path.join(root, "node_modules", "hardhat", "dist", "src", "cli.js");
  if (!existsSync(cli)) return 1;
  const run = spawnSync(process.execPath, [cli, "build", "--quiet"], {
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
  });
  return run.status ?? 1;
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

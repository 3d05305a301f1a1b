/**
 * Checks that run before Hardhat or the contracts load, so that a wrong Node or a half-installed
 * `node_modules` gets one clear sentence instead of Hardhat's own error (HHE200 "Plugin
 * builtin:node is not installed", or a native-module crash). It loads neither Hardhat nor ethers,
 * so it runs under any Node that tsx runs on (npm's `postinstall` runs it under npm's Node).
 *
 *   node --import tsx src/cli/preflight.ts            Node and Hardhat's native package (npm test)
 *   node --import tsx src/cli/preflight.ts --install  the same, then compiles the contracts (postinstall)
 */
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { compileContracts } from "../chain/artifact.ts";

/** Hardhat 3's floor. */
export const MIN_NODE: readonly [number, number] = [22, 13];
const root = path.resolve(import.meta.dirname, "../..");

/**
 * What is wrong with this Node for Shafaf, or undefined.
 *
 * @example
 * nodeProblem("20.20.2"); // "Shafaf needs Node.js >= 22.13 …"
 */
export function nodeProblem(version: string = process.versions.node): string | undefined {
  const [major = 0, minor = 0] = version.split(".").map(Number);
  if (major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1])) return undefined;
  return (
    `Shafaf needs Node.js >= ${MIN_NODE.join(".")} (Hardhat 3 does); this is Node ${version}.\n` +
    `  Install Node 22 (with nvm: \`nvm install 22 && nvm use 22\`; .nvmrc says 22), then run\n` +
    `  \`rm -rf node_modules && npm install\` in ${root} under it: npm under an older Node skips\n` +
    `  Hardhat's native package, so the node_modules it installed stays broken.`
  );
}

/** What is wrong with Hardhat's native package (EDR, the embedded chain), or undefined. */
export function nativeProblem(): string | undefined {
  const require = createRequire(path.join(root, "package.json"));
  try {
    require("@nomicfoundation/edr");
    return undefined;
  } catch (error) {
    const reason = String((error as Error | undefined)?.message ?? error).split("\n")[0] ?? "";
    return (
      `Hardhat's native package (@nomicfoundation/edr for ${process.platform}-${process.arch}) cannot be loaded:\n` +
      `  ${reason}\n` +
      `  This happens when \`npm install\` ran under another Node version or platform. Run\n` +
      `  \`rm -rf node_modules && npm install\` in ${root} under Node ${process.versions.node}.`
    );
  }
}

if (
  process.argv[1] !== undefined &&
  path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)
) {
  const problem = nodeProblem() ?? nativeProblem();
  if (problem !== undefined) {
    process.stderr.write(`shafaf: ${problem}\n`);
    process.exit(1);
  }
  if (process.argv.includes("--install") && compileContracts() !== 0) {
    process.stderr.write(
      `shafaf: compiling the contracts failed; the output above says why. Run \`npx hardhat build\` in ${root} to retry.\n`,
    );
    process.exit(1);
  }
}

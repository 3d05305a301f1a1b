/**
 * `npm run abi` writes the generated ABI modules (`src/core/ledger-abi.ts`, `council-abi.ts`,
 * `timelock-abi.ts`; see scripts/abi/render-contract-abi.ts) from the compiled contracts
 * (artifacts/…; `npx hardhat build` first when contracts/ changed). `npm run abi:check` renders
 * them in memory and exits 1 when a committed file differs (CI), naming the command that fixes it.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { CONTRACT_ABIS, renderContractAbi } from "./abi/render-contract-abi.ts";

const root = path.resolve(import.meta.dirname, "..");
const check = process.argv.includes("--check");
let stale = false;

for (const spec of CONTRACT_ABIS) {
  const modulePath = path.join(root, spec.module);
  const artifact = JSON.parse(readFileSync(path.join(root, spec.artifact), "utf8")) as {
    abi: unknown[];
  };
  const text = await renderContractAbi(spec, artifact.abi, modulePath);
  if (check) {
    let committed = "";
    try {
      committed = readFileSync(modulePath, "utf8");
    } catch {
      // missing: reported as stale below
    }
    if (committed !== text) {
      process.stderr.write(`${spec.module} is stale: it differs from ${spec.artifact}.\n`);
      stale = true;
    } else process.stdout.write(`${spec.module} matches the compiled ${spec.label}\n`);
  } else {
    writeFileSync(modulePath, text);
    process.stdout.write(`wrote ${spec.module}\n`);
  }
}
if (stale) {
  process.stderr.write("Run `npx hardhat build && npm run abi` and commit the result.\n");
  process.exit(1);
}

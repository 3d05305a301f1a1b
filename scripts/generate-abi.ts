/**
 * `npm run abi` writes src/core/ledger-abi.ts from the compiled ledger
 * (artifacts/contracts/TransparencyLedger.sol/TransparencyLedger.json; `npx hardhat build` first
 * when contracts/ changed). `npm run abi:check` renders it in memory and exits 1 when the committed
 * file differs (CI), naming the command that fixes it.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { LEDGER_ABI_MODULE, LEDGER_ARTIFACT, renderLedgerAbi } from "./abi/render-ledger-abi.ts";

const root = path.resolve(import.meta.dirname, "..");
const modulePath = path.join(root, LEDGER_ABI_MODULE);
const artifact = JSON.parse(readFileSync(path.join(root, LEDGER_ARTIFACT), "utf8")) as {
  abi: unknown[];
};
const text = await renderLedgerAbi(artifact.abi, modulePath);

if (process.argv.includes("--check")) {
  let committed = "";
  try {
    committed = readFileSync(modulePath, "utf8");
  } catch {
    // missing: reported as stale below
  }
  if (committed !== text) {
    process.stderr.write(
      `${LEDGER_ABI_MODULE} is stale: it differs from ${LEDGER_ARTIFACT}.\n` +
        "Run `npx hardhat build && npm run abi` and commit the result.\n",
    );
    process.exit(1);
  }
  process.stdout.write(`${LEDGER_ABI_MODULE} matches the compiled ledger\n`);
} else {
  writeFileSync(modulePath, text);
  process.stdout.write(`wrote ${LEDGER_ABI_MODULE}\n`);
}

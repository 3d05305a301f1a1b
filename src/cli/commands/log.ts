/**
 * `shafaf log verify --rpc URL --contract ADDR [--from-block N] [--json]`: recomputes the log head
 * over every BatchAnchored event and compares it with the contract's head(). Exit 0 ok, 1 mismatch.
 */
import type { CliCommand } from "../command.ts";
import { parseCommandLine } from "../parse-command-line.ts";
import { UsageError, reportError } from "../command-support.ts";
import { verifyLogHead } from "../../audit/verify-log-head.ts";
import { createRpc } from "../../chain/rpc.ts";

const USAGE = `usage: shafaf log verify --rpc URL --contract ADDR [--from-block N] [--json]

Recomputes the ledger's log head from every BatchAnchored event and compares it with head().
  --rpc URL          the node (repeat for fail-over)
  --from-block N     the ledger's deployment block (default 0)
  --json             print one JSON result

Exit status: 0 the head matches, 1 mismatch or failure, 64 usage error.`;

export const command: CliCommand = {
  summary: "verify the whole ledger log: recompute the head from events and compare it with head()",
  async run(argv) {
    const parsed = parseCommandLine("log", USAGE, argv, {
      rpc: { type: "string", multiple: true },
      contract: { type: "string" },
      "from-block": { type: "string" },
      json: { type: "boolean" },
    });
    if (typeof parsed === "number") return parsed;
    const { values, positionals } = parsed;
    try {
      if (positionals.length !== 1 || positionals[0] !== "verify")
        throw new UsageError("the only sub-command is `shafaf log verify`");
      if (values.rpc === undefined || values.contract === undefined)
        throw new UsageError("--rpc URL and --contract ADDR are required");
      const fromText = values["from-block"];
      if (fromText !== undefined && !/^\d+$/.test(fromText))
        throw new UsageError("--from-block must be a block number");
      const r = await verifyLogHead({
        rpc: createRpc({ urls: values.rpc, retries: 2 }),
        contract: values.contract,
        fromBlock: fromText === undefined ? undefined : Number(fromText),
      });
      if (values.json === true) process.stdout.write(JSON.stringify(r, null, 2) + "\n");
      else {
        process.stdout.write(
          `checked ${r.batchesChecked} batches (batchCount ${r.batchCount}) at block ${r.atBlock}\n` +
            `head()      ${r.onChainHead}\nrecomputed  ${r.recomputedHead}\n`,
        );
        for (const p of r.problems) process.stdout.write(`✗ ${p}\n`);
        process.stdout.write(
          r.status === "ok" ? "OK: the log head matches every anchored batch\n" : "MISMATCH\n",
        );
      }
      return r.status === "ok" ? 0 : 1;
    } catch (error) {
      return reportError("log", error, USAGE);
    }
  },
};

/**
 * `shafaf attest <batchId> --verdict confirmed|disputed --report FILE --rpc URL --contract ADDR
 * (--keystore FILE | --signer dev:N)`: puts keccak256(report bytes) on-chain as the auditor's verdict.
 */
import { readFile } from "node:fs/promises";
import type { CliCommand } from "../command.ts";
import { parseCommandLine } from "../parse-command-line.ts";
import { UsageError, reportError, signerSpecFromOptions } from "../command-support.ts";
import { attestBatch } from "../../audit/attest-batch.ts";
import { createLedgerClient } from "../../chain/ledger-client.ts";
import { createRpc } from "../../chain/rpc.ts";
import { explainChainError, type ExplainContext } from "../../chain/explain-error.ts";
import { connectSigner } from "../../chain/signer.ts";

const USAGE = `usage: shafaf attest <batchId> --verdict confirmed|disputed --report FILE.json --rpc URL --contract ADDR (--keystore FILE | --signer dev:N)

  --report FILE.json  the JSON report of \`shafaf audit\`; its keccak256 goes on-chain
  --keystore FILE     the auditor's encrypted keystore (password: SHAFAF_KEYSTORE_PASSWORD or prompt)
  --signer dev:N      development account N (chain 31337 only)
  --json              print one JSON result

Refuses a report of another batch or root, and --verdict confirmed on a report that found differences.
Exit status: 0 attested, 64 usage error, 65 the report does not fit the batch, 1 other failure.`;

export const command: CliCommand = {
  summary: "put an auditor's verdict and report hash on-chain",
  async run(argv) {
    const parsed = parseCommandLine("attest", USAGE, argv, {
      verdict: { type: "string" },
      report: { type: "string" },
      rpc: { type: "string" },
      contract: { type: "string" },
      keystore: { type: "string" },
      signer: { type: "string" },
      json: { type: "boolean" },
    });
    if (typeof parsed === "number") return parsed;
    const { values, positionals } = parsed;
    const context: ExplainContext = { action: "attesting" };
    try {
      if (positionals.length !== 1 || !/^[1-9]\d{0,15}$/.test(positionals[0]!))
        throw new UsageError("give the batch id (a positive integer)");
      const batchId = Number(positionals[0]);
      const verdict = values.verdict;
      if (verdict !== "confirmed" && verdict !== "disputed")
        throw new UsageError("--verdict must be confirmed or disputed");
      if (values.report === undefined) throw new UsageError("--report FILE is required");
      if (values.rpc === undefined || values.contract === undefined)
        throw new UsageError("--rpc URL and --contract ADDR are required");
      let reportBytes: Uint8Array;
      try {
        reportBytes = new Uint8Array(await readFile(values.report));
      } catch {
        throw new UsageError(`cannot read ${values.report}`);
      }
      const spec = await signerSpecFromOptions(values);
      const signer = await connectSigner({ rpcUrl: values.rpc, spec });
      context.account = signer.address;
      context.chainId = signer.chainId;
      context.rpcUrl = values.rpc;
      try {
        const ledger = createLedgerClient({
          rpc: createRpc({ url: values.rpc }),
          address: values.contract,
        });
        const r = await attestBatch({
          wallet: signer.wallet,
          ledger,
          batchId,
          verdict,
          reportBytes,
        });
        if (values.json === true)
          process.stdout.write(JSON.stringify({ batchId, verdict, ...r }) + "\n");
        else
          process.stdout.write(
            `attested batch ${batchId}: ${verdict} by ${r.auditor}\nreport hash ${r.reportHash}\ntx ${r.txHash} (block ${r.blockNumber})\n`,
          );
        return 0;
      } finally {
        signer.provider.destroy();
      }
    } catch (error) {
      return reportError("attest", explainChainError(error, context), USAGE);
    }
  },
};

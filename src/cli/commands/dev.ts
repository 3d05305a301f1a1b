/**
 * `shafaf dev fund --rpc URL (--to ADDR | --keystore FILE) [--amount ETH] [--from dev:N]`: gas
 * money for a new account on the development chain (chain id 31337 only).
 */
import { isAddress } from "ethers";
import type { CliCommand } from "../command.ts";
import { parseCommandLine, parseSubcommand } from "../parse-command-line.ts";
import { UsageError, reportError } from "../command-support.ts";
import { readKeystoreAddress } from "../../chain/keystore.ts";
import { formatEth, fundDevAccount } from "../../chain/fund-dev-account.ts";

const USAGE = `usage: shafaf dev fund --rpc URL (--to ADDR | --keystore FILE) [--amount ETH] [--from dev:N] [--json]

On the development chain only (chain id 31337: npx hardhat node, npm start), sends ETH for gas
from one of Hardhat's development accounts to a new account. Any other chain is refused.

  --rpc URL         the development chain's JSON-RPC endpoint (e.g. http://127.0.0.1:8545)
  --to ADDR         the account to fund
  --keystore FILE   or: the account of this keystore (its address is read; no password needed)
  --amount ETH      how much (default 10)
  --from dev:N      the development account that pays (default dev:0)
  --json            print {"to", "amountWei", "txHash", "balanceWei"} on stdout`;

export const command: CliCommand = {
  summary: "development chain only: fund an account with ETH for gas (shafaf dev fund)",
  async run(argv) {
    const split = parseSubcommand("dev", USAGE, argv, ["fund"]);
    if (typeof split === "number") return split;
    const { rest } = split;
    const parsed = parseCommandLine("dev fund", USAGE, rest, {
      rpc: { type: "string" },
      to: { type: "string" },
      keystore: { type: "string" },
      amount: { type: "string" },
      from: { type: "string" },
      json: { type: "boolean" },
    });
    if (typeof parsed === "number") return parsed;
    const { values, positionals } = parsed;
    try {
      if (positionals.length > 0)
        throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
      if (values.rpc === undefined) throw new UsageError("--rpc URL is required");
      if ((values.to === undefined) === (values.keystore === undefined))
        throw new UsageError("give exactly one of --to ADDR or --keystore FILE");
      if (values.to !== undefined && !isAddress(values.to))
        throw new UsageError(`--to ${JSON.stringify(values.to)} is not an address`);
      const to = values.to ?? (await readKeystoreAddress(values.keystore!));
      const r = await fundDevAccount({
        rpcUrl: values.rpc,
        to,
        amount: values.amount ?? "10",
        from: values.from,
      });
      process.stdout.write(
        values.json === true
          ? JSON.stringify({
              from: r.from,
              to: r.to,
              amountWei: r.amountWei.toString(),
              txHash: r.txHash,
              blockNumber: r.blockNumber,
              balanceWei: r.balanceWei.toString(),
            }) + "\n"
          : `sent ${formatEth(r.amountWei)} ETH to ${r.to} (balance now ${formatEth(r.balanceWei)} ETH; tx ${r.txHash}, block ${r.blockNumber})\n`,
      );
      return 0;
    } catch (error) {
      const status = reportError("dev fund", error, USAGE);
      return status;
    }
  },
};

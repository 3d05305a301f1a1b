/**
 * `shafaf deploy --rpc URL (--keystore FILE | --signer dev:<n>) [--anchorer ADDR]… [--auditor ADDR]…
 * [--pauser ADDR]… [--admin ADDR] [--admin-delay SECONDS] [--json]`: deploys the ledger contract
 * with its roles granted in the constructor, so a new user needs no Hardhat knowledge.
 */
import { isAddress } from "ethers";
import type { CliCommand } from "../command.ts";
import { parseCommandLine, usageError } from "../parse-command-line.ts";
import { readFile } from "node:fs/promises";
import { deployLedger } from "../../chain/deploy-ledger.ts";
import { deployGovernance, type DeployGovernanceResult } from "../../chain/governance.ts";
import { connectSigner } from "../../chain/signer.ts";
import { explainChainError, type ExplainContext } from "../../chain/explain-error.ts";
import { UsageError, reportError, signerSpecFromOptions } from "../command-support.ts";

const USAGE = `usage: shafaf deploy --rpc URL (--keystore FILE | --signer dev:N) [options]

Deploys the TransparencyLedger contract and grants its roles.

  --rpc URL              the chain's JSON-RPC endpoint
  --keystore FILE        pay with an encrypted keystore (password: SHAFAF_KEYSTORE_PASSWORD or prompt)
  --signer dev:N         pay with development account N (chain 31337 only)
  --anchorer ADDR        may anchor batches (repeatable; default: the deploying account)
  --auditor ADDR         may attest batches (repeatable)
  --pauser ADDR          may pause the ledger (repeatable; default: the deploying account)
  --vrf-registrar ADDR   may register the person-key VRF key (shafaf keys register-vrf;
                         repeatable; default: the deploying account when it is the admin)
  --admin ADDR           DEFAULT_ADMIN_ROLE, governance in production (default: the deploying account)
  --governance FILE      first deploy the institutions' council and its timelock from FILE
                         ({"institutions": [ADDR, …], "threshold": K, "minDelaySeconds": S});
                         the timelock becomes the ledger's admin (not with --admin)
  --admin-delay SECONDS  wait before an admin handover takes effect (default 0 on chain 31337, else 86400)
  --json                 print {"address", "chainId", …} on stdout
  --quiet                print only the contract's address (for ADDR=$(shafaf deploy … --quiet))`;

/** Reads and checks the --governance file. */
async function readGovernanceFile(
  file: string,
): Promise<{ institutions: string[]; threshold: number; minDelaySeconds: number }> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new UsageError(
      `--governance ${file}: cannot read it as JSON (${(error as Error).message})`,
    );
  }
  const g = json as { institutions?: unknown; threshold?: unknown; minDelaySeconds?: unknown };
  if (Array.isArray(g.institutions)) {
    g.institutions.forEach((a: unknown, i) => {
      if (typeof a !== "string" || !isAddress(a)) {
        throw new UsageError(
          `--governance ${file}: institutions[${i}] is not an address (check its checksum or use lower case)`,
        );
      }
    });
  }
  if (
    !Array.isArray(g.institutions) ||
    !g.institutions.every((a) => typeof a === "string" && isAddress(a)) ||
    typeof g.threshold !== "number" ||
    typeof g.minDelaySeconds !== "number"
  ) {
    throw new UsageError(
      `--governance ${file}: expected {"institutions": ["0x…", …], "threshold": K, "minDelaySeconds": S}`,
    );
  }
  return {
    institutions: g.institutions,
    threshold: g.threshold,
    minDelaySeconds: g.minDelaySeconds,
  };
}

export const command: CliCommand = {
  summary: "deploy the ledger contract and grant its roles",
  async run(argv) {
    const parsed = parseCommandLine("deploy", USAGE, argv, {
      rpc: { type: "string" },
      keystore: { type: "string" },
      signer: { type: "string" },
      anchorer: { type: "string", multiple: true },
      "vrf-registrar": { type: "string", multiple: true },
      auditor: { type: "string", multiple: true },
      pauser: { type: "string", multiple: true },
      admin: { type: "string" },
      "admin-delay": { type: "string" },
      governance: { type: "string" },
      json: { type: "boolean" },
      quiet: { type: "boolean" },
    });
    if (typeof parsed === "number") return parsed;
    const { values } = parsed;
    if (parsed.positionals.length > 0)
      return usageError("deploy", USAGE, `unexpected argument "${parsed.positionals[0]}"`);
    const context: ExplainContext = { rpcUrl: values.rpc, action: "deploying the ledger" };
    try {
      if (values.rpc === undefined) throw new UsageError("--rpc URL is required");
      if (values.json === true && values.quiet === true)
        throw new UsageError("--json and --quiet exclude each other");
      let governance:
        { institutions: string[]; threshold: number; minDelaySeconds: number } | undefined;
      if (values.governance !== undefined) {
        if (values.admin !== undefined)
          throw new UsageError("--governance and --admin exclude each other");
        governance = await readGovernanceFile(values.governance);
      }
      for (const [flag, list] of [
        ["--anchorer", values.anchorer ?? []],
        ["--auditor", values.auditor ?? []],
        ["--pauser", values.pauser ?? []],
        ["--vrf-registrar", values["vrf-registrar"] ?? []],
        ["--admin", values.admin === undefined ? [] : [values.admin]],
      ] as const) {
        for (const a of list)
          if (!isAddress(a)) throw new UsageError(`${flag} ${JSON.stringify(a)} is not an address`);
      }
      let delay: number | undefined;
      if (values["admin-delay"] !== undefined) {
        if (!/^[0-9]{1,14}$/.test(values["admin-delay"]))
          throw new UsageError("--admin-delay must be whole seconds");
        delay = Number(values["admin-delay"]);
      }
      const spec = await signerSpecFromOptions(values);
      const signer = await connectSigner({ rpcUrl: values.rpc, spec });
      const me = signer.address;
      context.account = me;
      context.chainId = signer.chainId;
      const anchorers = values.anchorer ?? [me];
      const auditors = values.auditor ?? [];
      const pausers = values.pauser ?? [me];
      let gov: DeployGovernanceResult | undefined;
      if (governance !== undefined)
        gov = await deployGovernance({ signer: signer.wallet, ...governance });
      const admin = gov?.timelock ?? values.admin ?? me;
      const vrfRegistrars = values["vrf-registrar"] ?? (admin === me ? [me] : []);
      const result = await deployLedger({
        vrfRegistrars,
        signer: signer.wallet,
        admin,
        adminDelaySeconds: delay ?? (signer.chainId === 31337 ? 0 : 86_400),
        anchorers,
        auditors,
        pausers,
      });
      signer.provider.destroy();
      if (values.quiet === true) {
        process.stdout.write(result.address + "\n");
      } else if (values.json === true) {
        process.stdout.write(
          JSON.stringify({
            address: result.address,
            chainId: result.chainId,
            txHash: result.txHash,
            blockNumber: result.blockNumber,
            admin,
            anchorers,
            auditors,
            pausers,
            vrfRegistrars,
            ...(gov !== undefined ? { council: gov.council, timelock: gov.timelock } : {}),
          }) + "\n",
        );
      } else {
        process.stdout.write(
          [
            `deployed the ledger at ${result.address} on chain ${result.chainId} (block ${result.blockNumber})`,
            `  admin      ${admin}${gov !== undefined ? ` (timelock of council ${gov.council})` : ""}`,
            `  anchorers  ${anchorers.join(", ") || "(none)"}`,
            `  auditors   ${auditors.join(", ") || "(none)"}`,
            `  pausers    ${pausers.join(", ") || "(none)"}`,
            `  VRF key registrars  ${vrfRegistrars.join(", ") || "(none: governance grants vrf_key)"}`,
            `next: shafaf anchor FILE --kind premium --period YYYY-MM --rpc ${values.rpc} --contract ${result.address} …`,
          ].join("\n") + "\n",
        );
      }
      return 0;
    } catch (error) {
      const status = reportError("deploy", explainChainError(error, context), USAGE);
      return status;
    }
  },
};

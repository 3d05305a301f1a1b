import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import {
  buildNetwork,
  DEFAULT_BESU_IMAGE,
  generateTrialKeys,
  TRIAL_WARNING_FILE,
} from "../../network/build-network.ts";
import { checkNetwork, formatFinding } from "../../network/check-network.ts";
import { parseInstitutions } from "../../network/institutions.ts";
import { writeNetwork } from "../../network/write-network.ts";
import type { CliCommand } from "../command.ts";
import {
  EXIT_USAGE,
  parseCommandLine,
  parseSubcommand,
  usageError,
} from "../parse-command-line.ts";

const USAGE = `usage:
  shafaf network init --validators <n> --institutions <file> --out <dir>
                      [--chain-id N] [--block-period S] [--epoch N] [--request-timeout S]
                      [--fund WEI] [--besu-image IMAGE] [--generate] [--force]
  shafaf network check <dir>

init   writes a Hyperledger Besu QBFT network (genesis, node configs, static nodes, permissions,
       systemd units, a trial docker-compose.yml) from the institutions' PUBLIC keys.
       Defaults: --chain-id 1403 --block-period 2 --epoch 30000 --request-timeout 4.
       --generate makes throwaway keys for a local trial ONLY (written unencrypted into <dir>).
check  re-validates a network folder: genesis, validators, static nodes, allowlists, node configs.
       Exit 0 when consistent, 1 when something is wrong.`;

export const command: CliCommand = {
  summary:
    "Besu QBFT network kit: `network init` writes a permissioned network, `network check` validates one",
  async run(argv) {
    const split = parseSubcommand("network", USAGE, argv, ["init", "check"]);
    if (typeof split === "number") return split;
    return split.sub === "init" ? init(split.rest) : check(split.rest);
  },
};

async function init(argv: readonly string[]): Promise<number> {
  const parsed = parseCommandLine("network init", USAGE, argv, {
    validators: { type: "string" },
    institutions: { type: "string" },
    out: { type: "string" },
    "chain-id": { type: "string", default: "1403" },
    "block-period": { type: "string", default: "2" },
    epoch: { type: "string", default: "30000" },
    "request-timeout": { type: "string", default: "4" },
    fund: { type: "string" },
    "besu-image": { type: "string", default: DEFAULT_BESU_IMAGE },
    generate: { type: "boolean", default: false },
    force: { type: "boolean", default: false },
  });
  if (typeof parsed === "number") return parsed;
  const { values } = parsed;
  if (parsed.positionals.length > 0) return usage(`unexpected argument "${parsed.positionals[0]}"`);
  if (
    values.validators === undefined ||
    values.institutions === undefined ||
    values.out === undefined
  ) {
    return usage("init needs --validators, --institutions and --out");
  }
  const ints: Record<string, number> = {};
  for (const flag of [
    "validators",
    "chain-id",
    "block-period",
    "epoch",
    "request-timeout",
  ] as const) {
    const text = values[flag] ?? "";
    if (!/^\d+$/.test(text)) return usage(`--${flag} must be a positive integer, got "${text}"`);
    ints[flag] = Number(text);
  }
  let fundWei: bigint | undefined;
  if (values.fund !== undefined) {
    if (!/^\d+$/.test(values.fund))
      return usage(`--fund must be an integer amount of wei, got "${values.fund}"`);
    fundWei = BigInt(values.fund);
  }
  const text = await readFile(values.institutions, "utf8").catch((error: NodeJS.ErrnoException) => {
    process.stderr.write(
      `shafaf network: cannot read ${values.institutions} (${error.code ?? error.message})\n`,
    );
    return undefined;
  });
  if (text === undefined) return EXIT_USAGE;
  try {
    let institutions = parseInstitutions(text, values.institutions, {
      allowMissingKeys: values.generate,
    });
    let keyFiles = new Map<string, string>();
    if (values.generate) {
      const trial = generateTrialKeys(institutions, () => randomBytes(32));
      institutions = trial.file;
      keyFiles = new Map(trial.keyFiles);
    }
    const built = buildNetwork(institutions, {
      validators: ints.validators!,
      chainId: ints["chain-id"]!,
      blockPeriodSeconds: ints["block-period"]!,
      epochLength: ints.epoch!,
      requestTimeoutSeconds: ints["request-timeout"]!,
      besuImage: values["besu-image"],
      ...(fundWei === undefined ? {} : { fundWei }),
    });
    const files = new Map([...built.files, ...keyFiles]);
    const secret = new Set([...keyFiles.keys()].filter((k) => k !== TRIAL_WARNING_FILE));
    await writeNetwork(values.out, files, { force: values.force, secret });
    const out = process.stdout;
    out.write(`wrote ${files.size} files to ${values.out}\n`);
    for (const v of built.validators)
      out.write(
        `  validator ${v.institution.padEnd(16)} ${v.address}  ${v.enode.slice(0, 20)}…@${v.enode.split("@")[1]}\n`,
      );
    if (built.composeSkipped !== undefined)
      out.write(`  no docker-compose.yml: ${built.composeSkipped}\n`);
    if (keyFiles.size > 0) {
      process.stderr.write(
        `\n!!! --generate wrote ${secret.size} THROWAWAY private key(s) into ${values.out} (see ${TRIAL_WARNING_FILE}).\n` +
          "!!! For a local trial only: never anchor real records on this network.\n\n",
      );
    }
    const result = await checkNetwork(values.out);
    for (const f of result.findings) out.write(formatFinding(f) + "\n");
    out.write(result.ok ? "network check: ok\n" : "network check: FAILED\n");
    return result.ok ? 0 : 1;
  } catch (error) {
    const e = error as { shortMessage?: string; details?: string; message: string; code?: string };
    if (typeof e.code === "string" && e.code.startsWith("network.")) {
      process.stderr.write(
        `shafaf network: ${e.shortMessage ?? e.message}\n${e.details === undefined ? "" : e.details + "\n"}`,
      );
      return EXIT_USAGE;
    }
    throw error;
  }
}

async function check(argv: readonly string[]): Promise<number> {
  const parsed = parseCommandLine("network check", USAGE, argv, {});
  if (typeof parsed === "number") return parsed;
  const { positionals } = parsed;
  if (positionals.length !== 1) return usage("check needs exactly one network folder");
  const dir = positionals[0]!;
  const result = await checkNetwork(dir);
  for (const f of result.findings) process.stdout.write(formatFinding(f) + "\n");
  process.stdout.write(
    `${dir}: ${result.validators.length} genesis validator(s), ${result.nodes.length} node folder(s): ${result.ok ? "ok" : "FAILED"}\n`,
  );
  return result.ok ? 0 : 1;
}

function usage(message: string): number {
  return usageError("network", USAGE, message);
}

/**
 * The `shafaf` command line: the composition root. Each command lives in
 * `src/cli/commands/<name>.ts` and exports `command: CliCommand`; this file only dispatches.
 */
import type { CliCommand } from "./command.ts";
import { endOnClosedPipe } from "./end-on-closed-pipe.ts";
import { EXIT_USAGE } from "./parse-command-line.ts";
import { nativeProblem, nodeProblem } from "./preflight.ts";

/** Command name → module. A command module is loaded only when it runs. */
export const COMMANDS: Record<string, () => Promise<{ command: CliCommand }>> = {
  start: () => import("./commands/start.ts"),
  deploy: () => import("./commands/deploy.ts"),
  keys: () => import("./commands/keys.ts"),
  anchor: () => import("./commands/anchor.ts"),
  receipts: () => import("./commands/receipts.ts"),
  dbf: () => import("./commands/dbf.ts"),
  index: () => import("./commands/index.ts"),
  serve: () => import("./commands/serve.ts"),
  verify: () => import("./commands/verify.ts"),
  audit: () => import("./commands/audit.ts"),
  attest: () => import("./commands/attest.ts"),
  log: () => import("./commands/log.ts"),
  network: () => import("./commands/network.ts"),
  roles: () => import("./commands/roles.ts"),
  jobs: () => import("./commands/jobs.ts"),
  dev: () => import("./commands/dev.ts"),
  witness: () => import("./commands/witness.ts"),
  monitor: () => import("./commands/monitor.ts"),
  "verify-proof": () => import("./commands/verify-proof.ts"),
  person: () => import("./commands/person.ts"),
  mirror: () => import("./commands/mirror.ts"),
  data: () => import("./commands/data.ts"),
  backup: () => import("./commands/backup.ts"),
  restore: () => import("./commands/restore.ts"),
};

function usage(): string {
  return [
    "usage: shafaf <command> [options]   (shafaf <command> --help for its options)",
    "",
    "commands: " + Object.keys(COMMANDS).join(", "),
  ].join("\n");
}

/** Runs one command line and returns the process exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(usage() + "\n");
    return name === undefined ? EXIT_USAGE : 0;
  }
  const load = COMMANDS[name];
  if (load === undefined) {
    process.stderr.write(`shafaf: unknown command "${name}"\n${usage()}\n`);
    return EXIT_USAGE;
  }
  // Before the command's modules load Hardhat or ethers: a wrong Node gets one clear sentence.
  const problem = nodeProblem() ?? (name === "start" ? nativeProblem() : undefined);
  if (problem !== undefined) {
    process.stderr.write(`shafaf: ${problem}\n`);
    return 1;
  }
  // Files shafaf creates hold personal data (receipts, artifacts, LevelDB tables made later by
  // compaction, SSO lists): owner-only. Except the network kit, which holds none and writes its
  // files for other institutions with explicit modes (0644, keys 0600).
  if (name !== "network") process.umask(0o077);
  let mod: { command: CliCommand };
  try {
    mod = await load();
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_MODULE_NOT_FOUND") {
      process.stderr.write(`shafaf: the "${name}" command is not built yet\n`);
      return EXIT_USAGE;
    }
    throw error;
  }
  return mod.command.run(rest);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  endOnClosedPipe();
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      const e = error as { shortMessage?: string; message?: string };
      process.stderr.write(`shafaf: ${e.shortMessage ?? e.message ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}

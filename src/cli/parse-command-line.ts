import { parseArgs, type ParseArgsConfig } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** sysexits EX_USAGE: the command line was wrong. */
export const EXIT_USAGE = 64;

/**
 * Parses a command's options the same way for every command: `--help`/`-h` prints the usage
 * (exit 0); an unknown or malformed option prints the message and the usage (exit 64). Returns
 * the parsed values and positionals, or the exit status when the command should stop here.
 *
 * @example
 * const parsed = parseCommandLine("attest", USAGE, argv, { verdict: { type: "string" } });
 * if (typeof parsed === "number") return parsed;
 */
export function parseCommandLine<O extends Options>(
  name: string,
  usage: string,
  argv: readonly string[],
  options: O,
) {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    return usageError(name, usage, (error as Error).message);
  }
  if ((parsed.values as { help?: boolean }).help === true) {
    process.stdout.write(usage + "\n");
    return 0;
  }
  return parsed;
}

/**
 * Splits `<sub-command> [options…]` for commands that have sub-commands (`keys new`, `jobs list`):
 * `--help`, `-h` or `help` in place of the sub-command prints the usage (exit 0); a missing or
 * unknown one prints the message and the usage (exit 64). Returns the sub-command and the rest, or
 * the exit status when the command should stop here.
 *
 * @example
 * const split = parseSubcommand("keys", USAGE, argv, ["new", "show"]);
 * if (typeof split === "number") return split;
 */
export function parseSubcommand<S extends string>(
  name: string,
  usage: string,
  argv: readonly string[],
  subcommands: readonly S[],
): { sub: S; rest: string[] } | number {
  const [sub, ...rest] = argv;
  if (sub === "--help" || sub === "-h" || sub === "help") {
    process.stdout.write(usage + "\n");
    return 0;
  }
  if (sub === undefined) return usageError(name, usage, "missing sub-command");
  if (!(subcommands as readonly string[]).includes(sub)) {
    return usageError(name, usage, `unknown sub-command ${JSON.stringify(sub)}`);
  }
  return { sub: sub as S, rest };
}

/**
 * Prints `shafaf <name>: <message>` and the usage to stderr and returns 64, for a command line that
 * parsed but does not make sense (a missing required option, a value out of range).
 *
 * @example
 * if (values.out === undefined) return usageError("keys new", USAGE, "--out is required");
 */
export function usageError(name: string, usage: string, message: string): number {
  process.stderr.write(`shafaf ${name}: ${message}\n${usage}\n`);
  return EXIT_USAGE;
}

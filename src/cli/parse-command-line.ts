import { parseArgs, type ParseArgsConfig } from "node:util";

type Options = NonNullable<ParseArgsConfig["options"]>;

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
    process.stderr.write(`shafaf ${name}: ${(error as Error).message}\n${usage}\n`);
    return 64;
  }
  if ((parsed.values as { help?: boolean }).help === true) {
    process.stdout.write(usage + "\n");
    return 0;
  }
  return parsed;
}

/**
 * What the commands share: error reporting with exit statuses, and the signing options. Secrets never pass through here in clear except the
 * keystore password, which is read from the environment or a prompt and never printed.
 */
import { InvalidInputError, ShafafError, type ShafafErrorOptions } from "../core/errors.ts";
import { readKeystorePassword } from "../chain/keystore.ts";
import type { SignerSpec } from "../chain/signer.ts";
import { EXIT_USAGE } from "./parse-command-line.ts";

/** sysexits: the input data was wrong (validation failed). */
export const EXIT_DATA = 65;
/** Anything else (chain unreachable, transaction reverted, I/O). */
export const EXIT_FAILURE = 1;

/**
 * A command line that parsed but does not make sense (a required option missing, a value out of
 * range): printed with the command's usage text, exit 64. Not retryable: the user fixes the line.
 */
export class UsageError extends ShafafError {
  override name = "UsageError";
  constructor(shortMessage: string, options: ShafafErrorOptions = {}) {
    super(shortMessage, { code: "cli.usage", ...options, retryable: false });
  }
}

/**
 * Prints an error as `shafaf <command>: <short message>` plus its details, and the command's usage
 * after a {@link UsageError} when `usage` is given; returns the exit status (64 usage, 65 bad
 * input data, 1 anything else).
 */
export function reportError(commandName: string, error: unknown, usage?: string): number {
  const e = error as { shortMessage?: string; message?: string; details?: string };
  const head = e.shortMessage ?? e.message ?? String(error);
  process.stderr.write(`shafaf ${commandName}: ${head}\n`);
  if (e.details !== undefined && e.details !== "")
    process.stderr.write(`  ${e.details.replaceAll("\n", "\n  ")}\n`);
  if (error instanceof UsageError) {
    if (usage !== undefined) process.stderr.write(usage + "\n");
    return EXIT_USAGE;
  }
  if (error instanceof InvalidInputError) return EXIT_DATA;
  if (process.env.SHAFAF_DEBUG === "1" && error instanceof Error && error.stack !== undefined) {
    process.stderr.write(error.stack + "\n");
  }
  return EXIT_FAILURE;
}

/**
 * The signer from `--keystore FILE` or `--signer dev:<n>` (exactly one). Reads the keystore
 * password from SHAFAF_KEYSTORE_PASSWORD or a no-echo prompt.
 */
export async function signerSpecFromOptions(values: {
  keystore?: string | undefined;
  signer?: string | undefined;
}): Promise<SignerSpec> {
  if ((values.keystore === undefined) === (values.signer === undefined)) {
    throw new UsageError("give exactly one of --keystore FILE or --signer dev:<n>");
  }
  if (values.signer !== undefined) return { dev: values.signer };
  const password = await readKeystorePassword({
    env: process.env,
    stdin: process.stdin,
    stderr: process.stderr,
  });
  return { keystore: values.keystore!, password };
}

/**
 * `shafaf verify-proof --policy FILE --entry FILE PROOF.tlog-proof`: checks an offline proof of
 * logging (c2sp.org/tlog-proof) with no network: the checkpoint is signed by the policy's log key
 * and cosigned by a quorum of its witnesses, and the entry is in that checkpoint's tree.
 * Exit 0 verified, 1 failed (the failed check is named), 64 usage error, 65 unreadable input.
 */
import { readFile } from "node:fs/promises";
import type { CliCommand } from "../command.ts";
import { reportError, UsageError } from "../command-support.ts";
import { parseCommandLine } from "../parse-command-line.ts";
import { InvalidInputError } from "../../core/errors.ts";
import { hashLeaf } from "../../core/rfc6962.ts";
import { parseTrustPolicy } from "../../core/tlog-policy.ts";
import { verifyTlogProof } from "../../core/tlog-proof.ts";

const USAGE = `usage: shafaf verify-proof --policy FILE (--entry FILE | --leaf-hash HEX) [--json] PROOF

Verifies a .tlog-proof (c2sp.org/tlog-proof@v1) offline: the checkpoint it carries must be signed
by a log key of the trust policy (c2sp.org/tlog-policy) and cosigned by enough of its witnesses,
and the entry must be at the proof's index in that checkpoint's tree. No network is used.

  --policy FILE     the trust policy: log key, witnesses, quorum
  --entry FILE      the logged entry's bytes (its leaf hash is SHA-256(0x00 ‖ entry))
  --leaf-hash HEX   …or the 32-byte leaf hash in hex
  --json            print the result as JSON

Exit status: 0 verified, 1 failed (the check that failed is named), 64 usage error, 65 unreadable input.`;

async function readInput(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new InvalidInputError(`cannot read the ${what} ${file}`, {
      details:
        (error as { code?: string }).code === "ENOENT" ? "the file does not exist" : String(error),
      code: "cli.verify-proof.read",
    });
  }
}

export const command: CliCommand = {
  summary: "verify an offline proof of logging (.tlog-proof) against a trust policy",
  async run(argv) {
    const parsed = parseCommandLine("verify-proof", USAGE, argv, {
      policy: { type: "string" },
      entry: { type: "string" },
      "leaf-hash": { type: "string" },
      json: { type: "boolean" },
    });
    if (typeof parsed === "number") return parsed;
    const { values, positionals } = parsed;
    try {
      if (values.policy === undefined || positionals.length !== 1)
        throw new UsageError("give --policy FILE and one PROOF file");
      if ((values.entry === undefined) === (values["leaf-hash"] === undefined))
        throw new UsageError("give exactly one of --entry FILE or --leaf-hash HEX");
      const policy = parseTrustPolicy(
        (await readInput(values.policy, "policy")).toString("utf8"),
        values.policy,
      );
      let leafHash: Uint8Array;
      if (values.entry !== undefined)
        leafHash = hashLeaf(new Uint8Array(await readInput(values.entry, "entry")));
      else {
        if (!/^[0-9a-fA-F]{64}$/.test(values["leaf-hash"]!))
          throw new UsageError("--leaf-hash is 64 hex digits");
        leafHash = new Uint8Array(Buffer.from(values["leaf-hash"]!, "hex"));
      }
      const proof = (await readInput(positionals[0]!, "proof")).toString("utf8");
      const result = verifyTlogProof(proof, leafHash, policy);
      if (values.json === true) process.stdout.write(JSON.stringify(result) + "\n");
      else {
        for (const c of result.checks) {
          process.stdout.write(`${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.detail}\n`);
          if (c.expected !== undefined)
            process.stdout.write(
              `     expected ${c.expected}\n     computed ${c.computed ?? ""}\n`,
            );
        }
        process.stdout.write(result.status === "verified" ? "verified\n" : "failed\n");
      }
      return result.status === "verified" ? 0 : 1;
    } catch (error) {
      return reportError("verify-proof", error);
    }
  },
};

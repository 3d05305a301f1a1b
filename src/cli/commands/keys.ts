/**
 * `shafaf keys new [--out FILE]`: makes a new account in an encrypted JSON keystore and prints
 * only its address. `shafaf keys new-note --name NAME --out FILE [--witness]`: makes an Ed25519
 * signed-note key (the log's checkpoint key, or a witness's cosigning key) and prints its
 * verifier key. The password comes from SHAFAF_KEYSTORE_PASSWORD or a no-echo prompt.
 */
import { parseArgs } from "node:util";
import type { CliCommand } from "../command.ts";
import {
  KEYSTORE_PASSWORD_ENV,
  newKeystore,
  readKeystorePassword,
  writeKeystoreFile,
} from "../../chain/keystore.ts";
import { newNoteKeystore } from "../../chain/note-keystore.ts";
import { reportError } from "../../anchor/command-support.ts";

const USAGE = `usage: shafaf keys new [--out FILE] [--json]
       shafaf keys new-note --name NAME --out FILE [--witness] [--json]

new       makes a new account and writes it as an encrypted JSON keystore (mode 0600; default
          keystore-<address>.json in the current directory). Prints only the address.
new-note  makes an Ed25519 signed-note key named NAME (e.g. sso.example/ledger-log for the log,
          whose name is its checkpoint origin; auditor.example/witness with --witness) in an
          encrypted keystore (shafaf-note-key/1, mode 0600) and prints its verifier key: type
          0x01 for a log key, 0x04 (cosignature/v1) for a witness key. Put it in the trust policy.

The password comes from ${KEYSTORE_PASSWORD_ENV} or, on a terminal, a prompt that does not echo.`;

async function newNote(rest: readonly string[]): Promise<number> {
  let values: { name?: string; out?: string; witness?: boolean; json?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...rest],
      options: {
        name: { type: "string" },
        out: { type: "string" },
        witness: { type: "boolean" },
        json: { type: "boolean" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    process.stderr.write(`shafaf keys new-note: ${(error as Error).message}\n${USAGE}\n`);
    return 64;
  }
  if (values.name === undefined || values.out === undefined) {
    process.stderr.write(
      `shafaf keys new-note: --name NAME and --out FILE are required\n${USAGE}\n`,
    );
    return 64;
  }
  try {
    const password = await readKeystorePassword(
      { env: process.env, stdin: process.stdin, stderr: process.stderr },
      { prompt: "New keystore password: ", confirm: true },
    );
    const role = values.witness === true ? "witness" : "log";
    const { vkey, json } = await newNoteKeystore({ name: values.name, role, password });
    await writeKeystoreFile(values.out, json);
    process.stdout.write(
      values.json === true ? JSON.stringify({ vkey, role, file: values.out }) + "\n" : vkey + "\n",
    );
    return 0;
  } catch (error) {
    return reportError("keys new-note", error);
  }
}

export const command: CliCommand = {
  summary: "make an encrypted keystore for the anchoring, auditing or deploying account",
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === "--help" || sub === "-h") {
      process.stdout.write(USAGE + "\n");
      return 0;
    }
    if (sub === "new-note") return newNote(rest);
    if (sub !== "new") {
      process.stderr.write(
        `shafaf keys: unknown sub-command ${JSON.stringify(sub ?? "")}\n${USAGE}\n`,
      );
      return 64;
    }
    let values: { out?: string; json?: boolean; help?: boolean };
    try {
      ({ values } = parseArgs({
        args: [...rest],
        options: {
          out: { type: "string" },
          json: { type: "boolean" },
          help: { type: "boolean", short: "h" },
        },
        strict: true,
        allowPositionals: false,
      }));
    } catch (error) {
      process.stderr.write(`shafaf keys new: ${(error as Error).message}\n${USAGE}\n`);
      return 64;
    }
    if (values.help === true) {
      process.stdout.write(USAGE + "\n");
      return 0;
    }
    try {
      const password = await readKeystorePassword(
        { env: process.env, stdin: process.stdin, stderr: process.stderr },
        { prompt: "New keystore password: ", confirm: true },
      );
      const { address, json } = await newKeystore({ password });
      const out = values.out ?? `keystore-${address}.json`;
      await writeKeystoreFile(out, json);
      process.stdout.write(
        values.json === true ? JSON.stringify({ address, file: out }) + "\n" : address + "\n",
      );
      return 0;
    } catch (error) {
      return reportError("keys new", error);
    }
  },
};

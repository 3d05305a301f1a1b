/**
 * `shafaf witness --key FILE --policy FILE [--data-dir DIR] [--host H] [--port N]`: runs a
 * c2sp.org/tlog-witness witness with the institution's own cosigning key, for the logs named in
 * the policy file's `log` lines, keeping its state in `<data-dir>/witness` (LevelDB).
 */
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { CliCommand } from "../command.ts";
import { reportError, UsageError } from "../command-support.ts";
import { parseCommandLine, usageError } from "../parse-command-line.ts";
import { KEYSTORE_PASSWORD_ENV, readKeystorePassword } from "../../chain/keystore.ts";
import { loadNoteKeystore } from "../../chain/note-keystore.ts";
import { parseTrustPolicy } from "../../core/tlog-policy.ts";
import { ledgerCheckpointCheck } from "../witness-ledger-check.ts";
import { createWitness } from "../../witness/witness.ts";
import { createWitnessApp } from "../../witness/witness-app.ts";
import { openWitnessStore } from "../../witness/witness-store.ts";

const USAGE = `usage: shafaf witness --key FILE --policy FILE [options]

Runs a transparency-log witness (c2sp.org/tlog-witness): POST /add-checkpoint cosigns a log's
checkpoint when it is consistent with the last one this witness cosigned;
GET /<sha256(origin) hex>/checkpoint serves that checkpoint to monitors.

  --key FILE        the witness's note keystore (shafaf keys new-note --witness; password from
                    ${KEYSTORE_PASSWORD_ENV} or a prompt)
  --policy FILE     a c2sp.org/tlog-policy file; its \`log <vkey>\` lines are the logs witnessed
  --data-dir DIR    where the witness keeps what it cosigned (default .shafaf-witness)
  --host HOST       address to listen on (default 127.0.0.1)
  --port N          port (default 7380; 0 picks a free one)
  --rpc URL --contract LEDGER
                    cosign only checkpoints that match the ledger contract: no more entries than
                    the ledger has batches, and the ledger's recorded checkpoint root at its size
                    (repeat --rpc for several nodes: all must agree)
  --block-tag TAG   the block the ledger is read at: finalized (default), safe or latest

Exit status: 0 stopped cleanly (Ctrl-C), 64 usage error, 65 bad key or policy, 1 failure.`;

export const command: CliCommand = {
  summary: "run a transparency-log witness that cosigns consistent checkpoints",
  async run(argv) {
    const parsed = parseCommandLine("witness", USAGE, argv, {
      key: { type: "string" },
      policy: { type: "string" },
      "data-dir": { type: "string" },
      host: { type: "string" },
      port: { type: "string" },
      rpc: { type: "string", multiple: true },
      contract: { type: "string" },
      "block-tag": { type: "string" },
    });
    if (typeof parsed === "number") return parsed;
    const { values } = parsed;
    if (parsed.positionals.length > 0)
      return usageError("witness", USAGE, `unexpected argument "${parsed.positionals[0]}"`);
    try {
      if (values.key === undefined || values.policy === undefined)
        throw new UsageError("--key FILE and --policy FILE are required");
      const port = Number(values.port ?? 7380);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new UsageError(`--port ${values.port} is not a port number`);
      const policy = parseTrustPolicy(await readFile(values.policy, "utf8"), values.policy);
      if (policy.logs.length === 0)
        throw new UsageError(
          `${values.policy} has no \`log <vkey>\` line: the witness would witness nothing`,
        );
      const password = await readKeystorePassword({
        env: process.env,
        stdin: process.stdin,
        stderr: process.stderr,
      });
      if ((values.rpc === undefined) !== (values.contract === undefined))
        throw new UsageError("--rpc URL and --contract LEDGER go together");
      const tag = values["block-tag"] ?? "finalized";
      if (tag !== "finalized" && tag !== "safe" && tag !== "latest")
        throw new UsageError("--block-tag is finalized, safe or latest");
      const ledgerCheck =
        values.rpc === undefined
          ? undefined
          : ledgerCheckpointCheck({ rpcUrls: values.rpc, contract: values.contract!, tag });
      const key = await loadNoteKeystore(values.key, password, "witness");
      const store = await openWitnessStore(values["data-dir"] ?? ".shafaf-witness");
      const witness = createWitness({
        cosigner: key.signer(),
        logs: policy.logs.map((l) => l.verifier),
        store,
        ...(ledgerCheck !== undefined ? { ledgerCheck } : {}),
      });
      const server = createServer(createWitnessApp({ witness }));
      server.requestTimeout = 30_000;
      server.headersTimeout = 20_000;
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, values.host ?? "127.0.0.1", () => resolve());
      });
      const address = server.address() as AddressInfo;
      const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
      process.stdout.write(
        `shafaf witness: ${key.vkey}\n` +
          `shafaf witness: listening on http://${host}:${address.port} for ${policy.logs.map((l) => l.verifier.name).join(", ")}; Ctrl-C stops\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
          resolve();
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
      return 0;
    } catch (error) {
      return reportError("witness", error);
    }
  },
};

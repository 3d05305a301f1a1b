/**
 * `shafaf person prove --batch N --national-id ID --vrf-key FILE [--data-dir D] [--out FILE]`:
 * a person's `shafaf-person-proof/1` for one `shafaf-tree/2` batch — all their records in it with
 * a range proof, or an absence proof — for the person to keep and anyone to check with
 * `shafaf verify`. Staff only: it needs the VRF keystore and the batch's data directory.
 */
import path from "node:path";
import type { CliCommand } from "../command.ts";
import { parseCommandLine, parseSubcommand } from "../parse-command-line.ts";
import { UsageError, reportError } from "../command-support.ts";
import { writePrivateFile } from "../write-private-file.ts";
import { batchLogBundle } from "../batch-log-bundle.ts";
import { provePerson } from "../../anchor/prove-person.ts";
import { loadVrfKeystore, readKeystorePassword } from "../../chain/keystore.ts";
import { openLedgerStore, type LedgerStore } from "../../store/ledger-store.ts";
import { openDataKeyOption } from "../data-key-option.ts";

const USAGE = `usage: shafaf person prove --batch N --national-id ID --vrf-key FILE [--data-dir DIR] [--out FILE]
                           [--log-dir DIR [--log-policy FILE]] [--json]

prove  writes the person's shafaf-person-proof/1 for batch N (a shafaf-tree/2 batch anchored
       from DIR): every record of the person in the batch with a range proof ("these are all my
       records"), or an absence proof ("I am not in this batch"), and the VRF proof that ties the
       person's key to their identifier under the ledger's registered VRF key.

  --batch N           the batch id (required)
  --national-id ID    the person: a national ID, foreign:<12 digits> or insured:<no>:<ISO alpha-3>
  --vrf-key FILE      the person-key VRF keystore the batch was anchored with (password:
                      SHAFAF_KEYSTORE_PASSWORD or prompt)
  --data-dir DIR      where the batch was anchored from (default .shafaf)
  --data-key FILE     the data-encryption keystore, when the data directory is encrypted
  --log-dir DIR       add the batch's log bundle from the witnessed ledger log in DIR, so that the
                      proof verifies with no network (shafaf verify FILE --policy POLICY --vrf-key KEY)
  --log-policy FILE   with --log-dir: add it only when the checkpoint meets this trust policy
  --out FILE          write the proof to FILE (mode 0600: it names the person and their records);
                      default: standard output
  --json              print a JSON summary (with --out)

The proof holds the person's identifier and records: hand it only to that person.
Check it with: shafaf verify FILE --rpc URL   (or --root ROOT --vrf-key PUBLIC_KEY offline)

Exit status: 0 written, 64 usage error, 65 bad identifier or batch, 1 other failure.`;

export const command: CliCommand = {
  summary: "write a person's proof for a batch: all their records in it, or their absence",
  async run(argv) {
    const split = parseSubcommand("person", USAGE, argv, ["prove"]);
    if (typeof split === "number") return split;
    const parsed = parseCommandLine("person prove", USAGE, split.rest, {
      batch: { type: "string" },
      "national-id": { type: "string" },
      "vrf-key": { type: "string" },
      "data-dir": { type: "string" },
      "data-key": { type: "string" },
      "log-dir": { type: "string" },
      "log-policy": { type: "string" },
      out: { type: "string" },
      json: { type: "boolean" },
    });
    if (typeof parsed === "number") return parsed;
    const { values, positionals } = parsed;
    let store: LedgerStore | undefined;
    try {
      if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
      if (values.batch === undefined || !/^[1-9][0-9]{0,15}$/.test(values.batch))
        throw new UsageError("--batch N is required (a batch id: 1, 2, …)");
      if (values["national-id"] === undefined) throw new UsageError("--national-id ID is required");
      if (values["vrf-key"] === undefined)
        throw new UsageError("--vrf-key FILE is required (the VRF keystore the batch used)");
      if (values["log-policy"] !== undefined && values["log-dir"] === undefined)
        throw new UsageError("--log-policy goes with --log-dir");
      const password = await readKeystorePassword({
        env: process.env,
        stdin: process.stdin,
        stderr: process.stderr,
      });
      const { seed } = await loadVrfKeystore(values["vrf-key"], password);
      const dataKey = await openDataKeyOption(values["data-key"]);
      store = await openLedgerStore(path.resolve(values["data-dir"] ?? ".shafaf"), { dataKey });
      const proof = await provePerson({
        store,
        batchId: Number(values.batch),
        personId: values["national-id"],
        vrfSeed: seed,
      });
      const document =
        values["log-dir"] === undefined
          ? proof
          : {
              ...proof,
              log: await batchLogBundle(
                store,
                proof.batchId,
                values["log-dir"],
                values["log-policy"],
              ),
            };
      const text = JSON.stringify(document, null, 2) + "\n";
      const type = proof.records.length > 0 ? "range" : "absence";
      if (values.out === undefined) {
        process.stdout.write(text);
        return 0;
      }
      await writePrivateFile(values.out, text);
      if (values.json === true)
        process.stdout.write(
          JSON.stringify({
            file: values.out,
            batchId: proof.batchId,
            type,
            records: proof.records.length,
          }) + "\n",
        );
      else
        process.stdout.write(
          (type === "range"
            ? `wrote ${values.out}: ${proof.records.length} record(s) of the person in batch ${proof.batchId}, with the proof that there are no others`
            : `wrote ${values.out}: the proof that the person has no record in batch ${proof.batchId}`) +
            `\ncheck it: shafaf verify ${values.out} --rpc URL\n`,
        );
      return 0;
    } catch (error) {
      return reportError("person prove", error, USAGE);
    } finally {
      await store?.close();
    }
  },
};

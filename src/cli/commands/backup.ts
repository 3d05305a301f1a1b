/**
 * `shafaf backup --data-dir DIR --out ARCHIVE [--data-key FILE] [--plain] [--json]`: writes the
 * private archive of a stopped data directory (docs/spec/private-archive-v1.md), the half of a
 * backup the public mirror (`shafaf mirror export`) does not hold. Shows no record.
 */
import path from "node:path";
import { writePrivateArchive } from "../../store/private-archive.ts";
import type { CliCommand } from "../command.ts";
import { reportError, UsageError } from "../command-support.ts";
import { DATA_KEY_USAGE, openDataKeyOption } from "../data-key-option.ts";
import { parseCommandLine } from "../parse-command-line.ts";

const USAGE = `usage: shafaf backup --out ARCHIVE [--data-dir DIR] [--data-key FILE] [--plain] [--json]

Writes the private archive of a data directory (default .shafaf) into ARCHIVE (a new or empty
folder): each batch artifact's files as they are on disk (sealed), the pseudonym key (sealed),
the data-key binding, and the ledger store's and person-key cache's records as one
shafaf-ledger-records/1 file sealed with the data key; archive.json lists every file's SHA-256.
With the public mirror (shafaf mirror export) it is the whole backup: shafaf restore rebuilds
the data directory from both. Tiles and the index are rebuilt, not archived.
Not while shafaf anchor (or a shafaf serve with a signer) writes to the directory: the ledger
store is read directly. Read-only shafaf serve processes may keep running.
${DATA_KEY_USAGE}
  --plain            archive a directory that is not encrypted at rest (the archive then holds
                     national IDs, salts and amounts in plain; refused without it)
  --json             print a JSON summary

Exit status: 0 written, 1 refused or failed (the message says why), 64 usage error.`;

export const command: CliCommand = {
  summary: "write the private archive of a data directory (with the mirror: the backup)",
  async run(argv) {
    const parsed = parseCommandLine("backup", USAGE, argv, {
      "data-dir": { type: "string" },
      "data-key": { type: "string" },
      out: { type: "string" },
      plain: { type: "boolean" },
      json: { type: "boolean" },
    });
    if (typeof parsed === "number") return parsed;
    const { values, positionals } = parsed;
    try {
      if (positionals.length > 0) throw new UsageError(`unexpected ${positionals[0]}`);
      const out = values.out;
      if (out === undefined) throw new UsageError("--out ARCHIVE is required");
      const dataDir = path.resolve(values["data-dir"] ?? ".shafaf");
      const dataKey = await openDataKeyOption(values["data-key"]);
      const started = performance.now();
      const r = await writePrivateArchive({
        dataDir,
        out,
        dataKey,
        allowPlain: values.plain === true,
      });
      const seconds = (performance.now() - started) / 1000;
      if (values.json === true) process.stdout.write(JSON.stringify({ ...r, seconds }) + "\n");
      else {
        if (!r.sealed)
          process.stderr.write(
            "WARNING: the archive is NOT encrypted: it holds national IDs, salts and amounts in plain\n",
          );
        process.stdout.write(
          `archived ${r.batches} batches, ${r.records} records: ${r.files} files, ${r.bytes} bytes ` +
            `in ${seconds.toFixed(1)} s into ${r.out}${r.sealed ? " (sealed)" : ""}\n`,
        );
      }
      return 0;
    } catch (error) {
      return reportError("backup", error, USAGE);
    }
  },
};

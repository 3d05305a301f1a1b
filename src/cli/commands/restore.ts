/**
 * `shafaf restore --mirror SITE --archive ARCHIVE --data-dir NEW [--data-key FILE] [--json]`:
 * rebuilds a data directory from the public mirror and the private archive, checking every file
 * against the mirror and the archive before writing (src/store/restore-data-dir.ts).
 */
import path from "node:path";
import { restoreDataDir } from "../../store/restore-data-dir.ts";
import type { CliCommand } from "../command.ts";
import { reportError, UsageError } from "../command-support.ts";
import { DATA_KEY_USAGE, openDataKeyOption } from "../data-key-option.ts";
import { parseCommandLine } from "../parse-command-line.ts";

const USAGE = `usage: shafaf restore --mirror SITE --archive ARCHIVE --data-dir NEW [--data-key FILE] [--json]

Rebuilds a data directory NEW (absent or empty) from a mirror (shafaf mirror export) and a
private archive (shafaf backup) of the same ledger. Before anything is written, every archive
file is checked against archive.json, the mirror's files used against mirror.json, and the
archive's chain and batches against the mirror's (root, manifest hash); then each batch's tiles
are rebuilt and their tiles.json compared with the mirror's. NEW is written beside itself
(NEW.restoring) and moved in whole: a stopped restore leaves NEW as it was; run it again.
The index is rebuilt from the chain by shafaf index or shafaf serve.
  --mirror SITE      the mirror folder
  --archive ARCHIVE  the private archive folder
  --data-dir NEW     the data directory to create
${DATA_KEY_USAGE}
  --json             print a JSON summary

Exit status: 0 restored, 1 refused or failed (the message names the file or batch), 64 usage error.`;

export const command: CliCommand = {
  summary: "rebuild a data directory from the mirror and the private archive",
  async run(argv) {
    const parsed = parseCommandLine("restore", USAGE, argv, {
      mirror: { type: "string" },
      archive: { type: "string" },
      "data-dir": { type: "string" },
      "data-key": { type: "string" },
      json: { type: "boolean" },
    });
    if (typeof parsed === "number") return parsed;
    const { values, positionals } = parsed;
    try {
      if (positionals.length > 0) throw new UsageError(`unexpected ${positionals[0]}`);
      const mirror = values.mirror;
      const archive = values.archive;
      const dataDir = values["data-dir"];
      if (mirror === undefined || archive === undefined || dataDir === undefined)
        throw new UsageError("--mirror SITE, --archive ARCHIVE and --data-dir NEW are required");
      const dataKey = await openDataKeyOption(values["data-key"]);
      const started = performance.now();
      const r = await restoreDataDir({ mirror, archive, dataDir: path.resolve(dataDir), dataKey });
      const seconds = (performance.now() - started) / 1000;
      if (values.json === true) process.stdout.write(JSON.stringify({ ...r, seconds }) + "\n");
      else
        process.stdout.write(
          `restored ${r.batches} batches, ${r.records} records, ${r.files} files; tiles rebuilt for ` +
            `${r.tiled} batches in ${seconds.toFixed(1)} s into ${r.dataDir}\n` +
            "next: shafaf index --once (the index is rebuilt from the chain)\n",
        );
      return 0;
    } catch (error) {
      return reportError("restore", error, USAGE);
    }
  },
};

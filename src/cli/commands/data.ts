/**
 * `shafaf data encrypt --data-key FILE [--data-dir DIR]`: seals a plain data directory (made
 * before encryption at rest) in place with the data key; `shafaf data status [--data-dir DIR]`
 * says whether it is bound to a data key and how many artifacts are sealed. Shows no record.
 */
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { CliCommand } from "../command.ts";
import { parseCommandLine, parseSubcommand } from "../parse-command-line.ts";
import { UsageError, reportError } from "../command-support.ts";
import { InvalidInputError } from "../../core/errors.ts";
import { openLedgerStore, type LedgerStore } from "../../store/ledger-store.ts";
import { sealDataDirectory } from "../../store/seal-data-dir.ts";
import { bindDataKey, requireDataKey } from "../../store/private-store.ts";
import { openDataKeyOption } from "../data-key-option.ts";

const USAGE = `usage: shafaf data encrypt --data-key FILE [--data-dir DIR] [--json]
       shafaf data status [--data-dir DIR] [--json]
       shafaf data publish [--data-dir DIR] [--data-key FILE] [--json]

encrypt  seals the personal data at rest of a data directory (default .shafaf) made before
         encryption at rest: each batch artifact's records, record offsets and person keys, the
         receipts stored whole by older versions, the pseudonym key and the person-key cache, with
         the data key of FILE (shafaf keys new-data; password from
         SHAFAF_KEYSTORE_PASSWORD or the prompt). In place, file by file (temporary file, fsync,
         rename): a run that is stopped leaves everything readable with the key; run it again to
         finish. From then on the directory is bound to that key: anchor, serve, person prove,
         receipts and audit need --data-key FILE. Stop every shafaf serve first (they must be
         restarted with --data-key), and any anchor.
status   prints the data key the directory is bound to and how many artifacts are sealed.
publish  hands the anchored batches to shafaf serve: writes the locator tables (and tiles) of
         batches anchored before them, from their artifacts, then <data-dir>/published.json, the
         list serve reads (docs/spec/published-batches-v1.md). Once for a data directory made by
         an older version (shafaf anchor does it at its next run); idempotent. Needs the ledger
         store (stop shafaf anchor, or a serve that anchors uploads, first).`;

async function artifactCounts(dataDir: string): Promise<{ sealed: number; plain: number }> {
  const batches = path.join(dataDir, "batches");
  const out = { sealed: 0, plain: 0 };
  if (!existsSync(batches)) return out;
  for (const name of await readdir(batches)) {
    if (name.includes(".tmp-")) continue;
    const file = path.join(batches, name, "artifact.json");
    if (!existsSync(file)) continue;
    const d = JSON.parse(await readFile(file, "utf8")) as { encryption?: unknown };
    if (d.encryption === undefined) out.plain++;
    else out.sealed++;
  }
  return out;
}

export const command: CliCommand = {
  summary: "encrypt a data directory's personal data at rest with the data key; show its state",
  async run(argv) {
    const split = parseSubcommand("data", USAGE, argv, ["encrypt", "status", "publish"]);
    if (typeof split === "number") return split;
    const { sub, rest } = split;
    const parsed = parseCommandLine(`data ${sub}`, USAGE, rest, {
      "data-dir": { type: "string" },
      "data-key": { type: "string" },
      json: { type: "boolean" },
    });
    if (typeof parsed === "number") return parsed;
    const { values, positionals } = parsed;
    let store: LedgerStore | undefined;
    try {
      if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
      const dataDir = path.resolve(values["data-dir"] ?? ".shafaf");
      if (!existsSync(dataDir))
        throw new InvalidInputError(`${dataDir} does not exist`, {
          details: "give the --data-dir that `shafaf anchor` used (default .shafaf)",
          code: "data.no-data-dir",
        });
      if (sub === "status") {
        if (values["data-key"] !== undefined)
          throw new UsageError("--data-key is for data encrypt");
        const keyId = await bindDataKey(dataDir, undefined);
        const counts = await artifactCounts(dataDir);
        process.stdout.write(
          values.json === true
            ? JSON.stringify({ dataDir, keyId: keyId ?? null, ...counts }) + "\n"
            : `${dataDir}: ${keyId === undefined ? "not bound to a data key" : `bound to data key ${keyId}`}; ${counts.sealed} artifact(s) sealed, ${counts.plain} plain\n`,
        );
        return 0;
      }
      if (sub === "publish") {
        const dataKey = await openDataKeyOption(values["data-key"]);
        store = await openLedgerStore(dataDir, { dataKey });
        requireDataKey(dataDir, store.dataKeyId, dataKey);
        const done = await store.publish();
        process.stdout.write(
          values.json === true
            ? JSON.stringify({
                dataDir,
                ...done,
                ...(done.mergeError === undefined ? {} : { mergeError: done.mergeError.message }),
              }) + "\n"
            : `published ${done.published} batch(es) in ${path.join(dataDir, "published.json")}` +
                (done.migrated.length === 0
                  ? ""
                  : `; wrote the locator tables of ${done.migrated.length} (${done.migrated.join(", ")})`) +
                (done.skipped.length === 0
                  ? ""
                  : `; left out ${done.skipped.join(", ")} (artifact missing: restore it from the backup)`) +
                (done.merged === undefined || done.merged.length === 0
                  ? ""
                  : `; merged the locator tables of batches ${done.merged.map(([a, b]) => `${a}–${b}`).join(", ")}`) +
                (done.mergeError === undefined
                  ? ""
                  : `; merging the locator tables failed (published without the new ranges): ${done.mergeError.message}`) +
                "\n",
        );
        return 0;
      }
      if (values["data-key"] === undefined)
        throw new UsageError("--data-key FILE is required (make one with `shafaf keys new-data`)");
      const dataKey = (await openDataKeyOption(values["data-key"]))!;
      // Holds the directory (LevelDB's lock: no anchor or serve meanwhile) and binds it to the key.
      store = await openLedgerStore(dataDir, { dataKey });
      const done = {
        ...(await sealDataDirectory(dataDir, dataKey)),
        storedReceipts: await store.sealStoredReceipts(),
      };
      // The plain locator tables were removed: written again, sealed, for the readers.
      await store.publish();
      process.stdout.write(
        values.json === true
          ? JSON.stringify({ dataDir, keyId: dataKey.id, ...done }) + "\n"
          : `sealed ${done.files} file(s) of ${done.artifacts} artifact(s) (${done.alreadySealed} already sealed), ${done.storedReceipts} stored receipt(s) and ${done.cacheEntries} person-key cache entries with data key ${dataKey.id}\n`,
      );
      return 0;
    } catch (error) {
      return reportError(`data ${sub}`, error, USAGE);
    } finally {
      await store?.close();
    }
  },
};

/**
 * `shafaf receipts export --batch <id> --out <dir> [--format json|jsonl] [--log-dir DIR [--log-policy FILE]]`
 * and `shafaf receipts show <code>`: the receipts the anchor pipeline stored, for handing out;
 * with `--log-dir`, each with its batch's log bundle (docs/spec/log-bundle-v1.md) so that it
 * verifies with no network (`shafaf verify FILE --policy POLICY`).
 */
import { mkdir, open, writeFile } from "node:fs/promises";
import path from "node:path";
import type { CliCommand } from "../command.ts";
import { parseCommandLine, parseSubcommand } from "../parse-command-line.ts";
import { UsageError, reportError } from "../command-support.ts";
import { openLedgerStore, type LedgerStore } from "../../store/ledger-store.ts";
import { openDataKeyOption } from "../data-key-option.ts";
import { ShafafError } from "../../core/errors.ts";
import type { LogBundle } from "../../core/log-bundle.ts";
import { batchLogBundle } from "../batch-log-bundle.ts";

const USAGE = `usage: shafaf receipts export --batch ID --out DIR [--format json|jsonl] [--data-dir DIR]
                               [--log-dir DIR [--log-policy FILE]]
       shafaf receipts show CODE [--data-dir DIR]
       (either: --data-key FILE, the data-encryption keystore, when the data directory is encrypted)

export  writes every receipt of batch ID: --format json (default) one <record_id>.json per record
        (characters other than A-Z a-z 0-9 . _ - written as %XX), --format jsonl one file
        batch-<ID>.receipts.jsonl with one receipt per line, in input order.
        --log-dir DIR adds to each receipt its batch's log bundle from the witnessed ledger log
        in DIR (the batch's entry and its proof in the log's cosigned checkpoint), so that it
        verifies offline with \`shafaf verify FILE --policy POLICY\`; --log-policy FILE refuses
        a checkpoint that does not satisfy that trust policy's quorum.
show    prints the receipt with this code.`;

/** A record id as a file name: every character outside [A-Za-z0-9._-] becomes %XX (reversible, collision-free). */
export function receiptFileName(recordId: string): string {
  const safe = Array.from(new TextEncoder().encode(recordId))
    .map((b) => {
      const c = String.fromCharCode(b);
      return /[A-Za-z0-9_-]/.test(c) || (c === "." && recordId !== "." && recordId !== "..")
        ? c
        : "%" + b.toString(16).toUpperCase().padStart(2, "0");
    })
    .join("");
  return `${safe}.json`;
}

const PAGE = 1000;

async function exportBatch(
  store: LedgerStore,
  batchId: number,
  out: string,
  format: "json" | "jsonl",
  bundle?: LogBundle,
): Promise<{ count: number; target: string }> {
  const batch = await store.getBatch(batchId);
  if (batch === undefined) {
    throw new ShafafError(`no batch ${batchId} in ${store.dataDir}`, {
      details: "list the anchored batches with `shafaf log`, or check --data-dir",
      code: "receipts.batch.unknown",
    });
  }
  const artifact = await store.getBatchArtifact(batchId);
  if (artifact === undefined) throw new ShafafError(`the artifact of batch ${batchId} is missing`);
  // Receipts hold national IDs and amounts: owner-only, whatever the umask.
  await mkdir(out, { recursive: true, mode: 0o700 });
  const target = format === "jsonl" ? path.join(out, `batch-${batchId}.receipts.jsonl`) : out;
  const fh = format === "jsonl" ? await open(target, "w", 0o600) : undefined;
  let count = 0;
  try {
    let page: { recordId: string; code: string }[] = [];
    let after: number | undefined;
    const flush = async (): Promise<void> => {
      if (page.length === 0) return;
      const receipts = await store.listReceiptsOfBatch(batchId, {
        ...(after !== undefined ? { after } : {}),
        limit: page.length,
      });
      if (receipts.length !== page.length) {
        throw new ShafafError(
          `batch ${batchId} has ${count + receipts.length} receipts where ${count + page.length} were expected`,
          {
            details: "its anchoring job did not finish: run the same `shafaf anchor` command again",
            code: "receipts.incomplete",
          },
        );
      }
      if (bundle !== undefined) for (const r of receipts) r.log = bundle;
      const lines: string[] = [];
      for (let i = 0; i < page.length; i++) {
        const text = JSON.stringify(receipts[i]);
        if (fh !== undefined) lines.push(text + "\n");
        else
          await writeFile(
            path.join(out, receiptFileName(page[i]!.recordId)),
            JSON.stringify(receipts[i], null, 2) + "\n",
            { mode: 0o600 },
          );
      }
      if (fh !== undefined) await fh.write(lines.join(""));
      count += page.length;
      after = (after ?? -1) + page.length;
      page = [];
    };
    for await (const line of artifact.records()) {
      page.push({ recordId: String(line.record.recordId), code: line.code });
      if (page.length >= PAGE) await flush();
    }
    await flush();
  } finally {
    await fh?.close();
  }
  return { count, target };
}

export const command: CliCommand = {
  summary: "export a batch's receipts, or show one receipt by its code",
  async run(argv) {
    const split = parseSubcommand("receipts", USAGE, argv, ["export", "show"]);
    if (typeof split === "number") return split;
    const { sub, rest } = split;
    const parsed = parseCommandLine(`receipts ${sub}`, USAGE, rest, {
      batch: { type: "string" },
      out: { type: "string" },
      format: { type: "string" },
      "data-dir": { type: "string" },
      "data-key": { type: "string" },
      "log-dir": { type: "string" },
      "log-policy": { type: "string" },
      json: { type: "boolean" },
    });
    if (typeof parsed === "number") return parsed;
    const { values, positionals } = parsed;
    let store: LedgerStore | undefined;
    try {
      const dataDir = path.resolve(values["data-dir"] ?? ".shafaf");
      if (sub === "export") {
        if (positionals.length > 0) throw new UsageError(`unexpected ${positionals.join(" ")}`);
        if (values.batch === undefined || !/^[1-9][0-9]{0,15}$/.test(values.batch)) {
          throw new UsageError("--batch ID is required (a batch number, 1, 2, …)");
        }
        if (values.out === undefined) throw new UsageError("--out DIR is required");
        const format = values.format ?? "json";
        if (format !== "json" && format !== "jsonl")
          throw new UsageError("--format must be json or jsonl");
        if (values["log-policy"] !== undefined && values["log-dir"] === undefined)
          throw new UsageError("--log-policy goes with --log-dir");
        store = await openLedgerStore(dataDir, {
          dataKey: await openDataKeyOption(values["data-key"]),
        });
        const bundle =
          values["log-dir"] === undefined
            ? undefined
            : await batchLogBundle(
                store,
                Number(values.batch),
                values["log-dir"],
                values["log-policy"],
              );
        const { count, target } = await exportBatch(
          store,
          Number(values.batch),
          values.out,
          format,
          bundle,
        );
        process.stdout.write(
          values.json === true
            ? JSON.stringify({ batchId: Number(values.batch), count, format, out: target }) + "\n"
            : `wrote ${count} receipt(s) of batch ${values.batch} to ${target}\n`,
        );
        return 0;
      }
      // sub === "show"
      const code = positionals[0];
      if (code === undefined || positionals.length !== 1)
        throw new UsageError("give exactly one receipt code");
      store = await openLedgerStore(dataDir, {
        dataKey: await openDataKeyOption(values["data-key"]),
      });
      const receipt = await store.getReceiptByCode(code.trim());
      if (receipt === undefined) {
        throw new ShafafError("no receipt with this code", {
          details: `checked ${dataDir}; check the code for typing mistakes, or --data-dir`,
          code: "receipts.unknown",
        });
      }
      process.stdout.write(JSON.stringify(receipt, null, 2) + "\n");
      return 0;
    } catch (error) {
      const status = reportError("receipts", error, USAGE);
      return status;
    } finally {
      await store?.close();
    }
  },
};

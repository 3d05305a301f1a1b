/**
 * `shafaf log verify --rpc URL --contract ADDR [--from-block N] [--json]`: recomputes the log head
 * over every BatchAnchored event and compares it with the contract's head(). Exit 0 ok, 1 mismatch.
 *
 * `shafaf log proof --log-dir DIR --batch N [--out PREFIX]`: writes batch N's ledger log entry
 * and an offline c2sp.org/tlog-proof of it in the tree of the log's served (cosigned) checkpoint.
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseCheckpoint } from "../../core/checkpoint.ts";
import { InvariantError } from "../../core/errors.ts";
import { parseLedgerLogEntry } from "../../core/ledger-log-entry.ts";
import { parseNote, type NoteSigner } from "../../core/signed-note.ts";
import { openTiledLog } from "../../log/tiled-log.ts";
import type { CliCommand } from "../command.ts";
import { parseCommandLine } from "../parse-command-line.ts";
import { UsageError, reportError } from "../command-support.ts";
import { verifyLogHead } from "../../audit/verify-log-head.ts";
import { createRpc } from "../../chain/rpc.ts";

const USAGE = `usage: shafaf log verify --rpc URL --contract ADDR [--from-block N] [--json]
       shafaf log proof --log-dir DIR --batch N [--out PREFIX]

Recomputes the ledger's log head from every BatchAnchored event and compares it with head().
  --rpc URL          the node (repeat for fail-over)
  --from-block N     the ledger's deployment block (default 0)
  --json             print one JSON result

proof writes PREFIX.entry (batch N's ledger log entry, docs/spec/log-entry-v1.md) and
PREFIX.tlog-proof (its inclusion in the tree of DIR's checkpoint, with the checkpoint and its
cosignatures), for \`shafaf verify-proof --policy FILE --entry PREFIX.entry PREFIX.tlog-proof\`.
  --log-dir DIR      the ledger log's directory (shafaf serve --log-dir; the demo prints it)
  --batch N          the batch id
  --out PREFIX       file name prefix (default batch-N)

Exit status: 0 the head matches (verify) or the files are written (proof), 1 mismatch or
failure, 64 usage error.`;

/** A signer for opening a log read-only: it names the origin and refuses to sign. */
function readOnly(origin: string): NoteSigner {
  return {
    name: origin,
    keyId: 0,
    sign() {
      throw new InvariantError("shafaf log proof opens the log read-only and signs nothing", {
        code: "log.read-only",
      });
    },
  };
}

async function proof(values: {
  "log-dir"?: string | undefined;
  batch?: string | undefined;
  out?: string | undefined;
}): Promise<number> {
  const dir = values["log-dir"];
  const batchText = values.batch;
  if (dir === undefined || batchText === undefined)
    throw new UsageError("--log-dir DIR and --batch N are required");
  if (!/^[1-9]\d{0,14}$/.test(batchText))
    throw new UsageError("--batch must be a batch id (1, 2, …)");
  const batchId = Number(batchText);
  let note: string;
  try {
    note = await readFile(path.join(dir, "checkpoint"), "utf8");
  } catch (error) {
    if ((error as { code?: string }).code !== "ENOENT") throw error;
    throw new UsageError(
      `${dir} has no checkpoint: it is not a ledger log, or nothing is logged yet`,
    );
  }
  const checkpoint = parseCheckpoint(parseNote(note).text);
  if (batchId > checkpoint.size)
    throw new UsageError(
      `batch ${batchId} is not in the log's checkpoint yet (size ${checkpoint.size}); try again after the next append`,
    );
  const log = await openTiledLog({
    dir,
    origin: checkpoint.origin,
    signer: readOnly(checkpoint.origin),
  });
  const entry = log.entry(batchId - 1);
  if (parseLedgerLogEntry(entry).batchId !== batchId)
    throw new InvariantError(`entry ${batchId - 1} of ${dir} is not batch ${batchId}`, {
      code: "log.order",
    });
  const text = log.tlogProof(batchId - 1, checkpoint.size, note);
  const prefix = values.out ?? `batch-${batchId}`;
  await writeFile(`${prefix}.entry`, entry);
  await writeFile(`${prefix}.tlog-proof`, text);
  process.stdout.write(
    `wrote ${prefix}.entry and ${prefix}.tlog-proof: batch ${batchId} is entry ${batchId - 1} of ${checkpoint.origin} at size ${checkpoint.size}\n`,
  );
  return 0;
}

export const command: CliCommand = {
  summary:
    "verify the whole ledger log (the head from events against head()), or write an offline proof of a batch in the witnessed log",
  async run(argv) {
    const parsed = parseCommandLine("log", USAGE, argv, {
      rpc: { type: "string", multiple: true },
      contract: { type: "string" },
      "from-block": { type: "string" },
      json: { type: "boolean" },
      "log-dir": { type: "string" },
      batch: { type: "string" },
      out: { type: "string" },
    });
    if (typeof parsed === "number") return parsed;
    const { values, positionals } = parsed;
    try {
      if (positionals.length === 1 && positionals[0] === "proof") return await proof(values);
      if (positionals.length !== 1 || positionals[0] !== "verify")
        throw new UsageError("the sub-commands are `shafaf log verify` and `shafaf log proof`");
      if (values.rpc === undefined || values.contract === undefined)
        throw new UsageError("--rpc URL and --contract ADDR are required");
      const fromText = values["from-block"];
      if (fromText !== undefined && !/^\d+$/.test(fromText))
        throw new UsageError("--from-block must be a block number");
      const r = await verifyLogHead({
        rpc: createRpc({ urls: values.rpc, retries: 2 }),
        contract: values.contract,
        fromBlock: fromText === undefined ? undefined : Number(fromText),
      });
      if (values.json === true) process.stdout.write(JSON.stringify(r, null, 2) + "\n");
      else {
        process.stdout.write(
          `checked ${r.batchesChecked} batches (batchCount ${r.batchCount}) at block ${r.atBlock}\n` +
            `head()      ${r.onChainHead}\nrecomputed  ${r.recomputedHead}\n`,
        );
        for (const p of r.problems) process.stdout.write(`✗ ${p}\n`);
        process.stdout.write(
          r.status === "ok" ? "OK: the log head matches every anchored batch\n" : "MISMATCH\n",
        );
      }
      return r.status === "ok" ? 0 : 1;
    } catch (error) {
      return reportError("log", error, USAGE);
    }
  },
};

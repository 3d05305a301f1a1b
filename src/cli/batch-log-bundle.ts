/**
 * A batch's log bundle (docs/spec/log-bundle-v1.md) read from a witnessed ledger log directory,
 * for the commands that hand documents out (`receipts export`, `person prove`) with `--log-dir`.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { ShafafError } from "../core/errors.ts";
import type { LogBundle } from "../core/log-bundle.ts";
import { parseTrustPolicy } from "../core/tlog-policy.ts";
import { createLogBundleSource, openLogForBundles } from "../log/log-bundle-source.ts";
import type { LedgerStore } from "../store/ledger-store.ts";
import { UsageError } from "./command-support.ts";

/** Batch `batchId`'s log bundle from the log in `dir`, checked against the store's batch root. */
export async function batchLogBundle(
  store: LedgerStore,
  batchId: number,
  dir: string,
  policyFile: string | undefined,
): Promise<LogBundle> {
  let note: string;
  try {
    note = await readFile(path.join(dir, "checkpoint"), "utf8");
  } catch {
    throw new UsageError(
      `${dir} has no checkpoint: it is not a ledger log, or nothing is logged yet`,
    );
  }
  const policy =
    policyFile === undefined
      ? undefined
      : parseTrustPolicy(await readFile(policyFile, "utf8"), policyFile);
  const log = await openLogForBundles(dir, note);
  const found = await createLogBundleSource({ log, ...(policy === undefined ? {} : { policy }) })(
    batchId,
  );
  if (!found.ok)
    throw new ShafafError(`no log bundle for batch ${batchId}: ${found.detail}`, {
      details:
        found.reason === "below-quorum"
          ? "the log's checkpoint is not cosigned by the policy's quorum yet: wait for the witnesses, or export without --log-dir"
          : "wait until the server has logged the batch (GET /log/checkpoint), or export without --log-dir",
      code: `receipts.log.${found.reason}`,
    });
  const batch = await store.getBatch(batchId);
  if (batch !== undefined && batch.root.toLowerCase() !== found.root.toLowerCase())
    throw new ShafafError(`the ledger log names another root for batch ${batchId} than the store`, {
      details: `log ${found.root}, store ${batch.root}: compare the log with the chain (shafaf log verify)`,
      code: "receipts.log.root",
    });
  return found.bundle;
}

/**
 * `shafaf log verify --rpc URL --contract ADDR [--from-block N] [--log-dir DIR] [--json]`:
 * recomputes the log head over every BatchAnchored event and compares it with the contract's
 * head(); with --log-dir, also compares the ledger log's tree with the checkpoint the ledger
 * recorded (`logCheckpoint()`). Exit 0 ok, 1 mismatch.
 *
 * `shafaf log policy FILE [--rpc URL --contract ADDR [--set --signer|--keystore]]`: the trust
 * policy's SHA-256 (docs/spec/trust-policy-v1.md), compared with the one the ledger recorded, or
 * recorded by the ledger's admin account (a governed ledger: `shafaf roles propose --trust-policy`).
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
import { createLedgerClient } from "../../chain/ledger-client.ts";
import { createRpc, type Rpc } from "../../chain/rpc.ts";
import { setTrustPolicy } from "../../chain/set-trust-policy.ts";
import { connectSigner } from "../../chain/signer.ts";
import { bytesToHex } from "../../core/hex.ts";
import { trustPolicyHash } from "../../core/tlog-policy.ts";
import { signerSpecFromOptions } from "../command-support.ts";

const USAGE = `usage: shafaf log verify --rpc URL --contract ADDR [--from-block N] [--log-dir DIR] [--json]
       shafaf log proof --log-dir DIR --batch N [--out PREFIX]
       shafaf log policy FILE [--rpc URL --contract ADDR [--set --signer dev:N|--keystore FILE]]

Recomputes the ledger's log head from every BatchAnchored event and compares it with head().
  --rpc URL          the node (repeat for fail-over)
  --from-block N     the ledger's deployment block (default 0)
  --log-dir DIR      also check that the ledger log in DIR has, at the size of the checkpoint the
                     ledger recorded (logCheckpoint()), the root the ledger recorded
  --json             print one JSON result

proof writes PREFIX.entry (batch N's ledger log entry, docs/spec/log-entry-v1.md) and
PREFIX.tlog-proof (its inclusion in the tree of DIR's checkpoint, with the checkpoint and its
cosignatures), for \`shafaf verify-proof --policy FILE --entry PREFIX.entry PREFIX.tlog-proof\`.
  --log-dir DIR      the ledger log's directory (shafaf serve --log-dir; the demo prints it)
  --batch N          the batch id
  --out PREFIX       file name prefix (default batch-N)

policy prints the SHA-256 of a trust-policy file (after checking it is one); with --rpc and
--contract, compares it with the hash the ledger recorded (trustPolicy()); with --set, records
it, signed by the ledger's admin account (a governed ledger records it through a proposal:
shafaf roles propose --trust-policy FILE).

Exit status: 0 the head (and log checkpoint) match (verify), the files are written (proof), the
policy matches or is recorded (policy); 1 mismatch or failure; 64 usage error.`;

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

/** The ledger log in `dir`, opened read-only (its origin from its served checkpoint). */
async function openLogReadOnly(dir: string) {
  let note: string;
  try {
    note = await readFile(path.join(dir, "checkpoint"), "utf8");
  } catch (error) {
    if ((error as { code?: string }).code !== "ENOENT") throw error;
    throw new UsageError(
      `${dir} has no checkpoint: it is not a ledger log, or nothing is logged yet`,
    );
  }
  const { origin } = parseCheckpoint(parseNote(note).text);
  return openTiledLog({ dir, origin, signer: readOnly(origin) });
}

export interface LogCheckpointCheck {
  status: "ok" | "mismatch" | "none-recorded";
  recordedSize: number;
  recordedRoot: string;
  logSize: number;
  /** The log's root at the recorded size, when it has that many entries. */
  logRoot?: string;
  problem?: string;
}

/** The ledger's recorded log checkpoint against the log in `dir`. */
async function checkLogCheckpoint(rpc: Rpc, contract: string, dir: string) {
  const recorded = await createLedgerClient({ rpc, address: contract }).logCheckpoint();
  const log = await openLogReadOnly(dir);
  const out: LogCheckpointCheck = {
    status: "ok",
    recordedSize: recorded.size,
    recordedRoot: recorded.root,
    logSize: log.size(),
  };
  if (recorded.size === 0) return { ...out, status: "none-recorded" as const };
  if (log.size() < recorded.size)
    return {
      ...out,
      status: "mismatch" as const,
      problem: `the log in ${dir} has ${log.size()} entries, fewer than the ${recorded.size} the ledger recorded a checkpoint of: it lost entries, or is another log`,
    };
  const logRoot = bytesToHex(log.rootHash(recorded.size)).toLowerCase();
  return logRoot === recorded.root
    ? { ...out, logRoot }
    : {
        ...out,
        logRoot,
        status: "mismatch" as const,
        problem: `split view: at size ${recorded.size} the ledger recorded root ${recorded.root}, the log in ${dir} has ${logRoot}`,
      };
}

async function policy(
  positionals: readonly string[],
  values: {
    rpc?: string[] | undefined;
    contract?: string | undefined;
    set?: boolean | undefined;
    signer?: string | undefined;
    keystore?: string | undefined;
  },
): Promise<number> {
  const file = positionals[1];
  if (positionals.length !== 2 || file === undefined)
    throw new UsageError("give the trust-policy file: shafaf log policy FILE");
  const hash = trustPolicyHash(await readFile(file), file);
  if (values.rpc === undefined && values.contract === undefined && values.set !== true) {
    process.stdout.write(`${hash}  ${file}\n`);
    return 0;
  }
  const rpcUrl = values.rpc?.[0];
  if (rpcUrl === undefined || values.contract === undefined)
    throw new UsageError("--rpc URL and --contract ADDR are required to compare or record");
  if (values.set === true) {
    const signer = await connectSigner({ rpcUrl, spec: await signerSpecFromOptions(values) });
    try {
      const r = await setTrustPolicy({
        wallet: signer.wallet,
        address: values.contract,
        policyHash: hash,
        chainId: signer.chainId,
        rpcUrl,
      });
      process.stdout.write(
        r.status === "recorded"
          ? `recorded trust policy ${hash} (${file}) on ${values.contract}, replacing ${r.previous} (tx ${r.txHash})\n`
          : `the ledger already records trust policy ${hash} (${file})\n`,
      );
      return 0;
    } finally {
      signer.provider.destroy();
    }
  }
  if (values.signer !== undefined || values.keystore !== undefined)
    throw new UsageError("--signer and --keystore go with --set");
  const recorded = await createLedgerClient({
    rpc: createRpc({ urls: values.rpc!, retries: 2 }),
    address: values.contract,
  }).trustPolicy();
  process.stdout.write(`${file}  ${hash}\nledger      ${recorded}\n`);
  if (recorded === hash) {
    process.stdout.write("OK: the ledger records this trust policy\n");
    return 0;
  }
  process.stdout.write(
    /^0x0{64}$/.test(recorded)
      ? "MISMATCH: the ledger records no trust policy yet\n"
      : "MISMATCH: the ledger records another trust policy\n",
  );
  return 1;
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
      set: { type: "boolean" },
      signer: { type: "string" },
      keystore: { type: "string" },
    });
    if (typeof parsed === "number") return parsed;
    const { values, positionals } = parsed;
    try {
      if (positionals.length === 1 && positionals[0] === "proof") return await proof(values);
      if (positionals[0] === "policy") return await policy(positionals, values);
      if (positionals.length !== 1 || positionals[0] !== "verify")
        throw new UsageError(
          "the sub-commands are `shafaf log verify`, `shafaf log proof` and `shafaf log policy`",
        );
      if (values.rpc === undefined || values.contract === undefined)
        throw new UsageError("--rpc URL and --contract ADDR are required");
      const fromText = values["from-block"];
      if (fromText !== undefined && !/^\d+$/.test(fromText))
        throw new UsageError("--from-block must be a block number");
      const rpc = createRpc({ urls: values.rpc, retries: 2 });
      const r = await verifyLogHead({
        rpc,
        contract: values.contract,
        fromBlock: fromText === undefined ? undefined : Number(fromText),
      });
      const logDir = values["log-dir"];
      const logCheckpoint =
        logDir === undefined ? undefined : await checkLogCheckpoint(rpc, values.contract, logDir);
      const ok = r.status === "ok" && logCheckpoint?.status !== "mismatch";
      if (values.json === true)
        process.stdout.write(
          JSON.stringify(logCheckpoint === undefined ? r : { ...r, logCheckpoint }, null, 2) + "\n",
        );
      else {
        process.stdout.write(
          `checked ${r.batchesChecked} batches (batchCount ${r.batchCount}) at block ${r.atBlock}\n` +
            `head()      ${r.onChainHead}\nrecomputed  ${r.recomputedHead}\n`,
        );
        for (const p of r.problems) process.stdout.write(`✗ ${p}\n`);
        process.stdout.write(
          r.status === "ok" ? "OK: the log head matches every anchored batch\n" : "MISMATCH\n",
        );
        if (logCheckpoint !== undefined) {
          const c = logCheckpoint;
          process.stdout.write(
            c.status === "none-recorded"
              ? `the ledger records no log checkpoint yet (the log in ${logDir} has ${c.logSize} entries)\n`
              : c.status === "ok"
                ? `OK: the ledger's log checkpoint (size ${c.recordedSize}, root ${c.recordedRoot}) is the log's tree at that size (the log has ${c.logSize} entries)\n`
                : `✗ ${c.problem}\nMISMATCH\n`,
          );
        }
      }
      return ok ? 0 : 1;
    } catch (error) {
      return reportError("log", error, USAGE);
    }
  },
};

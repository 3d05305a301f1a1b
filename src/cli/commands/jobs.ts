/**
 * `shafaf jobs list|show|abandon`: the anchoring jobs of a data directory, where their
 * transactions are, and — for a job whose transaction can never be mined — a safe way to give it
 * up. Shows only batch facts (kind, period, counts, hashes, accounts), never a record.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import type { CliCommand } from "../command.ts";
import { parseCommandLine, parseSubcommand } from "../parse-command-line.ts";
import { UsageError, reportError } from "../command-support.ts";
import { decodeSignedTx, inspectJob, type JobChainView } from "../../anchor/inspect-job.ts";
import { ChainMismatchError, redactUrl } from "../../chain/errors.ts";
import { connectProvider, fetchChainId } from "../../chain/signer.ts";
import { InvalidInputError } from "../../core/errors.ts";
import { formatRials } from "../../core/money.ts";
import { openLedgerStore, type JobRecord, type LedgerStore } from "../../store/ledger-store.ts";

const USAGE = `usage: shafaf jobs list [--data-dir DIR] [--rpc URL] [--json]
       shafaf jobs show JOB [--data-dir DIR] [--rpc URL] [--json]
       shafaf jobs abandon JOB --rpc URL [--data-dir DIR] [--json]

The anchoring jobs of a data directory (default .shafaf): state, transaction, signing account,
and with --rpc where the transaction is (mined, pending in the node, unknown to it) and whether
the contract already holds the batch (by its idempotency key). JOB is a job id or its first
8 or more characters.

abandon gives up a job that nothing can finish: refused when its batch is anchored, when it is
complete, or while the node holds its transaction (it may still be mined). It keeps the job's
files and deletes the signed bytes; anchoring the same inputs again starts the job over with the
current signer (same idempotency key: the contract anchors the batch at most once), and another
job may anchor the same month.`;

type Values = { "data-dir"?: string; rpc?: string; json?: boolean };

async function findJob(store: LedgerStore, prefix: string): Promise<JobRecord> {
  if (!/^[0-9a-f]{8,64}$/i.test(prefix))
    throw new UsageError(
      `JOB must be a job id or its first 8 or more hex characters, not ${JSON.stringify(prefix)}`,
    );
  const matches = (await store.listJobs()).filter((j) =>
    j.jobId.toLowerCase().startsWith(prefix.toLowerCase()),
  );
  if (matches.length === 0)
    throw new InvalidInputError(`no job ${prefix} in ${path.dirname(store.batchesDir)}`, {
      details: "`shafaf jobs list --data-dir DIR` lists the jobs; check --data-dir",
      code: "jobs.unknown",
    });
  if (matches.length > 1)
    throw new UsageError(`${prefix} names ${matches.length} jobs; give more characters of the id`);
  return matches[0]!;
}

/** A provider on `rpcUrl` that serves the chain this data directory is bound to. */
async function connectBound(
  store: LedgerStore,
  rpcUrl: string,
): Promise<{
  send: (m: string, p: unknown[]) => Promise<unknown>;
  contract: string;
  destroy(): void;
}> {
  const binding = await store.getChainBinding();
  if (binding === undefined)
    throw new InvalidInputError("this data directory has anchored nothing yet", {
      details: "it is not bound to a chain and contract; there is nothing to look up",
      code: "jobs.unbound",
    });
  const chainId = await fetchChainId(rpcUrl);
  if (chainId !== binding.chainId)
    throw new ChainMismatchError(
      `${redactUrl(rpcUrl)} serves chain ${chainId}, but this data directory belongs to chain ${binding.chainId}`,
      { details: "give --rpc a node of that chain", code: "jobs.chain-mismatch" },
    );
  const provider = connectProvider(rpcUrl, chainId);
  return {
    send: (m, p) => provider.send(m, p),
    contract: binding.contract,
    destroy: () => provider.destroy(),
  };
}

function signerOf(job: JobRecord): string | null {
  if (job.signer !== undefined) return job.signer;
  if (job.rawTx !== undefined) return decodeSignedTx(job.rawTx).signer;
  return job.abandonedTx?.signer ?? null;
}

function jobJson(job: JobRecord, view: JobChainView | undefined): Record<string, unknown> {
  return {
    jobId: job.jobId,
    state: job.state,
    kind: job.kind,
    period: job.period,
    recordCount: job.recordCount,
    total: job.total,
    root: job.root,
    idempotencyKey: job.idempotencyKey,
    supersedes: job.supersedes,
    createdAt: job.createdAt,
    txHash: job.txHash ?? job.abandonedTx?.txHash ?? null,
    signer: signerOf(job),
    batchId: job.batchId ?? null,
    abandonedAt: job.abandonedAt ?? null,
    ...(view !== undefined
      ? {
          chain: {
            anchoredBatchId: view.anchoredBatchId,
            tx: view.tx,
            condition: view.condition,
            abandonable: view.abandonable,
            advice: view.advice,
          },
        }
      : {}),
  };
}

function txLine(view: JobChainView | undefined): string {
  const tx = view?.tx;
  if (tx === undefined || tx === null) return "";
  if (tx.status === "mined")
    return `mined in block ${tx.blockNumber}${tx.succeeded ? "" : " (reverted)"}`;
  if (tx.status === "pending") return "pending in the node's pool";
  return "unknown to the node (never accepted, or dropped)";
}

function jobText(job: JobRecord, view: JobChainView | undefined): string {
  const signer = signerOf(job);
  const lines = [
    `job ${job.jobId}`,
    `  state        ${job.state}${job.abandonedAt !== undefined ? ` (abandoned ${job.abandonedAt})` : ""}`,
    `  batch        ${job.kind} ${job.period}, ${job.recordCount.toLocaleString("en-US")} records, ${formatRials(BigInt(job.total))} Rials`,
    `  created      ${job.createdAt}`,
  ];
  if (job.batchId !== undefined) lines.push(`  batch id     ${job.batchId}`);
  const hash = job.txHash ?? job.abandonedTx?.txHash;
  if (hash !== undefined)
    lines.push(`  transaction  ${hash}${view !== undefined ? ` — ${txLine(view)}` : ""}`);
  if (signer !== null) {
    const t = view?.tx;
    const extra =
      t !== null && t !== undefined && t.signerBalanceWei !== null
        ? ` (balance ${t.signerBalanceWei} wei, next nonce ${t.signerNextNonce}${t.nonce !== null ? `; the transaction's nonce ${t.nonce}` : ""})`
        : "";
    lines.push(`  signer       ${signer}${extra}`);
  }
  lines.push(`  idempotency  ${job.idempotencyKey}`);
  if (view !== undefined) {
    lines.push(
      `  on chain     ${view.anchoredBatchId === 0 ? "no batch has this idempotency key" : `batch ${view.anchoredBatchId} has this idempotency key`}`,
    );
    lines.push(`  next         ${view.advice}`);
  } else if (job.state !== "complete") {
    lines.push(`  next         add --rpc URL to see where its transaction is`);
  }
  return lines.join("\n");
}

export const command: CliCommand = {
  summary: "list and inspect anchoring jobs; abandon one whose transaction can never be mined",
  async run(argv) {
    const split = parseSubcommand("jobs", USAGE, argv, ["list", "show", "abandon"]);
    if (typeof split === "number") return split;
    const { sub, rest } = split;
    const parsed = parseCommandLine(`jobs ${sub}`, USAGE, rest, {
      "data-dir": { type: "string" },
      rpc: { type: "string" },
      json: { type: "boolean" },
    });
    if (typeof parsed === "number") return parsed;
    const values: Values = parsed.values;
    const positionals = parsed.positionals;
    let store: LedgerStore | undefined;
    let chain: Awaited<ReturnType<typeof connectBound>> | undefined;
    try {
      const wantsJob = sub !== "list";
      if (positionals.length !== (wantsJob ? 1 : 0))
        throw new UsageError(wantsJob ? `give one JOB to ${sub}` : "jobs list takes no argument");
      if (sub === "abandon" && values.rpc === undefined)
        throw new UsageError("abandon needs --rpc URL: it checks the chain before giving a job up");
      const dataDir = path.resolve(values["data-dir"] ?? ".shafaf");
      if (!existsSync(path.join(dataDir, "ledger")))
        throw new InvalidInputError(`${dataDir} holds no anchoring jobs`, {
          details:
            "give the --data-dir that `shafaf anchor` used (default .shafaf in its directory)",
          code: "jobs.no-data-dir",
        });
      store = await openLedgerStore(dataDir);
      if (values.rpc !== undefined) chain = await connectBound(store, values.rpc);
      const view = async (job: JobRecord): Promise<JobChainView | undefined> =>
        chain === undefined
          ? undefined
          : inspectJob({ job, send: chain.send, contract: chain.contract });

      if (sub === "list") {
        const jobs = (await store.listJobs()).sort((a, b) =>
          a.createdAt.localeCompare(b.createdAt),
        );
        const views: (JobChainView | undefined)[] = [];
        for (const job of jobs) views.push(await view(job));
        if (values.json === true) {
          process.stdout.write(JSON.stringify(jobs.map((j, i) => jobJson(j, views[i]))) + "\n");
        } else if (jobs.length === 0) {
          process.stdout.write(`no jobs in ${dataDir}\n`);
        } else {
          for (const [i, j] of jobs.entries()) {
            const v = views[i];
            const tx = j.txHash ?? j.abandonedTx?.txHash;
            process.stdout.write(
              [
                j.jobId.slice(0, 12),
                j.state.padEnd(9),
                `${j.kind} ${j.period}`,
                `${j.recordCount} records`,
                j.batchId !== undefined
                  ? `batch ${j.batchId}`
                  : tx !== undefined
                    ? `tx ${tx.slice(0, 12)}…`
                    : "not sent",
                v !== undefined && v.condition !== "done"
                  ? `— ${v.condition}: ${txLine(v) || v.advice}`
                  : "",
              ]
                .filter((x) => x !== "")
                .join("  ") + "\n",
            );
          }
          if (chain === undefined && jobs.some((j) => j.state !== "complete"))
            process.stdout.write(
              "(add --rpc URL to see where unfinished jobs' transactions are)\n",
            );
        }
        return 0;
      }

      const job = await findJob(store, positionals[0]!);
      if (sub === "show") {
        const v = await view(job);
        process.stdout.write(
          values.json === true ? JSON.stringify(jobJson(job, v)) + "\n" : jobText(job, v) + "\n",
        );
        return 0;
      }

      // abandon
      const v = (await view(job))!;
      if (!v.abandonable || (job.state !== "prepared" && job.state !== "sending")) {
        throw new InvalidInputError(`job ${job.jobId.slice(0, 12)}… cannot be abandoned`, {
          details: v.advice,
          code: "jobs.not-abandonable",
        });
      }
      const abandoned: JobRecord = {
        ...job,
        state: "abandoned",
        abandonedAt: new Date().toISOString(),
        ...(job.txHash !== undefined
          ? { abandonedTx: { txHash: job.txHash, signer: signerOf(job) } }
          : {}),
      };
      delete abandoned.rawTx;
      delete abandoned.txHash;
      delete abandoned.signer;
      await store.putJob(abandoned);
      const after = await view(abandoned);
      if (values.json === true) {
        process.stdout.write(JSON.stringify(jobJson(abandoned, after)) + "\n");
      } else {
        process.stdout.write(
          `abandoned job ${job.jobId.slice(0, 12)}… (${job.kind} ${job.period}); its files stay in ${path.join(store.batchesDir, job.jobId)}\n` +
            `  its signed transaction was deleted; anchoring the same inputs again starts the job over with the current signer,\n` +
            `  and other inputs for ${job.kind} ${job.period} may now be anchored\n`,
        );
      }
      return 0;
    } catch (error) {
      const status = reportError(`jobs ${sub}`, error, USAGE);
      return status;
    } finally {
      chain?.destroy();
      await store?.close();
    }
  },
};

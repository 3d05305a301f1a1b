/**
 * `shafaf index --rpc URL --contract ADDR …`: follows the ledger's events into
 * `<data-dir>/index` (until Ctrl-C, or once with `--once`).
 */
import path from "node:path";
import type { CliCommand } from "../command.ts";
import { parseCommandLine, usageError } from "../parse-command-line.ts";
import { reportError, UsageError } from "../command-support.ts";
import { createRpc } from "../../chain/rpc.ts";
import { createArtifactManifestSource } from "../../indexer/artifact-manifest-source.ts";
import { createIndexer, type IndexerLog } from "../../indexer/create-indexer.ts";
import { openIndexStore } from "../../store/index-store.ts";

const USAGE = `usage: shafaf index --rpc URL --contract ADDR [options]

Reads the ledger contract's events into <data-dir>/index, the views behind \`shafaf serve\`.

  --rpc URL            the chain's JSON-RPC endpoint (repeat for fail-over nodes) (required)
  --contract ADDR      the TransparencyLedger address (required)
  --data-dir DIR       where the index lives (default .shafaf); manifests are read from DIR/batches
  --confirmations N    index a block once N blocks are on top of it (default 0: QBFT is final;
                       use 12 or more on a chain that can reorganize)
  --from-block N       first block to read on a new index (default: the contract's deployment block)
  --reindex            delete the index and rebuild it from the chain
  --once               catch up and exit (default: follow new blocks until Ctrl-C)
  --poll-ms MS         how often to look for new blocks when following (default 2000)
  --json               print a JSON summary on stdout (with --once)

Exit status: 0 done (or stopped by Ctrl-C), 64 usage error, 1 failure (another chain, no contract
at the address, a reorg deeper than the kept blocks: the message says how to fix it).`;

const OPTIONS = {
  rpc: { type: "string", multiple: true },
  contract: { type: "string" },
  "data-dir": { type: "string" },
  confirmations: { type: "string" },
  "from-block": { type: "string" },
  reindex: { type: "boolean" },
  once: { type: "boolean" },
  "poll-ms": { type: "string" },
  json: { type: "boolean" },
} as const;

function wholeNumber(
  name: string,
  text: string | undefined,
  fallback: number | undefined,
): number | undefined {
  if (text === undefined) return fallback;
  if (!/^\d{1,15}$/.test(text))
    throw new UsageError(`--${name} must be a whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

function stderrLog(): IndexerLog {
  const line = (level: string, message: string) =>
    process.stderr.write(`${new Date().toISOString()} ${level} ${message}\n`);
  return {
    info: (m) => line("info", m),
    warn: (m) => line("warn", m),
    error: (m) => line("error", m),
  };
}

export const command: CliCommand = {
  summary: "follow the ledger's events into the local index (the views behind `shafaf serve`)",
  async run(argv) {
    const parsed = parseCommandLine("index", USAGE, argv, OPTIONS);
    if (typeof parsed === "number") return parsed;
    const { values } = parsed;
    if (parsed.positionals.length > 0)
      return usageError("index", USAGE, `unexpected argument "${parsed.positionals[0]}"`);
    let store: Awaited<ReturnType<typeof openIndexStore>> | undefined;
    try {
      if (values.rpc === undefined || values.rpc.length === 0)
        throw new UsageError("--rpc URL is required");
      if (values.contract === undefined) throw new UsageError("--contract ADDR is required");
      if (!/^0x[0-9a-fA-F]{40}$/.test(values.contract)) {
        throw new UsageError(
          `--contract must be 0x and 40 hex digits, got ${JSON.stringify(values.contract)}`,
        );
      }
      const confirmations = wholeNumber("confirmations", values.confirmations, 0)!;
      const fromBlock = wholeNumber("from-block", values["from-block"], undefined);
      const pollIntervalMs = wholeNumber("poll-ms", values["poll-ms"], 2_000)!;
      const dataDir = path.resolve(values["data-dir"] ?? ".shafaf");
      const log = stderrLog();

      store = await openIndexStore(path.join(dataDir, "index"));
      if (values.reindex === true) {
        await store.clear();
        log.info(`cleared ${path.join(dataDir, "index")}; rebuilding from the chain`);
      }
      const rpc = createRpc({ urls: values.rpc });
      const indexer = createIndexer({
        rpc,
        store,
        address: values.contract,
        confirmations,
        log,
        manifestSource: createArtifactManifestSource(path.join(dataDir, "batches")),
        pollIntervalMs,
        ...(fromBlock === undefined ? {} : { fromBlock }),
        onUpdate: (u) => {
          if (values.json === true) return;
          log.info(
            `indexed blocks ${u.fromBlock}..${u.toBlock}: ${u.events} event(s)` +
              (u.anchored.length > 0 ? `, anchored batch(es) ${u.anchored.join(", ")}` : "") +
              (u.rolledBack > 0 ? ` (after rolling back ${u.rolledBack} block(s))` : ""),
          );
        },
      });

      if (values.once === true) {
        const r = await indexer.syncOnce();
        const info = (await store.getChainInfo())!;
        if (values.json === true) {
          process.stdout.write(JSON.stringify({ ...r, ...info }) + "\n");
        } else {
          process.stdout.write(
            `indexed ${info.contract} on chain ${info.chainId} to block ${info.lastIndexedBlock} (head ${info.headBlock}): ` +
              `${info.batchCount} batch(es); head check ${info.headCheck.status}\n`,
          );
        }
        return info.headCheck.status === "mismatch" ? 1 : 0;
      }

      const stop = () => void indexer.stop();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      log.info(`following ${values.contract} (Ctrl-C to stop)`);
      try {
        await indexer.start();
      } finally {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
      }
      log.info("stopped");
      return 0;
    } catch (error) {
      const status = reportError("index", error, USAGE);
      return status;
    } finally {
      await store?.close();
    }
  },
};

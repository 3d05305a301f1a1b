/**
 * `shafaf mirror export --data-dir DIR --out SITE [--log-dir L --policy P] | --from URL --out SITE`
 * writes everything public as static files (docs/spec/mirror-v1.md); `shafaf mirror verify SITE
 * [--policy P]` checks a mirror someone else made. The export reads the API's own answers (the
 * real app over the index store, in this process on 127.0.0.1, or a running site with --from):
 * the ledger store, which holds receipts and personal data, is never opened.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { publicBatchTilesByRoot } from "../../store/batch-tiles.ts";
import { createServer, type Server } from "node:http";
import type { LedgerReader } from "../../api/app-deps.ts";
import { createApp } from "../../api/create-app.ts";
import { parseTrustPolicy } from "../../core/tlog-policy.ts";
import { verifyReceipt } from "../../core/verify-receipt.ts";
import { createLogRouter } from "../../log/log-routes.ts";
import { exportMirror, MirrorSourceError, type MirrorSource } from "../../mirror/export-mirror.ts";
import { verifyMirror } from "../../mirror/verify-mirror.ts";
import { readAccountNames } from "../../store/account-names.ts";
import { createAuditReportFolder } from "../../store/audit-report-folder.ts";
import { openIndexStore } from "../../store/index-store.ts";
import type { CliCommand } from "../command.ts";
import { reportError, UsageError } from "../command-support.ts";
import { parseCommandLine } from "../parse-command-line.ts";
import { WEB_ROOT } from "../serve-stack.ts";

const USAGE = `usage: shafaf mirror export --data-dir DIR --out SITE [--log-dir L] [--policy P] [--public-rpc URL]
       shafaf mirror export --from URL --out SITE
       shafaf mirror verify SITE [--policy P] [--json]

export writes everything public about the ledger into SITE as plain static files that any web
server, object store or USB stick serves: the API's public answers (api/v1/*.json), the ledger
log's checkpoint and tiles (log/), the trust policy, the portal (reading those files), and
mirror.json (the SHA-256 of every file). Receipts are personal and never exported. On an
earlier mirror only what changed is written: files with the same bytes are kept, tiles first,
the files naming them after, mirror.json last (a reader never sees a name of a missing file);
a folder that is not an earlier mirror is refused.
  --data-dir DIR     the data directory of shafaf serve (its index; audits/ and names.json
                     when present); stop shafaf serve first, or use --from
  --log-dir L        the ledger log's directory (default DIR/log when it exists)
  --policy P         the trust policy file published as trust-policy.txt
  --public-rpc URL   a JSON-RPC URL the portal may read the chain at (in api/v1/chain.json)
  --from URL         export a running site instead (http://host:port of shafaf serve)
  --out SITE         the site folder (required)

verify checks that every file matches mirror.json, that the log's checkpoint satisfies the
policy (P: your own copy; without it the mirror's trust-policy.txt, which only proves the mirror
is self-consistent), that the tiles and entries hash to its root, and that every batch shown
agrees with its log entry (id, root, manifest hash, kind, period, counts, total, transaction).

Exit status: 0 exported / verified, 1 a check failed or failure, 64 usage error.`;

const quietLog = { info() {}, warn() {}, error() {} };

/** The receipts side of the API, empty: the export never serves a receipt. */
const NO_RECEIPTS: LedgerReader = {
  getReceiptByCode: () => Promise.resolve(undefined),
  listReceiptsBySubject: () => Promise.resolve([]),
};

function httpSource(base: string): MirrorSource {
  const root = base.replace(/\/$/, "");
  return {
    async get(sitePath) {
      let res: Response;
      try {
        res = await fetch(root + sitePath, { headers: { accept: "*/*" } });
      } catch (error) {
        throw new MirrorSourceError(root + sitePath, undefined, error);
      }
      if (res.status === 404) return undefined;
      if (res.status !== 200) throw new MirrorSourceError(root + sitePath, res.status);
      return new Uint8Array(await res.arrayBuffer());
    },
  };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function ensurePortal(): Promise<void> {
  if (existsSync(path.join(WEB_ROOT, "index.html"))) return;
  const { buildWeb } = await import("../build-web.ts");
  await buildWeb({ outDir: WEB_ROOT });
}

async function exportCommand(
  values: Record<string, string | boolean | undefined>,
): Promise<number> {
  const out = values.out as string | undefined;
  const from = values.from as string | undefined;
  const dataDir = values["data-dir"] as string | undefined;
  if (out === undefined) throw new UsageError("--out SITE is required");
  if ((from === undefined) === (dataDir === undefined))
    throw new UsageError("give exactly one of --data-dir DIR or --from URL");
  await ensurePortal();
  const started = performance.now();
  let result;
  if (from !== undefined) {
    result = await exportMirror({ source: httpSource(from), out, webRoot: WEB_ROOT });
  } else {
    const dir = path.resolve(dataDir!);
    if (!existsSync(path.join(dir, "index")))
      throw new UsageError(`${dir} has no index/ folder: give the data directory of shafaf serve`);
    const logDir = (values["log-dir"] as string | undefined) ?? path.join(dir, "log");
    const policyFile = values.policy as string | undefined;
    const policy = policyFile === undefined ? undefined : await readFile(policyFile, "utf8");
    if (policy !== undefined) parseTrustPolicy(policy, policyFile);
    const publicRpc = values["public-rpc"] as string | undefined;
    let index;
    try {
      index = await openIndexStore(path.join(dir, "index"));
    } catch (error) {
      const e = error as { code?: string; cause?: { code?: string } };
      if (e.code === "LEVEL_LOCKED" || e.cause?.code === "LEVEL_LOCKED")
        throw new UsageError(
          `${path.join(dir, "index")} is in use (is shafaf serve running on ${dir}?): stop it, or export the running site with --from URL`,
        );
      throw error;
    }
    const server = createServer();
    // Public batch tiles only, found by their roots under batches/ (the ledger store stays shut).
    const tilesOf = await publicBatchTilesByRoot(path.join(dir, "batches"));
    const idx = index;
    try {
      const { app } = createApp({
        index,
        ledger: {
          ...NO_RECEIPTS,
          getPublicBatchFile: async (batchId, file) => {
            const b = await idx.getBatch(batchId);
            return b === undefined ? undefined : tilesOf(b.root, file);
          },
        },
        verify: verifyReceipt,
        apiKeys: [],
        log: quietLog,
        rateLimit: false,
        auditReports: createAuditReportFolder(path.join(dir, "audits")),
        accountNames: await readAccountNames(path.join(dir, "names.json")),
        ...(existsSync(path.join(logDir, "checkpoint"))
          ? { logRouter: createLogRouter({ dir: logDir }) }
          : {}),
        ...(policy === undefined ? {} : { trustPolicy: policy }),
        ...(publicRpc === undefined ? {} : { rpcUrlForBrowsers: publicRpc }),
      });
      server.on("request", app);
      const url = await listen(server);
      result = await exportMirror({ source: httpSource(url), out, webRoot: WEB_ROOT });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await index.close();
    }
  }
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(
    `exported ${result.batches} batches, log size ${result.logSize ?? "none"}: ` +
      `${result.files} files, ${result.bytes} bytes in ${seconds.toFixed(1)} s into ${result.out} ` +
      `(${result.written} written, ${result.kept} kept, ${result.removed} removed)\n`,
  );
  return 0;
}

async function verifyCommand(
  positionals: readonly string[],
  values: Record<string, string | boolean | undefined>,
): Promise<number> {
  const site = positionals[1];
  if (site === undefined || positionals.length !== 2)
    throw new UsageError("give the site folder: shafaf mirror verify SITE");
  const own = values.policy as string | undefined;
  const policyFile = own ?? path.join(site, "trust-policy.txt");
  if (!existsSync(policyFile))
    throw new UsageError(
      `${policyFile} does not exist: give --policy P (your copy of the trust policy)`,
    );
  const policy = parseTrustPolicy(await readFile(policyFile, "utf8"), policyFile);
  const r = await verifyMirror({ dir: site, policy });
  if (values.json === true) {
    process.stdout.write(
      JSON.stringify({ ...r, policy: own === undefined ? "mirror's own" : own }, null, 2) + "\n",
    );
  } else {
    for (const c of r.checks)
      process.stdout.write(`${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.detail}\n`);
    if (own === undefined)
      process.stdout.write(
        "note: checked against the mirror's own trust-policy.txt; give --policy with your copy to trust it\n",
      );
    process.stdout.write(r.ok ? "the mirror verifies\n" : "the mirror does NOT verify\n");
  }
  return r.ok ? 0 : 1;
}

export const command: CliCommand = {
  summary: "export everything public as static files (a mirror), or verify a mirror",
  async run(argv) {
    const parsed = parseCommandLine("mirror", USAGE, argv, {
      "data-dir": { type: "string" },
      "log-dir": { type: "string" },
      policy: { type: "string" },
      "public-rpc": { type: "string" },
      from: { type: "string" },
      out: { type: "string" },
      json: { type: "boolean" },
    });
    if (typeof parsed === "number") return parsed;
    const { values, positionals } = parsed;
    try {
      if (positionals[0] === "export" && positionals.length === 1)
        return await exportCommand(values);
      if (positionals[0] === "verify") return await verifyCommand(positionals, values);
      throw new UsageError(
        "the sub-commands are `shafaf mirror export` and `shafaf mirror verify`",
      );
    } catch (error) {
      return reportError("mirror", error, USAGE);
    }
  },
};

/**
 * `shafaf serve --rpc URL --contract ADDR …`: the transparency API and the portal, with the
 * indexer embedded (following the chain in the background), the stores of `--data-dir`, core's
 * receipt verifier, and — when a signer is given — the anchor pipeline behind the staff upload
 * endpoint. `--create-api-key` adds a staff key to the keys file and prints it once.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { CliCommand } from "../command.ts";
import { InvariantError } from "../../core/errors.ts";
import { parseCommandLine, usageError } from "../parse-command-line.ts";
import { createAnchorChain } from "../../anchor/anchor-chain.ts";
import { reportError, signerSpecFromOptions, UsageError } from "../command-support.ts";
import { loadPseudonymKey } from "../../anchor/pseudonym-key.ts";
import { runAnchorJob } from "../../anchor/run-anchor-job.ts";
import type { PersonKeying } from "../../anchor/person-keying.ts";
import { readKeystorePassword } from "../../chain/keystore.ts";
import { loadRegisteredVrfSeed, openVrfPersonKeying } from "../vrf-person-keying.ts";
import { ContractRevertError, createLedgerClient } from "../../chain/ledger-client.ts";
import { createRpc } from "../../chain/rpc.ts";
import {
  API_KEY_SCOPES,
  API_KEYS_FORMAT,
  createApiKey,
  parseApiKeysFile,
  type ApiKeyEntry,
  type ApiKeyScope,
} from "../../api/api-keys.ts";
import {
  UploadRejectedError,
  type AnchorJobFn,
  type AnchorUpload,
  type ApiLog,
} from "../../api/app-deps.ts";
import { connectSigner } from "../../chain/signer.ts";
import { logCheckpointRecorder, type LogCheckpointRecorder } from "../ledger-log-follower.ts";
import { personKeyProver, startServeStack } from "../serve-stack.ts";
import type { PersonKeyMaterial } from "../../api/routes/persons.ts";
import { loadNoteKeystore } from "../../chain/note-keystore.ts";
import { parseTrustPolicy } from "../../core/tlog-policy.ts";
import { openTiledLog, type TiledLog } from "../../log/tiled-log.ts";
import type { WitnessEndpoint } from "../../log/witness-client.ts";
import { openIndexStore, type WritableIndexStore } from "../../store/index-store.ts";
import { openLedgerStore, type LedgerStore } from "../../store/ledger-store.ts";
import {
  needsPublishing,
  openPublishedStore,
  type PublishedStore,
} from "../../store/published-store.ts";
import { openDataKeyOption } from "../data-key-option.ts";

const USAGE = `usage: shafaf serve --rpc URL --contract ADDR [options]
       shafaf serve --create-api-key ID --scopes SCOPES --api-keys FILE

Serves the transparency API (/api/v1, OpenAPI at /api/v1/openapi.json) and the portal (/),
following the ledger's events into its own index in the background. Receipts, person proofs and
batch tiles come from the batches \`shafaf anchor\` published into <data-dir> (published.json and
the files it names); serve never opens the anchor's ledger store (unless it anchors uploads), so
\`shafaf anchor\`, \`shafaf backup\` and several \`shafaf serve\` run on one data directory at once.

  --rpc URL              the chain's JSON-RPC endpoint (repeat for fail-over nodes) (required)
  --contract ADDR        the TransparencyLedger address (required)
  --host HOST            address to listen on (default 127.0.0.1)
  --port N               port (default 8080; 0 picks a free one)
  --data-dir DIR         the published batches and their artifacts (default .shafaf)
  --index-dir DIR        this instance's index of the chain's events (default <data-dir>/index,
                         or the first of <data-dir>/index.2 … index.16 no other serve is using)
  --data-key FILE        the data-encryption keystore (shafaf keys new-data): receipts and person
                         proofs are opened from sealed artifacts with it, and anchored uploads'
                         artifacts are sealed (the upload itself waits plain, 0600, until anchored);
                         required once the data directory is encrypted (password as for --keystore)
  --confirmations N      blocks on top before a block is indexed (default 0: QBFT is final)
  --api-keys FILE        staff API keys (format ${API_KEYS_FORMAT}); without it staff calls get 401
  --keystore FILE        sign uploads to POST /api/v1/batches with this keystore
                         (password: SHAFAF_KEYSTORE_PASSWORD or prompt)
  --signer dev:N         …or with development account N (chain 31337 only); without either,
                         uploads get 503 and anchoring stays with \`shafaf anchor\`. With either,
                         this instance is the data directory's writer: it holds the ledger store
                         (\`shafaf anchor\` on the same directory fails until it stops) and
                         publishes each upload's batch to every other serve
  --vrf-key FILE         the person-key VRF keystore (registered on the ledger): the server answers
                         POST /api/v1/persons/key (staff scope persons:key) with it; with
                         --keystore/--signer, uploads are also anchored as shafaf-tree/2 batches
                         (as shafaf anchor --vrf-key; without --vrf-key, shafaf-tree/1); alone,
                         the server is read-only: uploads get 503 as without a signer
  --public-rpc URL       a JSON-RPC URL browsers may use (shown in /api/v1/chain, allowed by the CSP)
  --cors ORIGIN          allow this origin cross-origin (repeatable; * for any); off by default
  --rate-limit N/S       public requests per client: burst N, then S per second (default 60/10;
                         0 turns it off)
  --trust-proxy N        trust N reverse proxies for the client address (default 0)
  --log-key FILE         keep the witnessed ledger log: this note keystore (shafaf keys new-note,
                         role log; its name is the log's origin) signs a checkpoint after each
                         anchored batch the indexer sees; the log is served at /log
                         (password: SHAFAF_KEYSTORE_PASSWORD or prompt)
  --log-dir DIR          where the log's tiles live (default <data-dir>/log)
  --log-policy FILE      a c2sp.org/tlog-policy file: its \`witness NAME VKEY URL\` lines are
                         asked to cosign each checkpoint
  --log-keystore FILE    record each checkpoint on the ledger (recordLogCheckpoint), signed with
                         this keystore's account, which needs LOG_ROLE (shafaf roles propose
                         --grant log:ADDR); the ledger checks it extends the one it recorded
  --log-signer dev:N     …or with development account N (chain 31337 only)

  --create-api-key ID    add a key with this id to --api-keys FILE (created if missing) and print
                         the key once; only its SHA-256 is stored
  --scopes LIST          with --create-api-key: ${API_KEY_SCOPES.join(", ")} (comma-separated)

When the node serves another chain than the one indexed (another genesis, chain id or contract),
serve keeps serving what it has indexed, with an alarm in /api/v1/chain and the log.

Exit status: 0 stopped cleanly (Ctrl-C), 64 usage error, 1 failure.`;

/** The log of `--log-key`/`--log-dir`, with every witness of `--log-policy` (each needs a URL). */
async function openServedLog(options: {
  key: string;
  dir: string;
  policy: string | undefined;
}): Promise<{ log: TiledLog; witnesses: WitnessEndpoint[]; policyFile: string | undefined }> {
  const password = await readKeystorePassword({
    env: process.env,
    stdin: process.stdin,
    stderr: process.stderr,
  });
  const key = await loadNoteKeystore(options.key, password, "log");
  const log = await openTiledLog({ dir: options.dir, origin: key.name, signer: key.signer() });
  const witnesses: WitnessEndpoint[] = [];
  if (options.policy !== undefined) {
    const policy = parseTrustPolicy(await readFile(options.policy, "utf8"), options.policy);
    if (policy.logs.length > 0 && !policy.logs.some((l) => l.vkey === key.vkey))
      throw new UsageError(
        `${options.policy} names no \`log ${key.vkey}\` line: witnesses and verifiers of that policy would not accept this log's checkpoints`,
      );
    for (const w of policy.witnesses) {
      if (w.url === undefined)
        throw new UsageError(
          `${options.policy}: witness ${w.name} has no URL; write \`witness ${w.name} <vkey> <url>\` to have it asked`,
        );
      witnesses.push({ name: w.name, url: w.url, verifier: w.verifier });
    }
  }
  return { log, witnesses, policyFile: options.policy };
}

function parse(argv: readonly string[]) {
  return parseCommandLine("serve", USAGE, argv, {
    rpc: { type: "string", multiple: true },
    contract: { type: "string" },
    host: { type: "string" },
    port: { type: "string" },
    "data-dir": { type: "string" },
    "index-dir": { type: "string" },
    confirmations: { type: "string" },
    "api-keys": { type: "string" },
    keystore: { type: "string" },
    signer: { type: "string" },
    "vrf-key": { type: "string" },
    "data-key": { type: "string" },
    "public-rpc": { type: "string" },
    cors: { type: "string", multiple: true },
    "rate-limit": { type: "string" },
    "trust-proxy": { type: "string" },
    "log-key": { type: "string" },
    "log-dir": { type: "string" },
    "log-policy": { type: "string" },
    "log-keystore": { type: "string" },
    "log-signer": { type: "string" },
    "create-api-key": { type: "string" },
    scopes: { type: "string" },
  });
}

type Values = Exclude<ReturnType<typeof parse>, number>["values"];

function wholeNumber(
  name: string,
  text: string | undefined,
  fallback: number,
  max = 65_535,
): number {
  if (text === undefined) return fallback;
  if (!/^\d{1,9}$/.test(text) || Number(text) > max) {
    throw new UsageError(
      `--${name} must be a whole number from 0 to ${max}, got ${JSON.stringify(text)}`,
    );
  }
  return Number(text);
}

function httpUrl(name: string, text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--${name} must be an http(s) URL, got ${JSON.stringify(text)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`--${name} must be an http(s) URL, got ${JSON.stringify(text)}`);
  }
  return text;
}

/** One JSON object per line on stderr; fields never carry personal data (the API's contract). */
function jsonLog(): ApiLog & { line(level: string, message: string): void } {
  const write = (level: string, event: string, fields: Record<string, unknown> = {}) =>
    process.stderr.write(
      JSON.stringify({ time: new Date().toISOString(), level, event, ...fields }) + "\n",
    );
  return {
    info: (event, fields) => write("info", event, fields),
    warn: (event, fields) => write("warn", event, fields),
    error: (event, fields) => write("error", event, fields),
    line: (level, message) => write(level, "indexer", { message }),
  };
}

async function readKeys(file: string): Promise<ApiKeyEntry[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") {
      throw new UsageError(
        `--api-keys ${file} does not exist; create a key with --create-api-key ID --scopes …`,
      );
    }
    throw error;
  }
  return parseApiKeysFile(text, file);
}

/** `--create-api-key`: appends an entry (written atomically, mode 0600) and prints the key once. */
async function createKey(values: Values): Promise<number> {
  const file = values["api-keys"];
  if (file === undefined) throw new UsageError("--create-api-key needs --api-keys FILE");
  const id = values["create-api-key"]!;
  const scopes = (values.scopes ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (scopes.length === 0)
    throw new UsageError(`--scopes is required: ${API_KEY_SCOPES.join(", ")}`);
  for (const s of scopes) {
    if (!API_KEY_SCOPES.includes(s as ApiKeyScope)) {
      throw new UsageError(`unknown scope ${JSON.stringify(s)}; use ${API_KEY_SCOPES.join(", ")}`);
    }
  }
  if (!/^[a-z0-9][a-z0-9._-]{0,62}$/.test(id)) {
    throw new UsageError("--create-api-key ID: 1–63 characters of a-z 0-9 . _ - (lower case)");
  }
  const entries = existsSync(file) ? await readKeys(file) : [];
  if (entries.some((e) => e.id === id)) {
    throw new UsageError(
      `${file} already has a key "${id}"; remove it from the file to replace it`,
    );
  }
  const { token, entry } = createApiKey(id, scopes as ApiKeyScope[]);
  const doc = { format: API_KEYS_FORMAT, keys: [...entries, entry] };
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(doc, null, 2) + "\n", { mode: 0o600 });
  await rename(tmp, file);
  process.stderr.write(`added key "${id}" (${scopes.join(", ")}) to ${file}; it is shown once:\n`);
  process.stdout.write(token + "\n");
  return 0;
}

const EXTENSION: Record<AnchorUpload["format"], string> = {
  csv: "csv",
  jsonl: "jsonl",
  "sso-zip": "zip",
};

/** How long an upload whose anchoring failed (not rejected) is kept for a retry to resume. */
export const UPLOAD_RETENTION_MS = 7 * 24 * 3600 * 1000;

/**
 * Deletes what no job needs from `<data-dir>/uploads/`: temporary files, and uploads older than
 * `UPLOAD_RETENTION_MS` (their anchoring failed and nobody retried). Returns how many.
 */
export async function sweepUploads(dir: string, now = Date.now()): Promise<number> {
  let removed = 0;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return 0;
    throw error;
  }
  for (const name of names) {
    const file = path.join(dir, name);
    const info = await stat(file).catch(() => undefined);
    if (info === undefined || !info.isFile()) continue;
    if (name.endsWith(".tmp") || now - info.mtimeMs > UPLOAD_RETENTION_MS) {
      await rm(file, { force: true });
      removed++;
    }
  }
  return removed;
}

/**
 * The staff upload endpoint's pipeline: the bytes are written to `<data-dir>/uploads/` (0600 in
 * 0700) under their SHA-256 (so the same file is the same job, and anchoring it again resumes or
 * returns the batch), then `runAnchorJob`. Jobs run one at a time: one signer, one nonce
 * sequence. An upload holds personal data: it is deleted once anchored (the batch artifact keeps
 * the records) or rejected; one whose anchoring failed is kept for a retry to resume, at most
 * `UPLOAD_RETENTION_MS` (`sweepUploads` at start).
 */
function anchorPipeline(options: {
  dataDir: string;
  store: LedgerStore;
  chain: Parameters<typeof runAnchorJob>[0]["chain"];
  pseudonymKey: Uint8Array;
  /** Uploads become shafaf-tree/2 batches (else shafaf-tree/1). */
  personKeying?: PersonKeying | undefined;
}): AnchorJobFn {
  let queue: Promise<unknown> = Promise.resolve();
  return (upload) => {
    const job = queue.then(async () => {
      const dir = path.join(options.dataDir, "uploads");
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const sha = createHash("sha256").update(upload.bytes).digest("hex");
      const file = path.join(
        dir,
        `${upload.kind}-${upload.period}-${sha.slice(0, 16)}.${EXTENSION[upload.format]}`,
      );
      if (!existsSync(file)) {
        const tmp = `${file}.${randomBytes(4).toString("hex")}.tmp`;
        await writeFile(tmp, upload.bytes, { mode: 0o600 });
        await rename(tmp, file);
      }
      const result = await runAnchorJob({
        inputs: [file],
        kind: upload.kind,
        period: upload.period,
        supersedes: upload.supersedes,
        reason: upload.reason,
        province: upload.province,
        chain: options.chain,
        store: options.store,
        pseudonymKey: options.pseudonymKey,
        personKeying: options.personKeying,
      });
      if (result.status !== "dry-run") await rm(file, { force: true });
      if (result.status === "invalid") {
        throw new UploadRejectedError(
          result.issues.map((i) => ({
            line: i.line,
            field: i.field,
            rule: i.rule,
            message: i.message,
            hint: i.hint,
          })),
        );
      }
      if (result.status !== "anchored") {
        throw new InvariantError("the pipeline did not anchor", {
          details: `it ended ${result.status}; an upload is never a dry run`,
          code: "api.upload.not-anchored",
        });
      }
      return {
        batchId: result.batchId,
        txHash: result.txHash,
        root: result.root,
        recordCount: result.recordCount,
        total: result.total.toString(),
      };
    });
    queue = job.catch(() => undefined);
    return job;
  };
}

export const command: CliCommand = {
  summary: "serve the transparency API and portal, indexing the chain in the background",
  async run(argv) {
    const parsed = parse(argv);
    if (typeof parsed === "number") return parsed;
    const { values } = parsed;
    if (parsed.positionals.length > 0)
      return usageError("serve", USAGE, `unexpected argument "${parsed.positionals[0]}"`);
    let index: WritableIndexStore | undefined;
    let ledger: LedgerStore | undefined;
    let published: PublishedStore | undefined;
    let provider: { destroy(): void } | undefined;
    let personKeying: PersonKeying | undefined;
    let personKey: ((personId: string) => PersonKeyMaterial) | undefined;
    let logProvider: { destroy(): void } | undefined;
    try {
      if (values["create-api-key"] !== undefined) return await createKey(values);
      if (values.rpc === undefined || values.rpc.length === 0)
        throw new UsageError("--rpc URL is required");
      for (const url of values.rpc) httpUrl("rpc", url);
      if (values.contract === undefined || !/^0x[0-9a-fA-F]{40}$/.test(values.contract)) {
        throw new UsageError("--contract ADDR (0x and 40 hex digits) is required");
      }
      const contract = values.contract;
      const host = values.host ?? "127.0.0.1";
      const port = wholeNumber("port", values.port, 8080);
      const confirmations = wholeNumber("confirmations", values.confirmations, 0, 10_000);
      const trustProxy = wholeNumber("trust-proxy", values["trust-proxy"], 0, 10);
      const publicRpc =
        values["public-rpc"] === undefined
          ? undefined
          : httpUrl("public-rpc", values["public-rpc"]);
      let rateLimit: { capacity: number; refillPerSecond: number } | false = {
        capacity: 60,
        refillPerSecond: 10,
      };
      if (values["rate-limit"] !== undefined) {
        const m = /^(\d{1,6})(?:\/(\d{1,6}))?$/.exec(values["rate-limit"]);
        if (m === null)
          throw new UsageError("--rate-limit must be N/S (burst N, S per second), or 0");
        rateLimit =
          m[1] === "0" ? false : { capacity: Number(m[1]), refillPerSecond: Number(m[2] ?? m[1]) };
      }
      const apiKeys = values["api-keys"] === undefined ? [] : await readKeys(values["api-keys"]);
      const dataDir = path.resolve(values["data-dir"] ?? ".shafaf");
      const log = jsonLog();

      await mkdir(dataDir, { recursive: true, mode: 0o700 });
      const opened = await openInstanceIndex(dataDir, values["index-dir"]);
      index = opened.index;
      const dataKey = await openDataKeyOption(values["data-key"]);
      // Refuses to start rather than answer every receipt with 500 when the key is missing.
      published = await openPublishedStore(dataDir, {
        dataKey,
        onLocatorDamage: (d) =>
          log.warn("locator-table-damaged", {
            file: d.file,
            batches: `${d.first}–${d.last}`,
            check: d.code,
            hint: "its lookups read the batches' own tables; remove the file (or restore it from the backup) and run `shafaf data publish --data-dir DIR`: the range is merged again",
          }),
      });
      if (needsPublishing(dataDir))
        log.warn("not-published", {
          message: `${dataDir} has a ledger store but no published.json: its batches are not served yet`,
          hint: "run `shafaf data publish --data-dir DIR` once (or anchor a batch): it writes the files serve reads",
        });

      let anchorJob: AnchorJobFn | undefined;
      if (values.keystore !== undefined || values.signer !== undefined) {
        const spec = await signerSpecFromOptions(values);
        const signer = await connectSigner({ rpcUrl: values.rpc[0]!, spec });
        provider = signer.provider;
        const chain = createAnchorChain({
          wallet: signer.wallet,
          provider: signer.provider,
          chainId: signer.chainId,
          address: contract,
        });
        // The writer: the ledger store first (LevelDB's lock: one writer per data directory).
        ledger = await openLedgerStore(dataDir, { dataKey });
        const pseudonymKey = (await loadPseudonymKey(dataDir, process.env, {
          create: true,
          dataKey,
        }))!;
        const swept = await sweepUploads(path.join(dataDir, "uploads"));
        if (swept > 0) log.info("uploads-swept", { removed: swept });
        if (values["vrf-key"] !== undefined) {
          const opened = await openVrfPersonKeying({
            file: values["vrf-key"],
            dataDir,
            chain,
            dataKey,
          });
          personKey = personKeyProver(opened.seed);
          personKeying = opened.keying;
        }
        anchorJob = anchorPipeline({ dataDir, store: ledger, chain, pseudonymKey, personKeying });
      } else if (values["vrf-key"] !== undefined) {
        // Read-only: the key answers persons/key (and the person proofs need no key at all);
        // uploads stay off (503), as without --vrf-key.
        const ledgerClient = createLedgerClient({
          rpc: createRpc({ urls: values.rpc }),
          address: contract,
        });
        const seed = await loadRegisteredVrfSeed({
          file: values["vrf-key"],
          registry: {
            async isVrfKeyRegistered(keyId) {
              try {
                await ledgerClient.getVrfKey(keyId);
                return true;
              } catch (error) {
                if (
                  error instanceof ContractRevertError &&
                  error.errorName === "LedgerUnknownVrfKey"
                )
                  return false;
                throw error;
              }
            },
          },
        });
        personKey = personKeyProver(seed);
      }

      const served =
        values["log-key"] === undefined
          ? undefined
          : await openServedLog({
              key: values["log-key"],
              dir: path.resolve(values["log-dir"] ?? path.join(dataDir, "log")),
              policy: values["log-policy"],
            });
      let recordOnChain: LogCheckpointRecorder | undefined;
      if (values["log-keystore"] !== undefined || values["log-signer"] !== undefined) {
        if (served === undefined)
          throw new UsageError("--log-keystore and --log-signer record the log of --log-key");
        const logSigner = await connectSigner({
          rpcUrl: values.rpc[0]!,
          spec: await signerSpecFromOptions({
            keystore: values["log-keystore"],
            signer: values["log-signer"],
          }),
        });
        logProvider = logSigner.provider;
        recordOnChain = logCheckpointRecorder({
          wallet: logSigner.wallet,
          address: contract,
          chainId: logSigner.chainId,
          rpcUrl: values.rpc[0]!,
        });
      }
      const ledgerLog = served === undefined ? undefined : { ...served, recordOnChain };
      const stack = await startServeStack({
        rpcUrls: values.rpc,
        contract,
        host,
        port,
        dataDir,
        confirmations,
        index,
        ledger: published,
        apiKeys,
        anchorJob,
        rateLimit,
        trustProxy,
        ...(personKey === undefined ? {} : { persons: { personKey } }),
        cors: values.cors,
        publicRpc,
        log,
        ledgerLog,
      });
      index = undefined;
      published = undefined; // closed by the stack from here on
      process.stdout.write(
        `shafaf serve: listening on ${stack.url} — API ${stack.url}/api/v1 (OpenAPI: ${stack.url}/api/v1/openapi.json)` +
          (stack.portal ? `, portal ${stack.url}/` : "") +
          `\n` +
          (anchorJob === undefined
            ? "staff uploads: off (no --keystore or --signer)\n"
            : "staff uploads: on\n") +
          (personKey === undefined
            ? ""
            : "person keys: on (POST /api/v1/persons/key, scope persons:key)\n") +
          (ledgerLog === undefined
            ? ""
            : `ledger log ${ledgerLog.log.origin}: ${stack.url}/log/checkpoint (${ledgerLog.witnesses.length} witnesses` +
              (recordOnChain === undefined ? "" : ", checkpoints recorded on the ledger") +
              ")\n") +
          `indexing ${contract} from ${values.rpc.join(", ")} into ${opened.dir}; Ctrl-C stops\n`,
      );

      let failure: unknown;
      const following = stack.follow().catch((error: unknown) => {
        failure = error;
      });
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
        void following.then(() => {
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
          resolve();
        });
      });
      await stack.close();
      await following;
      if (failure !== undefined) return reportError("serve", failure);
      process.stderr.write("shafaf serve: stopped\n");
      return 0;
    } catch (error) {
      const code = reportError("serve", error, USAGE);
      return code;
    } finally {
      await personKeying?.close();
      provider?.destroy();
      logProvider?.destroy();
      await index?.close();
      await published?.close();
      await ledger?.close();
    }
  },
};

/** Index folders tried, in order, when --index-dir is not given. */
const INDEX_SLOTS = 16;

/**
 * This instance's index: `--index-dir`, else `<dataDir>/index`, else the first of
 * `<dataDir>/index.2` … `index.16` that no other process holds (each serve behind a load
 * balancer keeps its own, resumed from its checkpoint at the next start).
 */
async function openInstanceIndex(
  dataDir: string,
  given: string | undefined,
): Promise<{ index: WritableIndexStore; dir: string }> {
  const dirs =
    given !== undefined
      ? [path.resolve(given)]
      : Array.from({ length: INDEX_SLOTS }, (_, i) =>
          path.join(dataDir, i === 0 ? "index" : `index.${i + 1}`),
        );
  for (const dir of dirs) {
    try {
      return { index: await openIndexStore(dir), dir };
    } catch (error) {
      const e = error as { code?: string; cause?: { code?: string } };
      if (e.code !== "LEVEL_LOCKED" && e.cause?.code !== "LEVEL_LOCKED") throw error;
    }
  }
  throw new UsageError(
    given !== undefined
      ? `--index-dir ${given} is in use by another shafaf process; give each serve its own --index-dir`
      : `${dirs.length} serve processes already index into ${dataDir}; give this one its own --index-dir DIR`,
  );
}

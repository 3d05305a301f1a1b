import { expect } from "chai";
import { readdirSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { ShafafError } from "../../src/core/errors.ts";

const SRC = path.resolve(import.meta.dirname, "../../src");
/** Modules that cannot load outside a browser (they touch `document`, or a Web Worker's scope, when imported). */
const BROWSER_ENTRY = new Set(["web/main.ts", "web/history-worker.ts"]);
/** Worker-thread entry points: they refuse to load on the main thread. */
const WORKER_ENTRY = new Set(["anchor/person-key-worker.ts"]);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === "dist" ? [] : sources(full);
    return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [full] : [];
  });
}

type ErrorClass = new (...args: never[]) => Error;
const make =
  (...args: unknown[]) =>
  (C: ErrorClass): Error =>
    new (C as unknown as new (...a: unknown[]) => Error)(...args);

/**
 * How to make one of each exported error class, with arguments that carry no personal data. A new
 * exported error class fails the test below until it is added here (and extends ShafafError).
 * The generic bases take their code from the thrower; every other class has its own.
 */
const SAMPLES: Readonly<Record<string, (C: ErrorClass) => Error>> = {
  ShafafError: make("x", { code: "test.x" }),
  InvalidInputError: make("x", { code: "test.x" }),
  InvariantError: make("x", { code: "test.x" }),
  ChainTransactionError: make("x", { code: "chain.tx.x" }),
  InsufficientFundsError: make("x", { code: "chain.tx.funds" }),
  NonceTooLowError: make("x", { code: "chain.tx.nonce" }),
  ReplacementUnderpricedError: make("x", { code: "chain.tx.underpriced" }),
  ContractRefusedError: make("x", { code: "chain.tx.reverted" }),
  RpcTransportError: make("x"),
  RpcTimeoutError: make("x"),
  RpcResponseError: make("eth_call", { code: -32000, message: "x" }),
  LogRangeTooLargeError: make("x"),
  ChainDataError: make("x"),
  ChainMismatchError: make("x"),
  ReorgTooDeepError: make("x"),
  AbortedError: make("x"),
  ContractRevertError: make("head", "LedgerZeroRoot", [], "0x"),
  UsageError: make("x"),
  UnknownTreeSchemeError: make("shafaf-tree/9"),
  SumTreeCalldataError: make("window 0", "x"),
  CheckpointFormatError: make("origin", "x"),
  NoteFormatError: make("x", "format"),
  PolicyFormatError: make(1, "x"),
  TlogProofFormatError: make(1, "x"),
  ReceiptAssemblyError: make("x"),
  SourceReadError: make("x"),
  MirrorSourceError: make("/api/v1/chain", 503),
  LedgerRecordsError: make("archive/ledger-records.jsonl", 2, "x"),
  PrivateArchiveError: make("corrupt", "x", "y"),
  ApiKeysFileError: make("keys.json", "x"),
  ApiProblem: make("rate-limited", "x"),
  UploadRejectedError: make([]),
  DbfFormatError: make("x", 0),
  IngestError: make([]),
  IranSystemEncodeError: make(0, 0x20ac),
  ZipReadError: make("x", { code: "zip.format", hint: "y" }),
  SsoListWriteError: make("x", "DSW_ID", 1),
  BatchArtifactError: make("x"),
  PrivateFileError: make("x", { code: "store.private.tampered" }),
  LocatorTableError: make("receipts.loc", "x"),
  PersonKeyCacheBusyError: make("person-keys"),
  PublishedListError: make("published.json", "x"),
  IndexStoreError: make("x"),
  LedgerStoreError: make("x"),
  ApiError: make(503, "/api/v1/stats", ""),
  ChainReadError: make("x", true),
  HistoryKeyError: make("group", "group 7 does not match its check character", 7),
  SumTilesError: make("a tile of province IR-07 is shorter than its width"),
};
const GENERIC = new Set(["ShafafError", "InvalidInputError", "InvariantError"]);

describe("the error hierarchy (STYLE.md habit 7)", function () {
  this.timeout(60_000);
  const found = new Map<string, ErrorClass>();

  before(async function () {
    for (const file of sources(SRC)) {
      const rel = path.relative(SRC, file).split(path.sep).join("/");
      if (BROWSER_ENTRY.has(rel) || WORKER_ENTRY.has(rel)) continue;
      const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      for (const [name, value] of Object.entries(mod)) {
        if (typeof value === "function" && value.prototype instanceof Error) {
          found.set(`${rel}:${name}`, value as ErrorClass);
        }
      }
    }
  });

  it("finds the exported error classes", function () {
    expect(found.size).to.be.greaterThan(25);
  });

  it("every exported error class extends ShafafError, with its own name, a stable code and a retry verdict", function () {
    for (const [where, C] of found) {
      const sample = SAMPLES[C.name];
      expect(sample, `${where}: add a sample to SAMPLES (and extend ShafafError)`).to.not.equal(
        undefined,
      );
      const error = sample!(C);
      expect(error, where).to.be.instanceOf(ShafafError);
      const e = error as ShafafError;
      expect(e.name, where).to.equal(C.name);
      expect(e.code, where).to.match(/^[a-z][a-z0-9-]*(\.[a-z0-9-]+)*$/);
      if (!GENERIC.has(C.name))
        expect(e.code, `${where} has no code of its own`).to.not.equal("shafaf");
      expect(e.retryable, where).to.be.a("boolean");
    }
  });

  it("says when retrying helps", function () {
    const byName = new Map([...found.values()].map((C) => [C.name, C]));
    const retryable = (name: string, ...args: unknown[]) =>
      (make(...args)(byName.get(name)!) as ShafafError).retryable;
    expect(retryable("RpcTimeoutError", "x")).to.equal(true);
    expect(retryable("ApiProblem", "rate-limited", "x")).to.equal(true);
    expect(retryable("ApiProblem", "invalid-request", "x")).to.equal(false);
    expect(retryable("ApiError", 503, "/api/v1/stats", "")).to.equal(true);
    expect(retryable("ApiError", 404, "/api/v1/batches/9", "")).to.equal(false);
    expect(retryable("UsageError", "x")).to.equal(false);
    expect(retryable("LedgerStoreError", "x")).to.equal(false);
  });
});

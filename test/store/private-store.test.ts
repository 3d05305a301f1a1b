/**
 * Encryption at rest (`src/store/private-store.ts`, docs/spec/encrypted-file-v1.md): the committed
 * vectors (bytes reproduced, every corruption refused by name), random access by offset on real
 * files, crash safety under kill -9, the data keystore, the sealed person-key cache, and a sealed
 * batch artifact read through the receipt assembler.
 */
import { deflateSync } from "fflate";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import fc from "fast-check";
import {
  loadDataKeystore,
  newDataKeystore,
  readDataKeystoreKeyId,
} from "../../src/chain/data-keystore.ts";
import { dataKeyId } from "../../src/core/data-key-id.ts";
import { loadPseudonymKey } from "../../src/anchor/pseudonym-key.ts";
import { personVrfInput } from "../../src/core/person-key.ts";
import { vrfHash, vrfSecretKey } from "../../src/core/vrf.ts";
import { artifactFileRole, readBatchArtifact } from "../../src/store/batch-artifact.ts";
import { exportBatchArtifact } from "../../src/store/export-artifact.ts";
import { openLedgerStore } from "../../src/store/ledger-store.ts";
import {
  openPersonKeyCache,
  personKeyCacheKey,
  sealPersonKeyCache,
} from "../../src/store/person-key-cache.ts";
import {
  bindDataKey,
  createPrivateFileWriter,
  dataKeyOf,
  openBytes,
  openPrivateFileReader,
  PrivateFileError,
  readPrivateFile,
  requireDataKey,
  sealBytes,
  writePrivateFile,
  type DataKey,
} from "../../src/store/private-store.ts";
import { sealDataDirectory } from "../../src/store/seal-data-dir.ts";
import { ROOT } from "../anchor/helpers.ts";
import { anchor, makeBatch } from "./on-demand-fixture.ts";

interface Vectors {
  key: string;
  keyId: string;
  otherKey: string;
  salt: string;
  chunkBytes: number;
  role: string;
  valid: { name: string; plainHex: string; sealedHex: string }[];
  corrupted: {
    name: string;
    hex: string;
    role?: string;
    openWith?: "otherKey" | "noKey";
    failure: string;
  }[];
}

const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.slice(2), "hex"));
const toHex = (b: Uint8Array): string => "0x" + Buffer.from(b).toString("hex");

function failureOf(f: () => unknown): string {
  try {
    f();
  } catch (error) {
    expect(error).to.be.instanceOf(PrivateFileError);
    expect((error as PrivateFileError).code).to.equal(
      `store.private.${(error as PrivateFileError).failure}`,
    );
    return (error as PrivateFileError).failure;
  }
  return "accepted";
}

async function failureOfAsync(f: () => Promise<unknown>): Promise<string> {
  try {
    await f();
  } catch (error) {
    if (!(error instanceof PrivateFileError)) throw error;
    return error.failure;
  }
  return "accepted";
}

describe("private-store (encryption at rest)", function () {
  this.timeout(60_000);
  let work: string;
  const key = dataKeyOf(randomBytes(32));
  beforeEach(async function () {
    work = await mkdtemp(path.join(os.tmpdir(), "shafaf-atrest-"));
  });
  afterEach(async function () {
    await rm(work, { recursive: true, force: true });
  });

  for (const [vectorsFile, version] of [
    ["encrypted-file-1.json", 1],
    ["encrypted-file-2.json", 2],
  ] as const)
    describe(`test/vectors/${vectorsFile}`, function () {
      let v: Vectors;
      let vkey: DataKey;
      before(async function () {
        v = JSON.parse(
          await readFile(path.join(ROOT, "test/vectors", vectorsFile), "utf8"),
        ) as Vectors;
        vkey = dataKeyOf(fromHex(v.key));
      });

      it("reproduces every sealed file byte for byte and opens it", function () {
        expect(vkey.id).to.equal(v.keyId);
        expect(dataKeyId(fromHex(v.key))).to.equal(v.keyId);
        for (const c of v.valid) {
          const sealed = sealBytes(fromHex(c.plainHex), vkey, v.role, {
            chunkBytes: v.chunkBytes,
            salt: fromHex(v.salt),
            version,
            // The vectors' DEFLATE data comes from fflate (independent of Node's zlib build).
            ...(version === 2 ? { deflate: (b: Uint8Array) => deflateSync(b, { level: 6 }) } : {}),
          });
          expect(toHex(sealed), c.name).to.equal(c.sealedHex);
          expect(toHex(openBytes(fromHex(c.sealedHex), vkey, v.role)), c.name).to.equal(c.plainHex);
        }
      });

      it("refuses every corrupted file by name, in memory and from a real file", async function () {
        expect(v.corrupted.length).to.be.greaterThan(10);
        for (const c of v.corrupted) {
          const k =
            c.openWith === "noKey"
              ? undefined
              : c.openWith === "otherKey"
                ? dataKeyOf(fromHex(v.otherKey))
                : vkey;
          const role = c.role ?? v.role;
          expect(
            failureOf(() => openBytes(fromHex(c.hex), k, role)),
            c.name,
          ).to.equal(c.failure);
          const file = path.join(work, c.name);
          await writeFile(file, fromHex(c.hex));
          expect(
            await failureOfAsync(() => readPrivateFile(file, role, k, { allowPlain: false })),
            `${c.name} (readPrivateFile)`,
          ).to.equal(c.failure);
          const readAll = (): void => {
            const r = openPrivateFileReader(file, role, k, { allowPlain: false });
            try {
              for (const _ of r.chunks());
            } finally {
              r.close();
            }
          };
          expect(failureOf(readAll), `${c.name} (reader)`).to.equal(c.failure);
        }
      });

      it("names the file, the key ids and the fix, never the plaintext", function () {
        const c = v.corrupted.find((x) => x.name === "wrong-key")!;
        try {
          openBytes(fromHex(c.hex), dataKeyOf(fromHex(v.otherKey)), v.role, { file: "/d/x" });
          expect.fail("accepted");
        } catch (error) {
          const e = error as PrivateFileError;
          expect(e.message).to.contain("/d/x");
          expect(e.message).to.contain(v.keyId);
          expect(e.message).to.match(/shafaf keys show-data/);
          expect(e.message).not.to.contain("0012345679");
        }
        const none = v.corrupted.find((x) => x.name === "no-key")!;
        expect(() => openBytes(fromHex(none.hex), undefined, v.role)).to.throw(/--data-key FILE/);
      });
    });

  describe("files on disk", function () {
    it("reads any byte range by plaintext offset (property, real files)", async function () {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 20_000 }),
          fc.integer({ min: 1024, max: 4096 }),
          fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 20 }),
          async (size, chunkBytes, ranges) => {
            const plain = randomBytes(size);
            const file = path.join(work, `f-${size}-${chunkBytes}`);
            const w = await createPrivateFileWriter(file, "r", key, { chunkBytes });
            for (let at = 0; at < size; at += 999) await w.write(plain.subarray(at, at + 999));
            await w.close();
            const r = openPrivateFileReader(file, "r", key, { allowPlain: false });
            try {
              expect(r.size).to.equal(size);
              expect(Buffer.concat([...r.chunks()]).equals(plain)).to.equal(true);
              for (const [a, b] of ranges) {
                const start = size === 0 ? 0 : a % size;
                const length = size === 0 ? 0 : b % (size - start + 1);
                expect(
                  r.read(start, length).equals(plain.subarray(start, start + length)),
                ).to.equal(true);
              }
            } finally {
              r.close();
            }
          },
        ),
        { numRuns: 40 },
      );
    });

    it("writes 0600 files, and plain ones only where allowed", async function () {
      const file = path.join(work, "p");
      await writePrivateFile(file, Buffer.from("hello"), "r", undefined);
      expect((await stat(file)).mode & 0o777).to.equal(0o600);
      expect(
        Buffer.from(await readPrivateFile(file, "r", key, { allowPlain: true })).toString(),
      ).to.equal("hello");
      expect(
        await failureOfAsync(() => readPrivateFile(file, "r", key, { allowPlain: false })),
      ).to.equal("plain");
      await writePrivateFile(file, Buffer.from("hello"), "r", key);
      expect((await stat(file)).mode & 0o777).to.equal(0o600);
      expect((await readFile(file)).toString("latin1")).not.to.contain("hello");
    });

    it("leaves no half-written file when the writer is killed with SIGKILL", async function () {
      const file = path.join(work, "big.bin");
      await writePrivateFile(file, Buffer.from("the previous version"), "r", key);
      const script = `
        import { createPrivateFileWriter, dataKeyOf } from ${JSON.stringify(path.join(ROOT, "src/store/private-store.ts"))};
        const w = await createPrivateFileWriter(${JSON.stringify(file)}, "r", dataKeyOf(new Uint8Array(32).fill(1)));
        const chunk = new Uint8Array(1 << 16);
        process.stdout.write("writing\\n");
        for (;;) await w.write(chunk);`;
      const scriptFile = path.join(work, "writer.mts");
      await writeFile(scriptFile, script);
      const child = spawn(process.execPath, ["--import", "tsx", scriptFile], {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "inherit"],
      });
      await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
      // Let it write some megabytes of sealed chunks to its temporary file, then kill it.
      for (let i = 0; i < 100; i++) {
        const tmp = (await readdir(work)).find((n) => n.startsWith(".big.bin.tmp-"));
        if (tmp !== undefined && (await stat(path.join(work, tmp))).size > 4 << 20) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
      // The target is the previous complete file, untouched; only a temporary file is left.
      expect(
        Buffer.from(await readPrivateFile(file, "r", key, { allowPlain: false })).toString(),
      ).to.equal("the previous version");
      expect((await readdir(work)).some((n) => n.startsWith(".big.bin.tmp-"))).to.equal(true);
    });
  });

  describe("data keystore (shafaf-data-key/1)", function () {
    it("round-trips the key, names its id without the password, refuses a wrong password", async function () {
      const raw = randomBytes(32);
      const { keyId, json } = await newDataKeystore({ password: "correct horse", key: raw });
      const file = path.join(work, "data-key.json");
      await writeFile(file, json);
      expect(keyId).to.equal(dataKeyId(raw));
      expect(await readDataKeystoreKeyId(file)).to.equal(keyId);
      const opened = await loadDataKeystore(file, "correct horse");
      expect(Buffer.from(opened.key).equals(raw)).to.equal(true);
      expect(json).not.to.contain(raw.toString("hex"));
      try {
        await loadDataKeystore(file, "wrong password");
        expect.fail("accepted");
      } catch (error) {
        expect((error as { code: string }).code).to.equal("chain.data-keystore.decrypt");
      }
      const edited = JSON.parse(json) as { keyId: string };
      edited.keyId = "00".repeat(8);
      await writeFile(file, JSON.stringify(edited));
      try {
        await loadDataKeystore(file, "correct horse");
        expect.fail("accepted");
      } catch (error) {
        // The key id is authenticated data: an edited id does not decrypt.
        expect((error as { code: string }).code).to.equal("chain.data-keystore.decrypt");
      }
    });
  });

  describe("a data directory bound to a key", function () {
    it("binds on first use, refuses another key, and refuses to write plain without one", async function () {
      expect(await bindDataKey(work, undefined)).to.equal(undefined);
      expect(await bindDataKey(work, key)).to.equal(key.id);
      expect(await bindDataKey(work, undefined)).to.equal(key.id);
      expect((await stat(path.join(work, "data-key.json"))).mode & 0o777).to.equal(0o600);
      const other = dataKeyOf(randomBytes(32));
      expect(await failureOfAsync(() => bindDataKey(work, other))).to.equal("wrong-key");
      expect(failureOf(() => requireDataKey(work, key.id, undefined))).to.equal("no-key");
      expect(requireDataKey(work, undefined, undefined)).to.equal(undefined);
    });
  });

  describe("sealed batch artifacts", function () {
    it("gives the same receipts sealed and plain, and no national ID or salt in the sealed files", async function () {
      const plainDir = path.join(work, "plain");
      const sealedDir = path.join(work, "sealed");
      const plainStore = await openLedgerStore(plainDir);
      const made = await makeBatch(plainStore, 1, 300);
      await anchor(plainStore, made);
      const plainReceipts = [];
      for (const code of made.codes) plainReceipts.push(await plainStore.getReceiptByCode(code));
      expect(plainReceipts.every((r) => r !== undefined)).to.equal(true);
      await plainStore.close();
      // The same data directory, sealed in place (`shafaf data encrypt`).
      await rm(sealedDir, { recursive: true, force: true });
      await cp(plainDir, sealedDir, { recursive: true });
      const sealedStore = await openLedgerStore(sealedDir, { dataKey: key });
      const done = await sealDataDirectory(sealedDir, key);
      expect(done).to.include({ artifacts: 1, files: 2, alreadySealed: 0 });
      for (const [i, code] of made.codes.entries())
        expect(await sealedStore.getReceiptByCode(code), code).to.deep.equal(plainReceipts[i]);
      await sealedStore.close();
      expect((await sealDataDirectory(sealedDir, key)).alreadySealed).to.equal(1);

      const artifactDir = path.join(sealedDir, "batches", made.jobId);
      const records = await readFile(path.join(artifactDir, "records.jsonl"));
      const plainRecords = (
        await readFile(path.join(plainDir, "batches", made.jobId, "records.jsonl"))
      ).toString();
      const firstLine = JSON.parse(plainRecords.split("\n")[0]!) as {
        salt: string;
        record: { nationalId: string };
      };
      expect(plainRecords).to.contain(firstLine.record.nationalId);
      expect(records.toString("latin1")).not.to.contain(firstLine.record.nationalId);
      expect(records.toString("latin1")).not.to.contain(firstLine.salt.slice(2));

      // Without the key: refused by name; with another: refused by name.
      const noKey = await openLedgerStore(sealedDir);
      expect(noKey.dataKeyId).to.equal(key.id);
      expect(await failureOfAsync(() => noKey.getReceiptByCode(made.codes[0]!))).to.equal("no-key");
      await noKey.close();
      expect(
        await failureOfAsync(() =>
          openLedgerStore(sealedDir, { dataKey: dataKeyOf(randomBytes(32)) }),
        ),
      ).to.equal("wrong-key");

      // A sealed file moved into another batch's folder does not open there.
      const artifact = await readBatchArtifact(artifactDir, { dataKey: key });
      expect(artifact?.descriptor.encryption?.keyId).to.equal(key.id);
      // The auditor's plain export has the plaintext's bytes and hashes.
      const exported = path.join(work, "export");
      expect(await exportBatchArtifact(artifactDir, exported, key)).to.equal(true);
      expect((await readFile(path.join(exported, "records.jsonl"))).toString()).to.equal(
        plainRecords,
      );
      expect(
        await failureOfAsync(() =>
          exportBatchArtifact(artifactDir, path.join(work, "e2"), undefined),
        ),
      ).to.equal("no-key");
      const idx = path.join(artifactDir, "records.idx");
      const keysOfAnother = sealBytes(
        await readPrivateFile(idx, artifactFileRole(made.jobId, "records.idx"), key, {
          allowPlain: false,
        }),
        key,
        artifactFileRole("ab".repeat(32), "records.idx"),
      );
      await writeFile(idx, keysOfAnother);
      const moved = await openLedgerStore(sealedDir, { dataKey: key });
      try {
        await moved.getReceiptByCode(made.codes[0]!);
        expect.fail("accepted");
      } catch (error) {
        expect((error as { cause?: PrivateFileError }).cause?.failure).to.equal("role");
      }
      await moved.close();
    });
  });

  describe("the pseudonym key", function () {
    it("is made sealed with a data key, read back with it, refused without it; a plain one is sealed by data encrypt", async function () {
      const made = await loadPseudonymKey(work, {}, { create: true, dataKey: key });
      const file = path.join(work, "secrets", "pseudonym.key");
      expect((await readFile(file)).subarray(0, 8).toString("latin1")).to.equal("SHAFAFEF");
      expect(await loadPseudonymKey(work, {}, { create: false, dataKey: key })).to.deep.equal(made);
      expect(await failureOfAsync(() => loadPseudonymKey(work, {}, { create: false }))).to.equal(
        "no-key",
      );
      const plainDir = path.join(work, "plain");
      const plain = await loadPseudonymKey(plainDir, {}, { create: true });
      expect((await sealDataDirectory(plainDir, key)).pseudonymKey).to.equal(true);
      expect(await loadPseudonymKey(plainDir, {}, { create: false, dataKey: key })).to.deep.equal(
        plain,
      );
    });
  });

  describe("receipts stored whole by older versions (LevelDB)", function () {
    it("are sealed in place by sealStoredReceipts, read back the same with the key, gone from disk in plain, refused without it", async function () {
      const dataDir = path.join(work, "stored");
      const receipt = (i: number) => ({
        format: "shafaf-receipt/1",
        record: { nationalId: "0012345679", total: String(7_654_321 + i), recordId: `R-${i}` },
      });
      const subject = "0x" + "ab".repeat(32);
      const codes = [0, 1, 2].map((i) => `CODE-${i}-` + randomBytes(8).toString("hex"));
      const batch = { batchId: 1, kind: "premium", period: "1403-07" } as const;
      let store = await openLedgerStore(dataDir);
      await store.writeReceipts(
        batch as never,
        codes.map((code, index) => ({
          index,
          code,
          subject,
          recordId: `R-${index}`,
          receipt: receipt(index),
        })),
        { sync: true },
      );
      const before = await store.listReceiptsBySubject(subject);
      expect(before).to.have.length(3);
      await store.close();
      const onDisk = async () => {
        let all = "";
        const ledger = path.join(dataDir, "ledger");
        for (const f of await readdir(ledger))
          all += (await readFile(path.join(ledger, f))).toString("latin1");
        return all;
      };
      expect(await onDisk()).to.contain("0012345679");

      store = await openLedgerStore(dataDir, { dataKey: key });
      expect(await store.sealStoredReceipts()).to.equal(3);
      expect(await store.sealStoredReceipts()).to.equal(0);
      expect(await store.getReceiptByCode(codes[1]!)).to.deep.equal(receipt(1));
      expect(await store.listReceiptsBySubject(subject)).to.deep.equal(before);
      await store.close();
      const disk = await onDisk();
      expect(disk).not.to.contain("0012345679");
      expect(disk).not.to.contain("7654321");

      const noKey = await openLedgerStore(dataDir);
      expect(await failureOfAsync(() => noKey.getReceiptByCode(codes[0]!))).to.equal("no-key");
      expect(await failureOfAsync(() => noKey.sealStoredReceipts())).to.equal("no-key");
      await noKey.close();
    });
  });

  describe("shafaf data encrypt stopped half way", function () {
    it("leaves every receipt readable with the key, and a second run finishes", async function () {
      const dataDir = path.join(work, "half");
      const store = await openLedgerStore(dataDir);
      const made = await makeBatch(store, 1, 50);
      await anchor(store, made);
      const before = await store.getReceiptByCode(made.codes[9]!);
      await store.close();
      // What a run killed after sealing records.jsonl (and before artifact.json) leaves.
      const dir = path.join(dataDir, "batches", made.jobId);
      const plain = await readFile(path.join(dir, "records.jsonl"));
      await writePrivateFile(
        path.join(dir, "records.jsonl"),
        plain,
        artifactFileRole(made.jobId, "records.jsonl"),
        key,
      );
      expect(
        JSON.parse(await readFile(path.join(dir, "artifact.json"), "utf8")),
      ).not.to.have.property("encryption");
      // …and the temporary copy of the next file it was sealing.
      const leftover = path.join(dir, ".records.idx.tmp-4242-0badc0de");
      await writeFile(leftover, "partial");
      const sealedStore = await openLedgerStore(dataDir, { dataKey: key });
      expect(await sealedStore.getReceiptByCode(made.codes[9]!)).to.deep.equal(before);
      const done = await sealDataDirectory(dataDir, key);
      expect(done).to.include({ artifacts: 1, files: 1 });
      expect(existsSync(leftover)).to.equal(false);
      expect(await sealedStore.getReceiptByCode(made.codes[9]!)).to.deep.equal(before);
      await sealedStore.close();
      const descriptor = JSON.parse(await readFile(path.join(dir, "artifact.json"), "utf8")) as {
        encryption: { files: string[] };
      };
      expect(descriptor.encryption.files.sort()).to.deep.equal(["records.idx", "records.jsonl"]);
    });
  });

  describe("sealed person-key cache", function () {
    const seed = new Uint8Array(32).fill(7);
    const vrf = vrfSecretKey(seed);
    const open = (dir: string, dataKey?: DataKey) =>
      openPersonKeyCache(dir, {
        cacheKey: personKeyCacheKey(seed),
        vrfPublicKey: vrf.publicKey,
        dataKey,
      });

    it("seals betas (none on disk in plain), refuses without or with another key, migrates plain ones", async function () {
      const dir = path.join(work, "person-keys");
      const alphas = ["0012345679", "1234567891"].map((p) => personVrfInput(p));
      const betas = alphas.map((a) => vrfHash(vrf, a));
      // A plain cache (before encryption at rest) with one entry.
      let cache = await open(dir);
      await cache.putMany([{ alpha: alphas[0]!, beta: betas[0]! }]);
      await cache.close();
      const onDisk = async () => {
        let all = "";
        for (const f of await readdir(dir))
          all += (await readFile(path.join(dir, f))).toString("hex");
        return all;
      };
      expect(await onDisk()).to.contain(Buffer.from(betas[0]!).toString("hex"));
      // Opened with the key: the plain entry is still read, new ones are sealed.
      cache = await open(dir, key);
      await cache.putMany([{ alpha: alphas[1]!, beta: betas[1]! }]);
      expect(
        (await cache.getMany(alphas)).map((b) => Buffer.from(b!).toString("hex")),
      ).to.deep.equal(betas.map((b) => Buffer.from(b).toString("hex")));
      await cache.close();
      expect(await sealPersonKeyCache(dir, key)).to.equal(1);
      // Nothing plain left on disk: sealPersonKeyCache compacts what it overwrote.
      const disk = await onDisk();
      for (const b of betas) expect(disk).not.to.contain(Buffer.from(b).toString("hex"));
      cache = await open(dir, key);
      expect(
        (await cache.getMany(alphas)).every((b, i) =>
          Buffer.from(b!).equals(Buffer.from(betas[i]!)),
        ),
      ).to.equal(true);
      await cache.close();
      expect(await failureOfAsync(() => open(dir))).to.equal("no-key");
      expect(await failureOfAsync(() => open(dir, dataKeyOf(randomBytes(32))))).to.equal(
        "wrong-key",
      );
      expect(existsSync(dir)).to.equal(true);
    });
  });
});

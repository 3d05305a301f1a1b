/**
 * `records.jsonl` written on a second thread (src/anchor/records-file-thread.ts): the same file,
 * sha256 and offsets as the writer on the main thread — plain byte for byte, sealed the same
 * plaintext — over lines of Persian text and a line larger than a flush; a failing worker
 * rejects the commit with `anchor.artifact.worker` and the artifact folder is not left behind.
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import {
  createThreadedRecordsFile,
  RecordsFileThreadError,
} from "../../src/anchor/records-file-thread.ts";
import {
  createBatchArtifactWriter,
  readArtifactFile,
  readBatchArtifact,
  type ArtifactRecordLine,
} from "../../src/store/batch-artifact.ts";
import { dataKeyOf, type DataKey } from "../../src/store/private-store.ts";
import { manifestHash } from "../../src/core/manifest.ts";

const JOB = "12".repeat(16);

/** 3,000 lines: Persian text, emoji, and one line of 1.5 MiB (above a flush). */
function lines(): ArtifactRecordLine[] {
  return Array.from({ length: 3_000 }, (_, i) => ({
    index: i,
    code: `C${i}`,
    salt: `0x${String(i % 10).repeat(64)}`,
    subject: `0x${String(i % 7).repeat(64)}`,
    source: { file: "لیست.csv", line: i + 2 },
    record: {
      recordId: `R-${i}`,
      name: i === 1_234 ? "ث".repeat(800_000) : `کارگاه ${i} 🏭`,
      amount: String(i * 1000),
    },
  }));
}

async function write(
  dir: string,
  options: { dataKey?: DataKey; threaded?: boolean; file?: string },
): Promise<string> {
  const w = await createBatchArtifactWriter(dir, JOB, {
    dataKey: options.dataKey,
    ...(options.threaded === true
      ? {
          recordsFile: (file: string, role: string, key: DataKey | undefined) =>
            createThreadedRecordsFile(options.file ?? file, role, key),
        }
      : {}),
  });
  try {
    for (const line of lines()) await w.append(line);
    const manifestBytes = new TextEncoder().encode("{}");
    const { dir: final } = await w.commit({
      manifestBytes,
      tree: new Uint8Array(0),
      descriptor: {
        kind: "premium",
        period: "1403-07",
        recordCount: 3_000,
        total: "0",
        root: "0x00",
        manifestHash: manifestHash(manifestBytes),
        idempotencyKey: "0x00",
        supersedes: null,
        reason: null,
        createdAt: "2026-01-01T00:00:00.000Z",
      },
    });
    return final;
  } catch (error) {
    await w.abort();
    throw error;
  }
}

describe("records.jsonl on a second thread", function () {
  this.timeout(120_000);
  let work: string;
  before(async function () {
    work = await mkdtemp(path.join(os.tmpdir(), "shafaf-records-thread-"));
  });
  after(async function () {
    await rm(work, { recursive: true, force: true });
  });

  /** What must not differ between the two writers: the descriptor's files and the plaintext. */
  async function summary(
    dir: string,
    key?: DataKey,
  ): Promise<{ files: unknown; records: Buffer; idx: Buffer }> {
    const descriptor = JSON.parse(await readFile(path.join(dir, "artifact.json"), "utf8")) as {
      files: unknown;
    };
    const artifact = (await readBatchArtifact(dir, { dataKey: key }))!;
    return {
      files: descriptor.files,
      records: Buffer.from(await readArtifactFile(dir, artifact.descriptor, "records.jsonl", key)),
      idx: Buffer.from(await readArtifactFile(dir, artifact.descriptor, "records.idx", key)),
    };
  }

  it("writes the same plain file, sha256 and offsets as the main thread", async function () {
    const a = await write(path.join(work, "plain-main"), {});
    const b = await write(path.join(work, "plain-thread"), { threaded: true });
    const [fa, fb] = [
      await readFile(path.join(a, "records.jsonl")),
      await readFile(path.join(b, "records.jsonl")),
    ];
    expect(fa.equals(fb)).to.equal(true);
    expect(await summary(b)).to.deep.equal(await summary(a));
  });

  it("seals it with the data key: the same plaintext, sha256 and offsets", async function () {
    const key = dataKeyOf(new Uint8Array(32).fill(3));
    const a = await write(path.join(work, "sealed-main"), { dataKey: key });
    const b = await write(path.join(work, "sealed-thread"), { dataKey: key, threaded: true });
    const sealed = await readFile(path.join(b, "records.jsonl"));
    expect(sealed.includes(Buffer.from("کارگاه 7 "))).to.equal(false);
    expect(await summary(b, key)).to.deep.equal(await summary(a, key));
  });

  it("rejects with anchor.artifact.worker when the worker fails, and leaves no artifact folder", async function () {
    const batches = path.join(work, "failing");
    let thrown: unknown;
    try {
      // A folder that does not exist: the worker cannot open the file.
      await write(batches, { threaded: true, file: path.join(work, "missing", "records.jsonl") });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).to.be.instanceOf(RecordsFileThreadError);
    expect((thrown as RecordsFileThreadError).code).to.equal("anchor.artifact.worker");
    expect(await readdir(batches)).to.deep.equal([]);
  });
});

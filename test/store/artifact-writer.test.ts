/**
 * The artifact writer's line buffer (`createBatchArtifactWriter().append`): a promise only when
 * the buffer is written out or a line is refused, and `records.jsonl` exactly the lines'
 * `JSON.stringify` and a newline each — across flushes, with multi-byte text, and with one line
 * longer than the buffer — with `records.idx` the byte offset of each line.
 */
import { expect } from "chai";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { keccak256, toUtf8Bytes } from "ethers";
import {
  BatchArtifactError,
  createBatchArtifactWriter,
  type ArtifactRecordLine,
} from "../../src/store/batch-artifact.ts";
import { decodeRecordOffsets } from "../../src/store/record-offsets.ts";

const JOB = "ab".repeat(16);
const MANIFEST = toUtf8Bytes('{"format":"shafaf-manifest/1"}');

function line(index: number, note = ""): ArtifactRecordLine {
  return {
    index,
    code: `CODE-${index}`,
    salt: "0x" + "5a".repeat(32),
    subject: "0x" + "a5".repeat(32),
    source: { file: `لیست-${index % 7}.csv`, line: index + 2 },
    record: { recordId: `R-${index}`, amount: String(1000 + index), note },
  };
}

describe("batch artifact writer (append)", function () {
  let dir: string;
  beforeEach(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), "shafaf-artifact-writer-"));
  });
  afterEach(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes each line's JSON and a newline, byte for byte, across flushes and a line longer than the buffer", async function () {
    const w = await createBatchArtifactWriter(dir, JOB);
    const lines: ArtifactRecordLine[] = [];
    let promises = 0;
    for (let i = 0; i < 12_000; i++) {
      // Persian text (2 UTF-8 bytes per character), and at line 7,000 a 1.5 MiB one.
      const l = line(i, i === 7_000 ? "ب".repeat(800_000) : "متن ".repeat(i % 40));
      lines.push(l);
      const pending = w.append(l);
      if (pending !== undefined) {
        promises++;
        await pending;
      }
    }
    const expected = Buffer.from(lines.map((l) => JSON.stringify(l) + "\n").join(""), "utf8");
    // ≈ 4.8 MiB of lines in 1 MiB buffers: a handful of promises, not one per line.
    expect(expected.length).to.be.greaterThan(4 << 20);
    expect(promises).to.be.within(3, 12);
    const { dir: final } = await w.commit({
      manifestBytes: MANIFEST,
      tree: new Uint8Array([1, 2, 3]),
      descriptor: {
        kind: "premium",
        period: "1403-07",
        recordCount: lines.length,
        total: "0",
        root: "0x" + "11".repeat(32),
        manifestHash: keccak256(MANIFEST),
        idempotencyKey: "0x" + "22".repeat(32),
        supersedes: null,
        reason: null,
        createdAt: "2026-01-01T00:00:00.000Z",
      },
    });
    const written = await readFile(path.join(final, "records.jsonl"));
    expect(written.equals(expected)).to.equal(true);
    const offsets = decodeRecordOffsets(
      await readFile(path.join(final, "records.idx")),
      lines.length,
      expected.length,
    );
    let at = 0;
    for (let i = 0; i < lines.length; i++) {
      expect(offsets[i]).to.equal(at);
      at += Buffer.byteLength(JSON.stringify(lines[i]) + "\n", "utf8");
    }
    expect(offsets[lines.length]).to.equal(expected.length);
  });

  it("refuses a line out of order with a rejected promise, and takes the expected one after it", async function () {
    const w = await createBatchArtifactWriter(dir, JOB);
    expect(w.append(line(0))).to.equal(undefined);
    const refused = w.append(line(2));
    expect(refused).to.be.instanceOf(Promise);
    const error = await refused!.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(BatchArtifactError);
    expect((error as Error).message).to.match(/got 2, expected 1/);
    expect(w.append(line(1))).to.equal(undefined);
    await w.abort();
  });
});

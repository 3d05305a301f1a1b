/**
 * The verification policy of POST /api/v1/verify without HTTP: real LevelDB stores filled with
 * the API fixture's dataset, core's real verifier; only the chain (a true boundary) is stubbed.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import type { ChainBatchReader, VerifyCheck, VerifyReceiptFn } from "../../src/api/app-deps.ts";
import {
  createVerifyPolicy,
  safeVerify,
  sameHex,
  toCheck,
  type VerifyPolicyDeps,
  type VerifyRequestReceipt,
} from "../../src/api/verify-policy.ts";
import { parseReceiptCode } from "../../src/core/receipt-code.ts";
import type { WritableIndexStore } from "../../src/store/index-store.ts";
import type { LedgerStore } from "../../src/store/ledger-store.ts";
import {
  CONTRACT,
  makeDataset,
  newCode,
  verifyWithCore,
  writeStores,
  type Dataset,
} from "./api-fixture.ts";

const parseCode = (text: string) => {
  const parsed = parseReceiptCode(text);
  return parsed.ok ? parsed.code : undefined;
};

describe("verify policy (POST /api/v1/verify, without HTTP)", function () {
  let dir: string;
  let dataset: Dataset;
  let index: WritableIndexStore;
  let ledger: LedgerStore;

  before(async function () {
    dir = mkdtempSync(path.join(tmpdir(), "shafaf-verify-policy-"));
    const made = await makeDataset();
    dataset = made.dataset;
    ({ index, ledger } = await writeStores(dir, dataset, made.history));
  });
  after(async function () {
    await index.close();
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const policyWith = (over: Partial<VerifyPolicyDeps> = {}) =>
    createVerifyPolicy({ index, ledger, verify: verifyWithCore, parseCode, ...over });
  const receiptOf = (batch: number, n = 0) =>
    dataset.batches[batch]!.receipts[n]!.receipt as VerifyRequestReceipt;
  const names = (checks: { name: string }[]) => checks.map((c) => c.name);
  const check = (checks: VerifyCheck[], name: string): VerifyCheck => {
    const found = checks.find((c) => c.name === name);
    expect(found, `check ${name}`).not.to.equal(undefined);
    return found!;
  };

  it("verifies a genuine receipt of a current, confirmed batch and binds its code", async function () {
    const d = await policyWith().decide(receiptOf(2));
    expect(d.status).to.equal("verified");
    expect(d.current).to.equal(true);
    expect(check(d.checks, "code-bound")).to.include({ ok: true, outcome: "pass" });
    expect(check(d.checks, "root-indexed").ok).to.equal(true);
    expect(names(d.checks)).not.to.include("root-on-chain");
    expect(names(d.checks).slice(-4)).to.deep.equal([
      "code-bound",
      "root-indexed",
      "superseded",
      "attestations",
    ]);
  });

  it("fails a receipt whose code was replaced by another record's code", async function () {
    const other = dataset.batches[2]!.receipts[1]!.code;
    const d = await policyWith().decide({ ...receiptOf(2), code: other });
    expect(d.status).to.equal("failed");
    expect(check(d.checks, "code-bound")).to.include({ ok: false, outcome: "fail" });
  });

  it("is inconclusive when this server holds no receipt under the code", async function () {
    const d = await policyWith().decide({ ...receiptOf(2), code: newCode() });
    expect(d.status).to.equal("inconclusive");
    expect(check(d.checks, "code-bound")).to.include({ ok: false, outcome: "inconclusive" });
  });

  it("reports a superseded batch and a disputed one without failing the proof", async function () {
    const superseded = await policyWith().decide(receiptOf(0));
    expect(superseded.status).to.equal("verified");
    expect(superseded.current).to.equal(false);
    expect(check(superseded.checks, "superseded").detail).to.equal(
      "the batch was corrected by batch 3",
    );
    const disputed = await policyWith().decide(receiptOf(1));
    expect(disputed.status).to.equal("verified");
    expect(check(disputed.checks, "attestations")).to.include({
      ok: false,
      detail: "1 auditor(s) confirm the batch, 1 dispute it",
    });
  });

  it("is inconclusive, without `current`, when the batch is neither indexed nor on chain", async function () {
    const receipt = dataset.unindexed.receipt as VerifyRequestReceipt;
    const d = await policyWith().decide(receipt);
    expect(d).to.deep.equal({
      status: "inconclusive",
      checks: [
        {
          name: "batch",
          ok: false,
          detail: `batch ${receipt.batchId} is neither indexed nor readable on chain`,
        },
      ],
    });
  });

  it("trusts the contract's root for a batch not indexed yet", async function () {
    const receipt = dataset.unindexed.receipt as VerifyRequestReceipt;
    const chain: ChainBatchReader = {
      readBatch: (id) =>
        Promise.resolve(
          id === receipt.batchId ? { root: receipt.root!, supersededBy: 0 } : undefined,
        ),
    };
    const d = await policyWith({ chain }).decide(receipt);
    expect(d.status).to.equal("verified");
    expect(d.current).to.equal(true);
    expect(check(d.checks, "root-on-chain").ok).to.equal(true);
    expect(names(d.checks)).not.to.include("root-indexed");
    expect(names(d.checks)).not.to.include("attestations");
  });

  it("reads the chain: silent is inconclusive, unknown batch and other root are failed", async function () {
    const receipt = receiptOf(2);
    const silent = await policyWith({
      chain: { readBatch: () => Promise.reject(new Error("ECONNREFUSED")) },
    }).decide(receipt);
    expect(silent.status).to.equal("inconclusive");
    expect(check(silent.checks, "root-on-chain").detail).to.equal(
      "the chain did not answer; the on-chain root was not read",
    );
    const unknown = await policyWith({
      chain: { readBatch: () => Promise.resolve(undefined) },
    }).decide(receipt);
    expect(unknown.status).to.equal("failed");
    expect(check(unknown.checks, "root-on-chain").detail).to.equal(
      `the contract has no batch ${receipt.batchId}`,
    );
    const other = await policyWith({
      chain: {
        readBatch: () => Promise.resolve({ root: "0x" + "ab".repeat(32), supersededBy: 0 }),
      },
    }).decide(receipt);
    expect(other.status).to.equal("failed");
    expect(check(other.checks, "root-on-chain").ok).to.equal(false);
  });

  it("takes supersession from the chain before the index", async function () {
    const d = await policyWith({
      chain: { readBatch: () => Promise.resolve({ root: receiptOf(2).root!, supersededBy: 9 }) },
    }).decide(receiptOf(2));
    expect(d.current).to.equal(false);
    expect(check(d.checks, "superseded").detail).to.equal("the batch was corrected by batch 9");
  });

  it("fails a receipt whose root is not its batch's indexed root", async function () {
    const receipt = { ...receiptOf(2), root: receiptOf(1).root! };
    const d = await policyWith().decide(receipt);
    expect(d.status).to.equal("failed");
    expect(check(d.checks, "root-indexed").ok).to.equal(false);
  });

  it("passes the index's chain and contract to the verifier, reading them once", async function () {
    const trusts: unknown[] = [];
    let reads = 0;
    const counted = {
      getBatch: index.getBatch.bind(index),
      getChainInfo: () => {
        reads++;
        return index.getChainInfo();
      },
    };
    const verify: VerifyReceiptFn = (receipt, trust) => {
      trusts.push(trust);
      return verifyWithCore(receipt, trust);
    };
    const policy = policyWith({ index: counted, verify });
    await policy.decide(receiptOf(2));
    await policy.decide(receiptOf(1));
    expect(reads).to.equal(1);
    expect(trusts[0]).to.deep.equal({
      root: receiptOf(2).root,
      chainId: 31337,
      contract: CONTRACT,
    });
  });

  it("turns a throwing verifier into a failed receipt, and normalises core's checks", async function () {
    const thrown = await safeVerify(
      () => {
        throw new Error("boom");
      },
      {},
      { root: "0x00" },
    );
    expect(thrown).to.deep.equal({
      status: "failed",
      checks: [{ name: "verifier", ok: false, detail: "the verifier rejected the receipt" }],
    });
    expect(
      toCheck({ name: 3, ok: "yes", expected: 5, computed: "x", outcome: "maybe", extra: 1 }),
    ).to.deep.equal({ name: "unnamed", ok: false, detail: "", expected: "5", computed: "x" });
    expect(toCheck(null)).to.deep.equal({ name: "unnamed", ok: false, detail: "" });
    expect(sameHex("0xAB", "0xab")).to.equal(true);
    expect(sameHex("0xab", undefined)).to.equal(false);
  });
});

import { expect } from "chai";
import fc from "fast-check";
import { createBatchAccumulator } from "../../src/core/batch-accumulator.ts";
import { LEAF_ENCODING } from "../../src/core/leaf.ts";
import { buildManifest } from "../../src/core/manifest.ts";
import { hex32, pension, premium } from "../audit/batch-fixture.ts";
import type { LedgerRecord } from "../../src/core/record.ts";

const manifestOf = (records: readonly LedgerRecord[], subjects: readonly string[]) => {
  const acc = createBatchAccumulator();
  records.forEach((r, i) => acc.add(r, subjects[i]!));
  const f = acc.figures();
  return buildManifest({
    kind: "pension",
    period: "1403-07",
    recordCount: f.recordCount,
    total: f.total,
    byProvince: f.byProvince,
    byCategory: f.byCategory,
    timeliness: f.timeliness,
    people: f.people,
    sources: [],
    rulesVersion: "t",
    leafEncoding: LEAF_ENCODING,
    supersedes: null,
    reason: null,
  }).hash;
};

describe("createBatchAccumulator", function () {
  it("folds premiums: count, Σ total, cells by province, distinct people; no categories or timeliness", function () {
    const acc = createBatchAccumulator();
    const records = [0, 1, 2].map((i) => premium(i));
    acc.add(records[0]!, hex32(1));
    acc.add(records[1]!, hex32(2));
    acc.add(records[2]!, hex32(1)); // the same person twice
    const f = acc.figures();
    expect(f.recordCount).to.equal(3);
    expect(f.total).to.equal(records[0]!.total + records[1]!.total + records[2]!.total);
    expect(f.byProvince.get("IR-23")).to.deep.equal({
      count: 2,
      total: records[0]!.total + records[2]!.total,
    });
    expect(f.byProvince.get("IR-10")).to.deep.equal({ count: 1, total: records[1]!.total });
    expect(f.people).to.equal(2);
    expect(f.byCategory.size).to.equal(0);
    expect(f.timeliness).to.deep.equal({ onTime: 0, late: 0 });
  });

  it("folds pensions by their net, by category, and paid on the due date as on time", function () {
    const acc = createBatchAccumulator();
    acc.add(pension(1, { paidOn: "1403-07-05", dueOn: "1403-07-05" }), hex32(1));
    acc.add(pension(2, { paidOn: "1403-07-06", dueOn: "1403-07-05" }), hex32(2));
    acc.add(pension(4, { paidOn: "1403-06-30", dueOn: "1403-07-05" }), hex32(3));
    const f = acc.figures();
    expect(f.total).to.equal(145_000_001n + 145_000_002n + 145_000_004n);
    expect(f.timeliness).to.deep.equal({ onTime: 2, late: 1 });
    expect(f.byCategory.get("disability")).to.deep.equal({ count: 2, total: 290_000_005n });
    expect(f.byCategory.get("survivors")).to.deep.equal({ count: 1, total: 145_000_002n });
  });

  it("gives a snapshot: records added later do not change figures already taken", function () {
    const acc = createBatchAccumulator();
    acc.add(premium(0), hex32(1));
    const before = acc.figures();
    acc.add(premium(2), hex32(2));
    expect(before.recordCount).to.equal(1);
    expect(before.byProvince.get("IR-23")!.count).to.equal(1);
    expect(acc.figures().byProvince.get("IR-23")!.count).to.equal(2);
  });

  it("is order-independent: any order of the same records gives the same manifest hash", function () {
    const records = Array.from({ length: 12 }, (_, i) => pension(i));
    const subjects = records.map((_, i) => hex32(i % 7));
    const reference = manifestOf(records, subjects);
    fc.assert(
      fc.property(fc.shuffledSubarray([...records.keys()], { minLength: 12 }), (order) => {
        const hash = manifestOf(
          order.map((i) => records[i]!),
          order.map((i) => subjects[i]!),
        );
        expect(hash).to.equal(reference);
      }),
      { numRuns: 50 },
    );
  });

  it("keeps its sums consistent: Σ cells = total and Σ counts = recordCount, by province and by category", function () {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 500 }), { maxLength: 40 }), (ids) => {
        const acc = createBatchAccumulator();
        ids.forEach((i) => acc.add(pension(i), hex32(i)));
        const f = acc.figures();
        for (const cells of [f.byProvince, f.byCategory]) {
          const cs = [...cells.values()];
          expect(cs.reduce((n, c) => n + c.count, 0)).to.equal(f.recordCount);
          expect(cs.reduce((n, c) => n + c.total, 0n)).to.equal(f.total);
        }
        expect(f.people).to.equal(new Set(ids).size);
        expect(f.timeliness.onTime + f.timeliness.late).to.equal(ids.length);
      }),
      { numRuns: 50 },
    );
  });
});

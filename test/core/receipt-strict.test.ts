import { expect } from "chai";
import { recordFromJson, recordToJson } from "../../src/core/receipt.ts";
import { validateRecord } from "../../src/core/validate-record.ts";

describe("recordFromJson (a receipt's opening)", function () {
  const r = validateRecord("pension", {
    record_id: "P-1",
    period: "1403-07",
    national_id: "1234567891",
    pension_file: "PF1",
    category: "retirement",
    province: "IR-23",
    gross: "100000000",
    deductions: "7000000",
    net: "93000000",
    due_on: "1403-07-25",
    paid_on: "1403-07-26",
  });
  if (!r.ok) throw new Error("fixture");
  const json = recordToJson(r.record) as unknown as Record<string, unknown>;

  it("reads the record's own keys", function () {
    expect(recordFromJson(json)).to.deep.equal(r.record);
  });

  it("refuses a key the leaf does not bind (found by the readers' fuzz campaign)", function () {
    for (const extra of ["paidOnperiod", "note", "grossTotal", "__proto__x"])
      expect(recordFromJson({ ...json, [extra]: "1403-07" }), extra).to.equal(undefined);
  });
});

import { expect } from "chai";
import { readFileSync } from "node:fs";
import { createBatchAccumulator } from "../../src/core/batch-accumulator.ts";
import type { RecordKindRules } from "../../src/core/kinds/record-kind-rules.ts";
import { RECORD_KINDS } from "../../src/core/kinds/record-kinds.ts";
import { RECORD_VALIDATORS } from "../../src/core/kinds/record-validators.ts";
import { leafValues } from "../../src/core/leaf.ts";
import { buildManifest } from "../../src/core/manifest.ts";
import { recordFromJson, recordToJson } from "../../src/core/receipt.ts";
import {
  KIND_NUMBER,
  OPTIONAL_COLUMNS,
  RECORD_COLUMNS,
  type LedgerRecord,
} from "../../src/core/record.ts";
import { SUM_TREE_KIND_BYTE, SUM_TREE_LANES } from "../../src/core/sum-tree-lanes.ts";
import { sumTreeRecordFields } from "../../src/core/sum-tree-record.ts";
import { validateRecord } from "../../src/core/validate-record.ts";

/** One valid input row per kind. A kind added to the registry needs its row here. */
const SAMPLE_ROWS: Readonly<Record<string, Record<string, string>>> = {
  premium: {
    record_id: "W0012345678-140307-0001",
    period: "1403-07",
    national_id: "0012345679",
    workshop_code: "0012345678",
    insurance_no: "12345678",
    province: "IR-23",
    days: "30",
    wage_base: "100000000",
    worker_share: "7000000",
    employer_share: "20000000",
    unemployment_share: "3000000",
    hazard_share: "0",
    total: "30000000",
    paid_on: "1403-08-02",
    supersedes: "W0012345678-140307-0000",
    reason: "wage-correction",
  },
  pension: {
    record_id: "P-1",
    period: "1403-07",
    national_id: "2740583311",
    pension_file: "PF900001",
    category: "retirement",
    province: "IR-23",
    gross: "120000000",
    deductions: "6000000",
    net: "114000000",
    due_on: "1403-07-25",
    paid_on: "1403-07-27",
    supersedes: "P-0",
    reason: "late-entry",
  },
};

/** The columns every kind reads with the common rules of `validateRecord`. */
const COMMON_COLUMNS = ["record_id", "period", "national_id", "province", "supersedes", "reason"];

const SALT = `0x${"11".repeat(32)}` as const;
const SUBJECT = `0x${"22".repeat(32)}` as const;

/** A record with one field changed to another value of the same type. */
function changed(record: LedgerRecord, key: string): LedgerRecord {
  const v = (record as unknown as Record<string, unknown>)[key];
  const other =
    typeof v === "bigint"
      ? v + 1n
      : typeof v === "number"
        ? v === 31
          ? 30
          : v + 1
        : key === "period"
          ? "1403-08"
          : key === "category"
            ? v === "retirement"
              ? "survivors"
              : "retirement"
            : `${String(v)}0`;
  return { ...record, [key]: other };
}

describe("RECORD_KINDS", function () {
  it("has one kind per member of the contract's Kind enum, with its number", function () {
    const sol = readFileSync("contracts/interfaces/ITransparencyLedger.sol", "utf8");
    const members = /enum Kind \{([^}]*)\}/
      .exec(sol)![1]!
      .split(",")
      .map((m) => m.trim());
    expect(members.length).to.be.greaterThan(0);
    expect(Object.keys(RECORD_KINDS)).to.have.members(members.map((m) => m.toLowerCase()));
    members.forEach((m, i) => {
      const rules = Object.values(RECORD_KINDS).find((r) => r.kind === m.toLowerCase())!;
      expect(rules.number, m).to.equal(i);
    });
  });

  for (const rules of Object.values(RECORD_KINDS) as RecordKindRules[]) {
    describe(rules.kind, function () {
      const row = SAMPLE_ROWS[rules.kind];
      const record = (): LedgerRecord => {
        expect(row, `add a sample ${rules.kind} row to SAMPLE_ROWS`).to.not.equal(undefined);
        const r = validateRecord(rules.kind, row!);
        expect(r.ok ? [] : r.issues).to.deep.equal([]);
        return (r as { record: LedgerRecord }).record;
      };

      it("is registered under its own name, and the derived tables agree with it", function () {
        expect(RECORD_KINDS[rules.kind]).to.equal(rules);
        expect(RECORD_VALIDATORS[rules.kind]).to.be.a("function");
        expect(KIND_NUMBER[rules.kind]).to.equal(rules.number);
        expect(SUM_TREE_KIND_BYTE[rules.kind]).to.equal(rules.number);
        expect(RECORD_COLUMNS[rules.kind]).to.deep.equal(rules.columns);
        expect(OPTIONAL_COLUMNS[rules.kind]).to.deep.equal(rules.optionalColumns);
        expect(SUM_TREE_LANES[rules.kind]).to.deep.equal(rules.sumTreeLanes);
      });

      it("names the common columns, and only its own columns as optional", function () {
        expect(rules.columns).to.include.members([...COMMON_COLUMNS, "foreign_id", "nationality"]);
        expect(rules.columns).to.include.members(rules.optionalColumns);
        expect(new Set(rules.columns).size).to.equal(rules.columns.length);
      });

      it("validates the sample row, and reads every column of the sample row", function () {
        record();
        expect(rules.columns).to.include.members(Object.keys(row!));
      });

      it("refuses the row without each required column, naming that column", function () {
        for (const column of rules.columns) {
          if (rules.optionalColumns.includes(column) || !(column in row!)) continue;
          const r = validateRecord(rules.kind, { ...row!, [column]: "" });
          expect(r.ok, column).to.equal(false);
          if (!r.ok) expect(r.issues.map((i) => i.field)).to.include(column);
        }
      });

      it("commits every field of the record in its leaf (fieldsHash or the tuple)", function () {
        const r = record();
        expect(rules.fieldsValues(r)).to.have.length(rules.fieldsTypes.length);
        const base = JSON.stringify(leafValues(r, { salt: SALT, subject: SUBJECT }), (_, v) =>
          typeof v === "bigint" ? v.toString() : (v as unknown),
        );
        for (const key of Object.keys(r)) {
          if (key === "kind") continue;
          const other = leafValues(changed(r, key), { salt: SALT, subject: SUBJECT });
          expect(
            JSON.stringify(other, (_, v) =>
              typeof v === "bigint" ? v.toString() : (v as unknown),
            ),
            key,
          ).to.not.equal(base);
        }
      });

      it("gives one amount per amount lane of shafaf-tree/2, after records and persons", function () {
        const r = record();
        expect(rules.sumTreeLanes.slice(0, 2)).to.deep.equal(["records", "persons"]);
        const { amounts } = sumTreeRecordFields(r, new Uint8Array(32));
        expect(amounts).to.have.length(rules.sumTreeLanes.length - 2);
      });

      it("round-trips its record through the receipt JSON", function () {
        const r = record();
        const bigints = Object.entries(r).filter(([, v]) => typeof v === "bigint");
        expect(rules.amountFields).to.deep.equal(bigints.map(([k]) => k));
        expect(recordFromJson(recordToJson(r))).to.deep.equal(r);
        expect(recordFromJson({ ...recordToJson(r), extra: "x" })).to.equal(undefined);
      });

      it("has the manifest breakdowns its rules name, and no other", function () {
        const r = record();
        const acc = createBatchAccumulator();
        acc.add(r, SUBJECT);
        const f = acc.figures();
        expect(f.total).to.equal(rules.amount(r));
        const { manifest } = buildManifest({
          kind: rules.kind,
          period: r.period,
          recordCount: f.recordCount,
          total: f.total,
          byProvince: f.byProvince,
          byCategory: f.byCategory,
          timeliness: f.timeliness,
          sources: [],
          rulesVersion: "test",
          leafEncoding: [],
          supersedes: null,
          reason: null,
        });
        expect("byCategory" in manifest).to.equal(rules.category !== undefined);
        expect("timeliness" in manifest).to.equal(rules.onTime !== undefined);
        expect(f.byCategory.size).to.equal(rules.category === undefined ? 0 : 1);
      });
    });
  }
});

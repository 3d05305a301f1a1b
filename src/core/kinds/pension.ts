/**
 * The pension kind (مستمری): one beneficiary's monthly pension payment. Every rule Shafaf has
 * about pensions that is not shared with other kinds lives here.
 */
import { normalizeDigits } from "../digits.ts";
import { ID_RE, maskedAmount, maskTail, shortClear } from "./field-reader.ts";
import type { RecordKindRules } from "./record-kind-rules.ts";

export type PensionCategory = "retirement" | "disability" | "survivors";

/** One beneficiary's monthly pension payment. */
export interface PensionRecord {
  kind: "pension";
  recordId: string;
  period: string;
  /** The person's canonical identifier, as in `PremiumRecord.nationalId`. */
  nationalId: string;
  pensionFile: string;
  category: PensionCategory;
  province: string;
  gross: bigint;
  deductions: bigint;
  net: bigint;
  dueOn: string;
  paidOn: string;
  supersedes?: string;
  reason?: string;
}

export const PENSION_FIELDS_DOMAIN = "shafaf/pension-fields/v1";

/** The category as written in an input (English or Persian, after normalisation). */
const CATEGORIES: Readonly<Record<string, PensionCategory>> = {
  retirement: "retirement",
  disability: "disability",
  survivors: "survivors",
  بازنشستگی: "retirement",
  ازکارافتادگی: "disability",
  "ازکارافتادگی کلی": "disability",
  "از کار افتادگی": "disability",
  "از کار افتادگی کلی": "disability",
  بازماندگان: "survivors",
};

/**
 * Rules: pension file an identifier; category retirement / disability / survivors (or Persian);
 * amounts non-negative integer Rials ≤ uint128; `net = gross − deductions`; due and paid dates
 * exist in the Jalali calendar. On time means paid on or before the due date.
 */
export const PENSION_KIND = {
  kind: "pension",
  number: 1,
  columns: [
    "record_id",
    "period",
    "national_id",
    "pension_file",
    "category",
    "province",
    "gross",
    "deductions",
    "net",
    "due_on",
    "paid_on",
    "supersedes",
    "reason",
    "foreign_id",
    "nationality",
  ],
  optionalColumns: ["supersedes", "reason", "foreign_id", "nationality"],

  validate(read, common) {
    let pensionFile: string | undefined;
    if (read.required("pension_file", "")) {
      const t = normalizeDigits(read.raw("pension_file"));
      if (ID_RE.test(t)) pensionFile = t;
      else
        read.issue(
          "pension_file",
          "identifier.format",
          maskTail(read.raw("pension_file"), 2),
          "pension_file must be 1–64 characters of A–Z, a–z, 0–9 and . _ : / -",
          "check the pension_file column",
        );
    }
    let category: PensionCategory | undefined;
    if (read.required("category", "")) {
      category =
        CATEGORIES[
          read
            .raw("category")
            .toLowerCase()
            .replace(/\u200c/g, "")
            // Arabic yeh and kaf, as Windows and Arabic keyboards write them, are the Persian letters here.
            .replace(/[\u064A\u0649]/g, "\u06CC")
            .replace(/\u0643/g, "\u06A9")
            .replace(/\s+/g, " ")
        ];
      if (category === undefined) {
        read.issue(
          "category",
          "category.unknown",
          shortClear(read.raw("category")),
          "category must be retirement, disability or survivors",
          "write retirement / disability / survivors (or بازنشستگی / ازکارافتادگی / بازماندگان)",
        );
      }
    }
    const gross = read.amount("gross");
    const deductions = read.amount("deductions");
    const net = read.amount("net");
    if (
      gross !== undefined &&
      deductions !== undefined &&
      net !== undefined &&
      net !== gross - deductions
    ) {
      read.issue(
        "net",
        "net.difference",
        maskedAmount(read.raw("net")),
        "net is not gross − deductions",
        "recompute net, or correct gross or deductions",
      );
    }
    const dueOn = read.date("due_on", true);
    const paidOn = read.date("paid_on", true);
    if (
      common === undefined ||
      pensionFile === undefined ||
      category === undefined ||
      gross === undefined ||
      deductions === undefined ||
      net === undefined ||
      dueOn === undefined ||
      paidOn === undefined
    )
      return undefined;
    return {
      kind: "pension",
      recordId: common.recordId,
      period: common.period,
      nationalId: common.nationalId,
      pensionFile,
      category,
      province: common.province,
      gross,
      deductions,
      net,
      dueOn,
      paidOn,
      ...common.tail,
    };
  },

  fieldsDomain: PENSION_FIELDS_DOMAIN,
  fieldsTypes: [
    "string",
    "string",
    "string",
    "string",
    "uint256",
    "uint256",
    "string",
    "string",
    "string",
    "string",
  ],
  fieldsValues: (r) => [
    r.nationalId,
    r.pensionFile,
    r.category,
    r.province,
    r.gross,
    r.deductions,
    r.dueOn,
    r.paidOn,
    r.supersedes ?? "",
    r.reason ?? "",
  ],
  amount: (r) => r.net,

  sumTreeLanes: ["records", "persons", "gross", "deductions", "net", "onTime"],
  sumTreeAmounts: (r) => [r.gross, r.deductions, r.net, paidOnTime(r) ? 1n : 0n],

  fromJson({ json, str, amount }, common, tail) {
    const text = { pensionFile: str("pensionFile"), dueOn: str("dueOn"), paidOn: str("paidOn") };
    const category = json.category;
    const money = ["gross", "deductions", "net"].map(amount);
    if (category !== "retirement" && category !== "disability" && category !== "survivors")
      return undefined;
    if (Object.values(text).some((v) => typeof v !== "string") || money.some((m) => m === null))
      return undefined;
    const [gross, deductions, net] = money as bigint[];
    return {
      kind: "pension",
      ...common,
      pensionFile: text.pensionFile!,
      category,
      gross: gross!,
      deductions: deductions!,
      net: net!,
      dueOn: text.dueOn!,
      paidOn: text.paidOn!,
      ...tail,
    };
  },

  category: (r) => r.category,
  onTime: (r) => paidOnTime(r),
} as const satisfies RecordKindRules<PensionRecord>;

/** Paid on or before the due date. Canonical `YYYY-MM-DD` Jalali dates compare as strings. */
function paidOnTime(r: PensionRecord): boolean {
  return r.paidOn <= r.dueOn;
}

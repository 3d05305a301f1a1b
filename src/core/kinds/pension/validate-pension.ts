/**
 * The pension's input rules: pension file an identifier; category retirement / disability /
 * survivors (or Persian); amounts non-negative integer Rials ≤ uint128; `net = gross −
 * deductions`; due and paid dates exist in the Jalali calendar.
 */
import { normalizeDigits } from "../../digits.ts";
import { ID_RE, maskedAmount, maskTail, shortClear } from "../field-reader.ts";
import type { ValidateKindFields } from "../record-kind-rules.ts";
import type { PensionCategory, PensionRecord } from "./pension.ts";

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
 * Reads and checks a pension row's own columns (after the common ones).
 *
 * @example
 * const record = validatePension(read, common, period, options);
 */
export const validatePension: ValidateKindFields<PensionRecord> = (read, common) => {
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
};

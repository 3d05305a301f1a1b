/**
 * The premium's input rules: workshop code 10 digits; insurance number 8–10 digits; days 0–31;
 * amounts non-negative integer Rials ≤ uint128; shares equal to the rate table's (worker and
 * employer always, unemployment and hazard either 0 or the statutory share); total = Σ shares;
 * `paid_on` optional.
 */
import { normalizeDigits } from "../../digits.ts";
import { periodYear } from "../../period.ts";
import { DEFAULT_RATE_TABLE, premiumShares, ratesForYear } from "../../rates.ts";
import { maskedAmount, maskTail, shortClear, type FieldReader } from "../field-reader.ts";
import type { ValidateKindFields, ValidateRecordOptions } from "../record-kind-rules.ts";
import type { PremiumRecord } from "./premium.ts";

/** An insurance number in a message: its last two digits only. */
const maskInsuranceNo = (s: string): string => maskTail(s, 2);

/** One share column: the rate table's share (or, when `optional`, 0). */
function checkShare(
  read: FieldReader,
  year: number,
  rounding: string,
  name: string,
  got: bigint | undefined,
  want: bigint,
  optional: boolean,
): void {
  if (got === undefined || got === want || (optional && got === 0n)) return;
  read.issue(
    name,
    "share.rate",
    maskedAmount(read.raw(name)),
    `${name} is not ${optional ? "0 or " : ""}the statutory share of wage_base for ${year} (rounding ${rounding})`,
    `recompute ${name} from wage_base with the ${year} rates, or correct wage_base`,
  );
}

/** The share columns must be the rate table's, and `total` their sum. */
function checkShares(
  read: FieldReader,
  period: string | undefined,
  days: number | undefined,
  amounts: {
    wageBase: bigint | undefined;
    workerShare: bigint | undefined;
    employerShare: bigint | undefined;
    unemploymentShare: bigint | undefined;
    hazardShare: bigint | undefined;
    total: bigint | undefined;
  },
  options: ValidateRecordOptions,
): void {
  const { wageBase, workerShare, employerShare, unemploymentShare, hazardShare, total } = amounts;
  const table = options.rates ?? DEFAULT_RATE_TABLE;
  if (wageBase !== undefined && period !== undefined) {
    const year = periodYear(period);
    let rates;
    try {
      rates = ratesForYear(year, table);
    } catch {
      read.issue(
        "period",
        "rates.missing",
        period,
        `the rate table has no rates for ${year}`,
        "add the year to the rate table",
      );
    }
    if (rates !== undefined) {
      const expect = premiumShares(wageBase, year, { unemployment: true, hazardous: true }, table);
      const rounding = table.rounding;
      checkShare(read, year, rounding, "worker_share", workerShare, expect.worker, false);
      checkShare(read, year, rounding, "employer_share", employerShare, expect.employer, false);
      checkShare(
        read,
        year,
        rounding,
        "unemployment_share",
        unemploymentShare,
        expect.unemployment,
        true,
      );
      checkShare(read, year, rounding, "hazard_share", hazardShare, expect.hazard, true);
      if (options.enforceWageLimits === true && days !== undefined) {
        const d = BigInt(days);
        if (
          rates.maxMonthlyWage !== undefined &&
          wageBase * 30n > rates.maxMonthlyWage * d &&
          d > 0n
        ) {
          read.issue(
            "wage_base",
            "wage.max",
            maskedAmount(read.raw("wage_base")),
            `wage_base is above the ${year} maximum insurable wage for ${days} days`,
            "cap the insurable wage or check the rate table",
          );
        }
        if (rates.minMonthlyWage !== undefined && wageBase * 30n < rates.minMonthlyWage * d) {
          read.issue(
            "wage_base",
            "wage.min",
            maskedAmount(read.raw("wage_base")),
            `wage_base is below the ${year} minimum insurable wage for ${days} days`,
            "raise the insurable wage or check the rate table",
          );
        }
      }
    }
  }
  if (
    total !== undefined &&
    workerShare !== undefined &&
    employerShare !== undefined &&
    unemploymentShare !== undefined &&
    hazardShare !== undefined &&
    total !== workerShare + employerShare + unemploymentShare + hazardShare
  ) {
    read.issue(
      "total",
      "total.sum",
      maskedAmount(read.raw("total")),
      "total is not worker_share + employer_share + unemployment_share + hazard_share",
      "recompute total as the sum of the four shares",
    );
  }
}

/**
 * Reads and checks a premium row's own columns (after the common ones).
 *
 * @example
 * const record = validatePremium(read, common, period, options);
 */
export const validatePremium: ValidateKindFields<PremiumRecord> = (
  read,
  common,
  period,
  options,
) => {
  const workshopCode = read.digits("workshop_code", 10, 10, shortClear);
  const insuranceNo = read.digits("insurance_no", 8, 10, maskInsuranceNo);
  let days: number | undefined;
  if (read.required("days", "")) {
    const t = normalizeDigits(read.raw("days"));
    if (/^[0-9]{1,2}$/.test(t) && Number(t) <= 31) days = Number(t);
    else
      read.issue(
        "days",
        "days.range",
        shortClear(read.raw("days")),
        "days must be a whole number 0–31",
        "write the days worked in the month",
      );
  }
  const wageBase = read.amount("wage_base");
  const workerShare = read.amount("worker_share");
  const employerShare = read.amount("employer_share");
  const unemploymentShare = read.amount("unemployment_share");
  const hazardShare = read.amount("hazard_share");
  const total = read.amount("total");
  const paidOn = read.date("paid_on", false);
  const amounts = { wageBase, workerShare, employerShare, unemploymentShare, hazardShare, total };
  checkShares(read, period, days, amounts, options);
  if (
    common === undefined ||
    workshopCode === undefined ||
    insuranceNo === undefined ||
    days === undefined ||
    wageBase === undefined ||
    workerShare === undefined ||
    employerShare === undefined ||
    unemploymentShare === undefined ||
    hazardShare === undefined ||
    total === undefined
  )
    return undefined;
  return {
    kind: "premium",
    recordId: common.recordId,
    period: common.period,
    nationalId: common.nationalId,
    workshopCode,
    insuranceNo,
    province: common.province,
    days,
    wageBase,
    workerShare,
    employerShare,
    unemploymentShare,
    hazardShare,
    total,
    ...(paidOn === undefined ? {} : { paidOn }),
    ...common.tail,
  };
};

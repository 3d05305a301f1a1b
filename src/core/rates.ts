/**
 * Statutory premium rates of Iran's Social Security Organization, per Jalali year, in basis
 * points of the insurable wage base (Social Security Law art. 28; DOMAIN.md):
 * worker 7 %, employer 20 %, government 3 % (paid by the state, not part of a workshop's list),
 * unemployment insurance +3 % employer, hazardous jobs +4 % employer.
 *
 * The minimum and maximum insurable monthly wages change every year and are NOT verified
 * against official circulars: they are configuration (`verified: false`), and validation does
 * not enforce them unless asked to.
 */
export type RoundingRule = "half-up" | "half-even" | "floor" | "ceil";

export interface RateYear {
  /** First Jalali year these rates apply to (until the next row). */
  readonly fromYear: number;
  readonly workerBp: number;
  readonly employerBp: number;
  /** The state's share: recorded for completeness, never part of a premium record's total. */
  readonly governmentBp: number;
  readonly unemploymentBp: number;
  readonly hazardBp: number;
  /** Minimum insurable monthly wage in Rials (30 days), when known. */
  readonly minMonthlyWage?: bigint;
  /** Maximum insurable monthly wage in Rials, when known. */
  readonly maxMonthlyWage?: bigint;
  /** False when the wage limits come from secondary sources and must be checked before use. */
  readonly verified: boolean;
  readonly source: string;
}

export interface RateTable {
  /** Recorded in each batch's manifest as `rulesVersion`, so batches can be recomputed later. */
  readonly version: string;
  /** How a share that is not a whole Rial is rounded. Default `"half-up"`. */
  readonly rounding: RoundingRule;
  /** Rows sorted by `fromYear` ascending. */
  readonly years: readonly RateYear[];
}

const STATUTORY = {
  workerBp: 700,
  employerBp: 2000,
  governmentBp: 300,
  unemploymentBp: 300,
  hazardBp: 400,
} as const;

/**
 * The default table. Percentages: statutory (verified in law). Wage limits: minimum monthly wage
 * of the Supreme Labour Council as reported in the press, maximum = 7 × minimum (SSO practice);
 * both `verified: false`.
 */
export const DEFAULT_RATE_TABLE: RateTable = {
  version: "sso-rates/1 (statutory 7/20/3 + 3 unemployment + 4 hazardous; wage limits unverified)",
  rounding: "half-up",
  years: [
    { fromYear: 1354, ...STATUTORY, verified: false, source: "Social Security Law art. 28" },
    {
      fromYear: 1402,
      ...STATUTORY,
      minMonthlyWage: 53_082_840n,
      maxMonthlyWage: 371_579_880n,
      verified: false,
      source: "press reports of the 1402 minimum wage; max = 7 × min",
    },
    {
      fromYear: 1403,
      ...STATUTORY,
      minMonthlyWage: 71_661_840n,
      maxMonthlyWage: 501_632_880n,
      verified: false,
      source: "press reports of the 1403 minimum wage; max = 7 × min",
    },
    {
      fromYear: 1404,
      ...STATUTORY,
      minMonthlyWage: 103_909_680n,
      maxMonthlyWage: 727_367_760n,
      verified: false,
      source: "press reports of the 1404 minimum wage; max = 7 × min",
    },
  ],
};

/** The rates in force in `jalaliYear`: the last row whose `fromYear` ≤ the year. */
export function ratesForYear(jalaliYear: number, table: RateTable = DEFAULT_RATE_TABLE): RateYear {
  let found: RateYear | undefined;
  for (const row of table.years) if (row.fromYear <= jalaliYear) found = row;
  if (found === undefined) {
    throw new RangeError(
      `no premium rates for Jalali year ${jalaliYear} in table ${table.version}`,
    );
  }
  return found;
}

/** `amount × bp / 10 000`, rounded by `rule`. `amount` ≥ 0. */
export function applyBasisPoints(amount: bigint, bp: number, rule: RoundingRule): bigint {
  if (amount < 0n) throw new RangeError("a wage base cannot be negative");
  const num = amount * BigInt(bp);
  const q = num / 10_000n;
  const r = num % 10_000n;
  if (r === 0n) return q;
  switch (rule) {
    case "floor":
      return q;
    case "ceil":
      return q + 1n;
    case "half-up":
      return r >= 5_000n ? q + 1n : q;
    case "half-even":
      return r > 5_000n || (r === 5_000n && q % 2n === 1n) ? q + 1n : q;
  }
}

export interface PremiumShares {
  worker: bigint;
  employer: bigint;
  unemployment: bigint;
  hazard: bigint;
  /** worker + employer + unemployment + hazard (the government's 3 % is not included). */
  total: bigint;
}

/**
 * The shares a workshop owes for one worker-month, each rounded separately by the table's rule
 * (default half-up to the Rial), and their total.
 *
 * @example
 * premiumShares(100_000_000n, 1403, { unemployment: true, hazardous: false })
 * // { worker: 7_000_000n, employer: 20_000_000n, unemployment: 3_000_000n, hazard: 0n, total: 30_000_000n }
 */
export function premiumShares(
  wageBase: bigint,
  jalaliYear: number,
  opts: { unemployment: boolean; hazardous: boolean },
  table: RateTable = DEFAULT_RATE_TABLE,
): PremiumShares {
  const r = ratesForYear(jalaliYear, table);
  const rule = table.rounding;
  const worker = applyBasisPoints(wageBase, r.workerBp, rule);
  const employer = applyBasisPoints(wageBase, r.employerBp, rule);
  const unemployment = opts.unemployment ? applyBasisPoints(wageBase, r.unemploymentBp, rule) : 0n;
  const hazard = opts.hazardous ? applyBasisPoints(wageBase, r.hazardBp, rule) : 0n;
  return {
    worker,
    employer,
    unemployment,
    hazard,
    total: worker + employer + unemployment + hazard,
  };
}

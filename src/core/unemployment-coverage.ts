import { isIranianNationality } from "./person-id.ts";
import { applyBasisPoints, ratesForYear, DEFAULT_RATE_TABLE, type RateTable } from "./rates.ts";

/**
 * Who the unemployment premium (3 %, employer) covers, decided per worker from what an SSO list
 * holds: job code (DSW_JOB), job title (DSW_OCP) and nationality (DSW_NAT). Sources and the
 * reasoning: `docs/unemployment-coverage.md`. Where the law leaves a case open (board members
 * other than the chairman and the managing director), the rule says "uncertain" and the list's
 * own DSK_BIC decides between the alternatives; nothing is silently assumed.
 */
export interface CoverageRules {
  /** Names the rule set in findings and the manifest, e.g. `sso-unemployment-coverage/1`. */
  readonly version: string;
  /** Job codes (6 digits) whose holders are not covered, with the reason. */
  readonly excludedJobCodes: Readonly<Record<string, CoverageReason>>;
  /** Title words (normalised, see {@link normalizeTitle}) whose holders are not covered. */
  readonly excludedTitles: readonly (readonly [word: string, reason: CoverageReason])[];
  /** Title words of holders whose coverage the law leaves open. */
  readonly uncertainTitles: readonly (readonly [word: string, reason: CoverageReason])[];
  /** Foreign nationals are not covered (Unemployment Insurance Law, art. 1, note 3). */
  readonly excludeForeignNationals: boolean;
}

export type CoverageReason = "foreign-national" | "chairman" | "managing-director" | "board-member";

/** The rules of `docs/unemployment-coverage.md`, version 1. */
export const DEFAULT_COVERAGE_RULES: CoverageRules = {
  version: "sso-unemployment-coverage/1",
  // The SSO job codes seen on real lists for the two offices excluded by the rulings cited in
  // the doc: chairman of the board and managing director.
  excludedJobCodes: { "011015": "chairman", "027079": "managing-director" },
  excludedTitles: [
    ["مدیرعامل", "managing-director"],
    ["رئیسهیئتمدیره", "chairman"],
  ],
  uncertainTitles: [
    ["نایبرئیسهیئتمدیره", "board-member"],
    ["عضوهیئتمدیره", "board-member"],
    ["هیئتمدیره", "board-member"],
  ],
  excludeForeignNationals: true,
};

/**
 * A job title reduced to its letters: no spaces or ZWNJ, Arabic yeh/kaf as Persian, the
 * spellings هیات / هیأت / هيئت as هیئت, رییس as رئیس.
 */
export function normalizeTitle(title: string): string {
  return title
    .replace(/[\s\u200c\u200e\u200f\u0640]/g, "")
    .replace(/[\u064A\u0649]/g, "\u06CC")
    .replace(/\u0643/g, "\u06A9")
    .replace(/هیات|هیأت|هیئت/g, "هیئت")
    .replace(/رییس/g, "رئیس");
}

export interface WorkerCoverageInput {
  jobCode: string;
  jobTitle: string;
  nationality: string;
}

/** One worker's coverage by the rules alone. */
export type WorkerCoverage =
  { coverage: "covered" } | { coverage: "excluded" | "uncertain"; reason: CoverageReason };

/**
 * A worker's unemployment coverage by the rules: `excluded` (foreign national, chairman,
 * managing director), `uncertain` (other board members by title) or `covered`.
 *
 * @example
 * workerCoverage({ jobCode: "027079", jobTitle: "", nationality: "ایرانی" })
 * // { coverage: "excluded", reason: "managing-director" }
 */
export function workerCoverage(
  worker: WorkerCoverageInput,
  rules: CoverageRules = DEFAULT_COVERAGE_RULES,
): WorkerCoverage {
  if (rules.excludeForeignNationals && !isIranianNationality(worker.nationality))
    return { coverage: "excluded", reason: "foreign-national" };
  const byCode = rules.excludedJobCodes[worker.jobCode.trim()];
  if (byCode !== undefined) return { coverage: "excluded", reason: byCode };
  const title = normalizeTitle(worker.jobTitle);
  if (title === "") return { coverage: "covered" };
  for (const [word, reason] of rules.excludedTitles)
    if (title.includes(word)) return { coverage: "excluded", reason };
  for (const [word, reason] of rules.uncertainTitles)
    if (title.includes(word)) return { coverage: "uncertain", reason };
  return { coverage: "covered" };
}

/** Which reading of the list's coverage matched its declared premium. */
export type CoverageAlternative =
  /** The rules: excluded and uncertain workers are not covered. */
  | "rules"
  /** The rules, with the uncertain workers (board members by title) covered. */
  | "rules-with-uncertain"
  /** Every worker covered: the employer paid for workers the rules exclude. */
  | "all"
  /** Nobody covered: DSK_BIC is 0. */
  | "none";

export type ListCoverageResult =
  | {
      ok: true;
      alternative: CoverageAlternative;
      /** Per worker, in input order: covered by the premium the list declares. */
      covered: boolean[];
      /** Per worker: 3 % of the insurable base, rounded per worker; 0 when not covered. */
      shares: bigint[];
    }
  | {
      ok: false;
      /** The alternatives tried, each with how many workers it covers. */
      alternatives: { alternative: CoverageAlternative; workers: number }[];
    };

/**
 * Decides a list's unemployment coverage from its declared premium (DSK_BIC): the first of
 * `rules`, `rules-with-uncertain`, `all`, `none` whose premium — Σ per-worker shares, or the
 * share of the covered base rounded once, either is accepted — equals `declared`.
 *
 * @example
 * decideListCoverage([{ base: 100n, coverage }, …], 6n, 1403)
 */
export function decideListCoverage(
  workers: readonly { base: bigint; coverage: WorkerCoverage["coverage"] }[],
  declared: bigint,
  year: number,
  table: RateTable = DEFAULT_RATE_TABLE,
): ListCoverageResult {
  const bp = ratesForYear(year, table).unemploymentBp;
  const share = workers.map((w) => applyBasisPoints(w.base, bp, table.rounding));
  const candidates: [CoverageAlternative, (c: WorkerCoverage["coverage"]) => boolean][] = [
    ["rules", (c) => c === "covered"],
    ["rules-with-uncertain", (c) => c !== "excluded"],
    ["all", () => true],
    ["none", () => false],
  ];
  const tried: { alternative: CoverageAlternative; workers: number }[] = [];
  const seen = new Set<string>();
  for (const [alternative, test] of candidates) {
    const covered = workers.map((w) => test(w.coverage));
    const key = covered.map((c) => (c ? "1" : "0")).join("");
    if (seen.has(key)) continue;
    seen.add(key);
    let perRow = 0n;
    let base = 0n;
    workers.forEach((w, i) => {
      if (!covered[i]) return;
      perRow += share[i]!;
      base += w.base;
    });
    if (declared === perRow || declared === applyBasisPoints(base, bp, table.rounding)) {
      return {
        ok: true,
        alternative,
        covered,
        shares: share.map((s, i) => (covered[i] ? s : 0n)),
      };
    }
    tried.push({ alternative, workers: covered.filter(Boolean).length });
  }
  return { ok: false, alternatives: tried };
}

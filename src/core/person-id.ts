import { normalizeDigits } from "./digits.ts";
import { checkNationalId, maskNationalId } from "./national-id.ts";

/**
 * Who a record is about. Iranians by their national ID (کد ملی); foreign nationals by their
 * foreign national code (کد فراگیر اتباع) or, when the list carries none, by their insurance
 * number together with their nationality. Spec: `docs/spec/person-id-v1.md`.
 */
export type PersonId =
  | { kind: "national-id"; nationalId: string }
  | { kind: "foreign-code"; code: string }
  | { kind: "insured-foreigner"; insuranceNo: string; nationality: string };

/** Prefixes of the canonical strings of the non-national-ID kinds (a national ID has none). */
export const FOREIGN_CODE_PREFIX = "foreign:";
export const INSURED_FOREIGNER_PREFIX = "insured:";

/** Why an identifier was rejected. Stable strings: they become `RecordIssue.rule` suffixes. */
export type PersonIdProblem =
  | "format"
  | "repdigit"
  | "checksum"
  | "foreign-code.format"
  | "foreign-code.repdigit"
  | "nationality.unknown"
  | "nationality.iranian"
  | "insurance-no.format";

/**
 * Persian names of nationalities as ListDisk's DSW_NAT holds them, and English ones, → ISO 3166-1
 * alpha-3. Three capital letters are taken as an ISO code as they are. Extend here, in one place.
 */
const NATIONALITY_NAMES: Readonly<Record<string, string>> = {
  ایرانی: "IRN",
  ایران: "IRN",
  iranian: "IRN",
  افغانی: "AFG",
  افغان: "AFG",
  افغانستانی: "AFG",
  افغانستان: "AFG",
  afghan: "AFG",
  پاکستانی: "PAK",
  پاکستان: "PAK",
  pakistani: "PAK",
  عراقی: "IRQ",
  عراق: "IRQ",
  iraqi: "IRQ",
  ترک: "TUR",
  ترکیه: "TUR",
  ترکیهای: "TUR",
  turkish: "TUR",
  هندی: "IND",
  هند: "IND",
  indian: "IND",
  بنگلادشی: "BGD",
  بنگلادش: "BGD",
  سوری: "SYR",
  سوریه: "SYR",
  تاجیک: "TJK",
  تاجیکستانی: "TJK",
  آذربایجانی: "AZE",
  ترکمن: "TKM",
  ترکمنستانی: "TKM",
  ازبک: "UZB",
  ازبکستانی: "UZB",
  چینی: "CHN",
  چین: "CHN",
  لبنانی: "LBN",
  یمنی: "YEM",
  ارمنی: "ARM",
  ارمنستانی: "ARM",
  روس: "RUS",
  روسی: "RUS",
};

/** Spelling variants a typist or a code page leaves: ZWNJ, spaces, Arabic yeh and kaf, case. */
function nationalityKey(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/[\u200c\u200f\u200e\s]/g, "")
    .replace(/[\u064A\u0649]/g, "\u06CC")
    .replace(/\u0643/g, "\u06A9");
}

/**
 * The ISO 3166-1 alpha-3 code of a nationality written in a list («ایرانی», «افغانی», "AFG"),
 * or `undefined` when it is not known. Blank is `undefined` too.
 *
 * @example
 * nationalityCode("افغانی") // "AFG"
 * nationalityCode("IRN") // "IRN"
 */
export function nationalityCode(text: string): string | undefined {
  const t = text.trim();
  if (/^[A-Z]{3}$/.test(t)) return t;
  return NATIONALITY_NAMES[nationalityKey(t)];
}

/** True when `text` is blank or names Iran: a list's DSW_NAT of an Iranian worker. */
export function isIranianNationality(text: string): boolean {
  return text.trim() === "" || nationalityCode(text) === "IRN";
}

/**
 * Checks a foreign national code (کد فراگیر اتباع / کد یکتا): 12 digits after digit
 * normalisation, not twelve equal digits. No check digit is published; none is tested.
 */
export function checkForeignCode(
  text: string,
): { ok: true; code: string } | { ok: false; problem: PersonIdProblem } {
  const t = normalizeDigits(text.trim());
  if (!/^[0-9]{12}$/.test(t)) return { ok: false, problem: "foreign-code.format" };
  if (/^(\d)\1{11}$/.test(t)) return { ok: false, problem: "foreign-code.repdigit" };
  return { ok: true, code: t };
}

/**
 * The identifier of one person from a row's fields: `national_id`; else `foreign_id` (the
 * foreign national code); else, for a row with a foreign `nationality` and an `insurance_no`,
 * insurance number + nationality. Returns `undefined` when none of the three is present.
 *
 * @example
 * personIdFromFields({ national_id: "0012345679" }) // { ok: true, id: { kind: "national-id", … } }
 * personIdFromFields({ foreign_id: "", nationality: "افغانی", insurance_no: "12345678" })
 * // { ok: true, id: { kind: "insured-foreigner", insuranceNo: "12345678", nationality: "AFG" } }
 */
export function personIdFromFields(fields: {
  national_id?: string | undefined;
  foreign_id?: string | undefined;
  nationality?: string | undefined;
  insurance_no?: string | undefined;
}):
  { ok: true; id: PersonId } | { ok: false; field: string; problem: PersonIdProblem } | undefined {
  const nid = (fields.national_id ?? "").trim();
  const fid = (fields.foreign_id ?? "").trim();
  const nat = (fields.nationality ?? "").trim();
  if (nid !== "") {
    const r = checkNationalId(nid);
    return r.ok
      ? { ok: true, id: { kind: "national-id", nationalId: r.nationalId } }
      : { ok: false, field: "national_id", problem: r.problem };
  }
  if (fid !== "") {
    const r = checkForeignCode(fid);
    return r.ok
      ? { ok: true, id: { kind: "foreign-code", code: r.code } }
      : { ok: false, field: "foreign_id", problem: r.problem };
  }
  if (nat === "") return undefined;
  const code = nationalityCode(nat);
  if (code === undefined)
    return { ok: false, field: "nationality", problem: "nationality.unknown" };
  if (code === "IRN") return { ok: false, field: "nationality", problem: "nationality.iranian" };
  const ins = normalizeDigits((fields.insurance_no ?? "").trim());
  if (!/^[0-9]{8,10}$/.test(ins))
    return { ok: false, field: "insurance_no", problem: "insurance-no.format" };
  return { ok: true, id: { kind: "insured-foreigner", insuranceNo: ins, nationality: code } };
}

/**
 * The canonical string of a person identifier (spec `person-id-v1`): a national ID is its 10
 * digits, unchanged (so every existing leaf, pseudonym and vector stays byte-identical);
 * `foreign:<12 digits>`; `insured:<8–10 digits>:<ISO alpha-3>`. This string is what a record's
 * `nationalId` field holds, what enters the v1 leaf's fields hash and the subject pseudonym, and
 * the input of a person key.
 *
 * @example
 * personIdString({ kind: "foreign-code", code: "123456789012" }) // "foreign:123456789012"
 */
export function personIdString(id: PersonId): string {
  switch (id.kind) {
    case "national-id":
      return id.nationalId;
    case "foreign-code":
      return FOREIGN_CODE_PREFIX + id.code;
    case "insured-foreigner":
      return `${INSURED_FOREIGNER_PREFIX}${id.insuranceNo}:${id.nationality}`;
  }
}

/**
 * Parses a canonical person identifier string (see {@link personIdString}); `undefined` when it
 * is not one (wrong prefix, bad digits, bad national ID checksum).
 */
export function parsePersonId(text: string): PersonId | undefined {
  if (text.startsWith(FOREIGN_CODE_PREFIX)) {
    const rest = text.slice(FOREIGN_CODE_PREFIX.length);
    const r = checkForeignCode(rest);
    return r.ok && r.code === rest ? { kind: "foreign-code", code: r.code } : undefined;
  }
  if (text.startsWith(INSURED_FOREIGNER_PREFIX)) {
    const m = /^insured:([0-9]{8,10}):([A-Z]{3})$/.exec(text);
    if (m === null || m[2] === "IRN") return undefined;
    return { kind: "insured-foreigner", insuranceNo: m[1]!, nationality: m[2]! };
  }
  const r = checkNationalId(text);
  return r.ok && r.nationalId === text ? { kind: "national-id", nationalId: text } : undefined;
}

/**
 * A person identifier for messages and logs: the national ID masked as today
 * (`0********9`); a foreign code keeps its first and last digit (`foreign:1**********2`);
 * an insurance number keeps its last two digits (`insured:******78:AFG`). Anything that does
 * not parse is masked whole. Never log an unmasked identifier.
 */
export function maskPersonId(text: string): string {
  const id = parsePersonId(text);
  if (id === undefined) {
    if (text.startsWith(FOREIGN_CODE_PREFIX))
      return FOREIGN_CODE_PREFIX + "*".repeat(text.length - FOREIGN_CODE_PREFIX.length);
    if (text.startsWith(INSURED_FOREIGNER_PREFIX)) return INSURED_FOREIGNER_PREFIX + "***";
    return maskNationalId(text);
  }
  switch (id.kind) {
    case "national-id":
      return maskNationalId(id.nationalId);
    case "foreign-code":
      return FOREIGN_CODE_PREFIX + maskNationalId(id.code);
    case "insured-foreigner":
      return `${INSURED_FOREIGNER_PREFIX}${"*".repeat(id.insuranceNo.length - 2)}${id.insuranceNo.slice(-2)}:${id.nationality}`;
  }
}

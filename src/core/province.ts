import { memoText } from "./memo-text.ts";

/** An ISO 3166-2:IR province code, `IR-00` … `IR-30`. */
export type ProvinceCode = `IR-${string}`;

export interface Province {
  readonly code: ProvinceCode;
  readonly fa: string;
  readonly en: string;
}

/** The 31 provinces of Iran with their ISO 3166-2:IR codes (2018 numbering). */
export const PROVINCES: readonly Province[] = [
  { code: "IR-00", fa: "مرکزی", en: "Markazi" },
  { code: "IR-01", fa: "گیلان", en: "Gilan" },
  { code: "IR-02", fa: "مازندران", en: "Mazandaran" },
  { code: "IR-03", fa: "آذربایجان شرقی", en: "East Azerbaijan" },
  { code: "IR-04", fa: "آذربایجان غربی", en: "West Azerbaijan" },
  { code: "IR-05", fa: "کرمانشاه", en: "Kermanshah" },
  { code: "IR-06", fa: "خوزستان", en: "Khuzestan" },
  { code: "IR-07", fa: "فارس", en: "Fars" },
  { code: "IR-08", fa: "کرمان", en: "Kerman" },
  { code: "IR-09", fa: "خراسان رضوی", en: "Razavi Khorasan" },
  { code: "IR-10", fa: "اصفهان", en: "Isfahan" },
  { code: "IR-11", fa: "سیستان و بلوچستان", en: "Sistan and Baluchestan" },
  { code: "IR-12", fa: "کردستان", en: "Kurdistan" },
  { code: "IR-13", fa: "همدان", en: "Hamadan" },
  { code: "IR-14", fa: "چهارمحال و بختیاری", en: "Chaharmahal and Bakhtiari" },
  { code: "IR-15", fa: "لرستان", en: "Lorestan" },
  { code: "IR-16", fa: "ایلام", en: "Ilam" },
  { code: "IR-17", fa: "کهگیلویه و بویراحمد", en: "Kohgiluyeh and Boyer-Ahmad" },
  { code: "IR-18", fa: "بوشهر", en: "Bushehr" },
  { code: "IR-19", fa: "زنجان", en: "Zanjan" },
  { code: "IR-20", fa: "سمنان", en: "Semnan" },
  { code: "IR-21", fa: "یزد", en: "Yazd" },
  { code: "IR-22", fa: "هرمزگان", en: "Hormozgan" },
  { code: "IR-23", fa: "تهران", en: "Tehran" },
  { code: "IR-24", fa: "اردبیل", en: "Ardabil" },
  { code: "IR-25", fa: "قم", en: "Qom" },
  { code: "IR-26", fa: "قزوین", en: "Qazvin" },
  { code: "IR-27", fa: "گلستان", en: "Golestan" },
  { code: "IR-28", fa: "خراسان شمالی", en: "North Khorasan" },
  { code: "IR-29", fa: "خراسان جنوبی", en: "South Khorasan" },
  { code: "IR-30", fa: "البرز", en: "Alborz" },
];

/** Folds Arabic letter variants, ZWNJ, tatweel and spacing so that typed names compare equal. */
function foldName(text: string): string {
  return text
    .normalize("NFC")
    .replace(/[\u064A\u0649]/g, "\u06CC") // Arabic yeh / alef maksura → Persian yeh
    .replace(/\u0643/g, "\u06A9") // Arabic kaf → Persian keheh
    .replace(/[\u0622\u0623\u0625]/g, (c) => (c === "\u0622" ? c : "\u0627"))
    .replace(/\u200C|\u200D|\u0640/g, " ")
    .replace(/^\s*(استان|ostan|province of)\s+/i, "")
    .replace(/\s+province\s*$/i, "")
    .replace(/[\s\-_]+/g, " ")
    .trim()
    .toLowerCase();
}

const byName = new Map<string, ProvinceCode>();
for (const p of PROVINCES) {
  byName.set(foldName(p.fa), p.code);
  byName.set(foldName(p.en), p.code);
}
// Common alternative spellings.
for (const [alt, code] of [
  ["Esfahan", "IR-10"],
  ["Khorasan Razavi", "IR-09"],
  ["Azarbayjan-e Sharqi", "IR-03"],
  ["Azarbayjan-e Gharbi", "IR-04"],
  ["Kordestan", "IR-12"],
  ["Hamedan", "IR-13"],
  ["Kohgiluyeh and Boyer Ahmad", "IR-17"],
  ["Chahar Mahaal and Bakhtiari", "IR-14"],
  ["کهگیلویه و بویر احمد", "IR-17"],
  ["چهار محال و بختیاری", "IR-14"],
] as const) {
  byName.set(foldName(alt), code);
}

/**
 * Resolves a province given as an ISO code (`IR-23`, `ir-23`, `IR23`, Persian digits allowed) or
 * a Persian or English name (`تهران`, `استان تهران`, `Tehran`) to its canonical code, or
 * `undefined` when nothing matches.
 *
 * @example
 * parseProvince("استان تهران") // "IR-23"
 * parseProvince("IR-31") // undefined
 */
export function parseProvince(text: string): ProvinceCode | undefined {
  return parseProvinceMemo(text);
}

const parseProvinceMemo = memoText(parseProvinceText);

function parseProvinceText(text: string): ProvinceCode | undefined {
  const folded = foldName(text);
  const ascii = folded.replace(/[\u06F0-\u06F9]/g, (c) => String(c.charCodeAt(0) - 0x06f0));
  const m = /^ir ?(\d{2})$/.exec(ascii);
  if (m !== null) {
    const n = Number(m[1]);
    return n <= 30 ? `IR-${m[1]}` : undefined;
  }
  return byName.get(folded);
}

/** The province record of a canonical code, or `undefined`. */
export function provinceByCode(code: string): Province | undefined {
  return PROVINCES.find((p) => p.code === code);
}

/**
 * The quarantine report of an anchoring job (`shafaf-quarantine/1`): the employers' lists a
 * batch left out, what is wrong with each, where, and how to fix it — as JSON for the finance
 * office's tools and as one bilingual (Persian and English) text per list that the office can
 * send back to the employer. Values are the validators' masked ones: no national ID, name or
 * personal amount appears. Files are written mode 0600, durably, before the batch's artifact.
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, rename, rm } from "node:fs/promises";
import path from "node:path";
import type { RecordKind } from "../core/record.ts";
import type { QuarantinedList } from "./list-quarantine.ts";
import type { ValidationIssue } from "./issue-collector.ts";

export const QUARANTINE_REPORT_FORMAT = "shafaf-quarantine/1";

export interface QuarantineReportInput {
  jobId: string;
  kind: RecordKind;
  period: string;
  quarantined: readonly QuarantinedList[];
}

/** What a rule means for the employer, in Persian: the problem and how to fix it. */
const PERSIAN: Readonly<Record<string, readonly [problem: string, fix: string]>> = {
  "sso.unemployment-coverage": [
    "حق بیمه بیکاری (DSK_BIC) با سه درصد دستمزد مشمول هیچ‌یک از گروه‌های ممکن بیمه‌شدگان برابر نیست؛ معلوم نیست بیمه بیکاری کدام کارکنان پرداخت شده است.",
    "در برنامه لیست بیمه، حق بیمه بیکاری را سه درصد دستمزد مشمول کارکنان مشمول (به جز اتباع خارجی، رئیس هیئت مدیره و مدیرعامل) حساب کنید و لیست را دوباره بفرستید.",
  ],
  "sso.header-total": [
    "جمع سرجمع لیست (DSKKAR00) با جمع ردیف‌های کارکنان برابر نیست.",
    "لیست را در برنامه لیست بیمه باز کنید، جمع‌ها را دوباره محاسبه و ذخیره کنید.",
  ],
  "sso.header-count": [
    "تعداد کارکنان در سرجمع (DSK_NUM) با تعداد ردیف‌های فایل کارکنان برابر نیست.",
    "ردیف‌های جاافتاده را اضافه کنید یا تعداد را در برنامه لیست بیمه اصلاح کنید.",
  ],
  "sso.worker-share": [
    "سهم بیمه‌شده (DSW_BIME) هفت درصد دستمزد مشمول (DSW_MASH) نیست.",
    "سهم بیمه‌شده این ردیف را در برنامه لیست بیمه دوباره محاسبه کنید.",
  ],
  "sso.insurable-base": [
    "دستمزد مشمول (DSW_MASH) برابر جمع دستمزد ماهانه و مزایای مشمول (DSW_MAH + DSW_MAZ) نیست.",
    "این ردیف را در برنامه لیست بیمه دوباره محاسبه کنید؛ ردیف را بیرون از برنامه ویرایش نکنید.",
  ],
  "sso.duplicate-insurance-no": [
    "شماره بیمه (DSW_ID1) دو بار در یک لیست آمده است.",
    "ردیف تکراری را حذف یا شماره بیمه را اصلاح کنید.",
  ],
  "record-id.duplicate": [
    "این ردیف (کارگاه، ماه، شماره لیست و شماره بیمه) در ورودی‌های این ماه تکراری است.",
    "ردیف یا لیست تکراری را حذف کنید.",
  ],
  "record-id.anchored": [
    "این ردیف پیش‌تر برای همین ماه ثبت شده است.",
    "برای اصلاح، لیست اصلاحی بفرستید.",
  ],
  "national-id.checksum": [
    "کد ملی رقم کنترل درستی ندارد.",
    "کد ملی ده‌رقمی را از روی کارت ملی دوباره وارد کنید.",
  ],
  "national-id.format": ["کد ملی ده رقم نیست.", "کد ملی ده‌رقمی را با صفرهای ابتدایی وارد کنید."],
  "national-id.repdigit": ["کد ملی نامعتبر است.", "کد ملی درست را وارد کنید."],
  required: [
    "یک فیلد لازم خالی است (برای اتباع خارجی: ملیت یا کد فراگیر).",
    "فیلد را پر کنید؛ برای تبعه خارجی ملیت (DSW_NAT) را بنویسید.",
  ],
  "nationality.unknown": ["ملیت (DSW_NAT) شناخته نشد.", "ملیت را به فارسی بنویسید، مثلاً «افغانی»."],
  "sso.province": [
    "استان کارگاه معلوم نیست (در فایل لیست نیست).",
    "این مورد را دفتر مالی با فهرست کارگاه‌ها رفع می‌کند.",
  ],
  "sso.record-count": [
    "فایل کارکنان ناقص است یا با برنامه دیگری ویرایش شده است.",
    "لیست را دوباره از برنامه لیست بیمه خروجی بگیرید.",
  ],
  "period.mismatch": ["ماه لیست با ماه این دوره برابر نیست.", "لیست را برای ماه درست بفرستید."],
};

const FALLBACK: readonly [string, string] = [
  "این لیست اشکالی دارد که در متن انگلیسی زیر آمده است.",
  "لیست را در برنامه لیست بیمه اصلاح کنید و دوباره بفرستید.",
];

function where(i: ValidationIssue): string {
  const file = i.entry === undefined ? i.file : `${i.file}!${i.entry}`;
  return i.line === undefined ? file : `${file}:${i.line}`;
}

/** The bilingual text of one quarantined list, for its employer. */
export function quarantineText(
  q: QuarantinedList,
  header: { kind: RecordKind; period: string },
): string {
  const ws = q.workshops.length > 0 ? q.workshops.join(", ") : "—";
  const lines: string[] = [
    `کارگاه ${ws} — لیست ${header.period} — ثبت نشد`,
    `Workshop ${ws} — list ${header.period} — not anchored`,
    "",
    `این لیست (${q.list}، ${q.rows} ردیف) به دلیل اشکال‌های زیر کنار گذاشته شد. پس از اصلاح، همان ماه را دوباره بفرستید؛ به عنوان لیست تکمیلی همین ماه ثبت می‌شود.`,
    `This list (${q.list}, ${q.rows} row(s)) was left out of the ${header.kind} batch for ${header.period} because of the problems below. Send the corrected list: it will be anchored as a supplement for the same month.`,
    "",
  ];
  q.issues.forEach((i, n) => {
    const [fa, faFix] = PERSIAN[i.rule] ?? FALLBACK;
    lines.push(
      `${n + 1}. ${where(i)}${i.field === "" ? "" : ` — ${i.field}`} [${i.rule}]${i.value === "" ? "" : ` (${i.value})`}`,
      `   اشکال: ${fa}`,
      `   اصلاح: ${faFix}`,
      `   Problem: ${i.message}`,
      `   Fix: ${i.hint}`,
      "",
    );
  });
  if (q.issues.length === 0)
    lines.push(
      "   اشکال در فایل دربرگیرنده (مثلاً zip) است؛ فایل را دوباره بسازید.",
      "   The problem is in the file that holds this list (e.g. its zip); make the file again.",
      "",
    );
  return lines.join("\n");
}

/** A file name for a list label: letters, digits, `.`, `_`, `-`; the rest as `_`. */
function fileNameOf(label: string, used: Set<string>): string {
  const base = label.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^[._]+/, "") || "list";
  let name = `${base.slice(0, 100)}.txt`;
  for (let n = 2; used.has(name); n++) name = `${base.slice(0, 100)}-${n}.txt`;
  used.add(name);
  return name;
}

async function writeFileSynced(file: string, text: string): Promise<void> {
  const fh = await open(file, "wx", 0o600);
  try {
    await fh.writeFile(text, "utf8");
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Writes the report into `dir` (replacing an earlier one of the same job): `quarantine.json`
 * and one `<list>.txt` per quarantined list, every file mode 0600. Returns `dir`.
 *
 * @example
 * await writeQuarantineReport(".shafaf/quarantine/<jobId>", { jobId, kind, period, quarantined });
 */
export async function writeQuarantineReport(
  dir: string,
  input: QuarantineReportInput,
): Promise<string> {
  const parent = path.dirname(dir);
  await mkdir(parent, { recursive: true, mode: 0o700 });
  const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  await mkdir(tmp, { mode: 0o700 });
  const used = new Set<string>(["quarantine.json"]);
  const lists = input.quarantined.map((q) => ({ ...q, text: fileNameOf(q.list, used) }));
  for (const q of lists)
    await writeFileSynced(path.join(tmp, q.text), quarantineText(q, input) + "\n");
  const json = {
    format: QUARANTINE_REPORT_FORMAT,
    jobId: input.jobId,
    kind: input.kind,
    period: input.period,
    lists: lists.map((q) => ({
      list: q.list,
      workshops: q.workshops,
      rows: q.rows,
      text: q.text,
      issues: q.issues,
    })),
  };
  await writeFileSynced(path.join(tmp, "quarantine.json"), JSON.stringify(json, null, 2) + "\n");
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
  return dir;
}

import { normalizeDigits } from "../core/digits.ts";
import { InvalidInputError } from "../core/errors.ts";
import { decodeTextFile, detectTextEncoding } from "./text-source.ts";

/**
 * Reads a workshop → province table for DBF lists (which carry no province): a CSV with the
 * header `workshop_code,province` (`,` `;` or tab), UTF-8 or Windows-1256, province as `IR-xx`
 * or a name core's `parseProvince` accepts. Workshop codes are digit-normalised.
 *
 * @throws InvalidInputError naming the file, line and column of the first problem.
 * @example
 * const provinces = await readWorkshopProvinces("workshops.csv");
 * openInputs(paths, { kind: "premium", provinceOf: (code) => provinces.get(code) });
 */
export async function readWorkshopProvinces(file: string): Promise<Map<string, string>> {
  const detected = await detectTextEncoding(file);
  if (detected.problem !== undefined) {
    throw new InvalidInputError(`${file}: ${detected.problem.message}`, {
      details: "save it as CSV UTF-8",
      code: "ingest.provinces.encoding",
    });
  }
  let text = "";
  for await (const chunk of decodeTextFile(file, detected.encoding)) text += chunk;
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? "").split(/[,;\t]/).map((c) => c.trim().toLowerCase());
  const wi = header.indexOf("workshop_code");
  const pi = header.indexOf("province");
  if (wi === -1 || pi === -1) {
    throw new InvalidInputError(`${file}:1: the header must be workshop_code,province`, {
      field: wi === -1 ? "workshop_code" : "province",
      rule: "provinces.header",
      code: "ingest.provinces.header",
    });
  }
  const out = new Map<string, string>();
  lines.forEach((line, i) => {
    if (i === 0 || line.trim() === "") return;
    const cells = line.split(/[,;\t]/);
    const code = normalizeDigits(cells[wi]?.trim() ?? "");
    const province = cells[pi]?.trim() ?? "";
    if (!/^[0-9]{10}$/.test(code) || province === "") {
      throw new InvalidInputError(
        `${file}:${i + 1}: ${!/^[0-9]{10}$/.test(code) ? "workshop_code must be 10 digits" : "province is empty"}`,
        {
          field: !/^[0-9]{10}$/.test(code) ? "workshop_code" : "province",
          rule: "provinces.row",
          code: "ingest.provinces.row",
        },
      );
    }
    out.set(code, province);
  });
  return out;
}

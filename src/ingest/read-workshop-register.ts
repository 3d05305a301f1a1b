/**
 * The workshop register: a CSV `workshop_code,province` that says where each workshop is. SSO
 * DBF insurance lists carry no province, yet every record needs one (public totals are by
 * province), so the organization supplies its register next to the lists.
 */
import { readFile } from "node:fs/promises";
import { normalizeDigits } from "../core/digits.ts";
import { InvalidInputError } from "../core/errors.ts";
import { parseProvince } from "../core/province.ts";

/**
 * Reads the register into a map workshop code → ISO province code. Every bad line is reported
 * at once (file:line), and a workshop listed twice with two provinces is an error.
 *
 * @example
 * const provinces = await readWorkshopRegister("workshops.csv");
 * provinces.get("1234567890"); // "IR-23"
 */
export async function readWorkshopRegister(file: string): Promise<Map<string, string>> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new InvalidInputError(`the workshop register ${file} cannot be read`, {
      details: "give a CSV file with the header workshop_code,province",
      code: "ingest.workshops.missing",
    });
  }
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const header = lines[0]?.trim().toLowerCase();
  if (header !== "workshop_code,province") {
    throw new InvalidInputError(
      `${file}:1: the workshop register's header must be workshop_code,province`,
      {
        details: `found ${JSON.stringify(lines[0] ?? "")}; one workshop per line follows, e.g. 1234567890,IR-23`,
        field: "header",
        code: "ingest.workshops.header",
      },
    );
  }
  const map = new Map<string, string>();
  const problems: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    const [rawCode = "", rawProvince = "", ...rest] = line.split(",");
    const code = normalizeDigits(rawCode.trim());
    const province = parseProvince(rawProvince.trim());
    if (rest.length > 0) problems.push(`${file}:${i + 1}: more than two columns`);
    else if (!/^\d{10}$/.test(code))
      problems.push(`${file}:${i + 1}: workshop_code must be 10 digits`);
    else if (province === undefined)
      problems.push(
        `${file}:${i + 1}: province ${JSON.stringify(rawProvince.trim())} is not an IR-00 … IR-30 code or province name`,
      );
    else if (map.has(code) && map.get(code) !== province)
      problems.push(`${file}:${i + 1}: workshop ${code} is already listed with ${map.get(code)}`);
    else map.set(code, province);
  }
  if (problems.length > 0) {
    throw new InvalidInputError(`the workshop register has ${problems.length} bad line(s)`, {
      details:
        problems.slice(0, 20).join("\n") +
        (problems.length > 20 ? `\n… and ${problems.length - 20} more` : ""),
      field: "workshops",
      code: "ingest.workshops.line",
    });
  }
  return map;
}

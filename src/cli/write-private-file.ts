import { chmod, writeFile } from "node:fs/promises";

/**
 * Writes `data` to `file` readable by its owner only (mode 0600), also when the file already
 * existed with a wider mode. For reports that name input rows (validation reports): even masked,
 * they say which rows of which employer's list are wrong.
 *
 * @example
 * await writePrivateFile("report.json", JSON.stringify(report));
 */
export async function writePrivateFile(file: string, data: string | Uint8Array): Promise<void> {
  await writeFile(file, data, { mode: 0o600 });
  await chmod(file, 0o600);
}

/**
 * Auditors' published reports, found by their hash: every `*.json` file of one folder (the
 * demo's and `shafaf audit`'s reports, `<data-dir>/audits/`), keyed by the keccak256 of its exact
 * bytes — the value an auditor attests on-chain. Files are re-hashed only when their size or
 * modification time changes.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { keccak256 } from "ethers";

/** Reports larger than this are not read (a batch report is a few hundred kilobytes at most). */
const MAX_REPORT_BYTES = 32 * 1024 * 1024;

export interface AuditReportSource {
  /** The bytes whose keccak256 is `reportHash` (0x-hex, any case), or undefined. */
  read(reportHash: string): Promise<Uint8Array | undefined>;
}

/**
 * @example
 * const reports = createAuditReportFolder(".shafaf/audits");
 * const bytes = await reports.read(attestation.reportHash);
 */
export function createAuditReportFolder(dir: string): AuditReportSource {
  const seen = new Map<string, { size: number; mtimeMs: number; hash: string }>();
  const refresh = async (): Promise<void> => {
    let names: string[];
    try {
      names = (await readdir(dir)).filter((n) => n.endsWith(".json"));
    } catch {
      seen.clear();
      return;
    }
    for (const known of [...seen.keys()]) if (!names.includes(known)) seen.delete(known);
    for (const name of names) {
      const file = path.join(dir, name);
      const info = await stat(file).catch(() => undefined);
      if (info === undefined || !info.isFile() || info.size > MAX_REPORT_BYTES) {
        seen.delete(name);
        continue;
      }
      const before = seen.get(name);
      if (before !== undefined && before.size === info.size && before.mtimeMs === info.mtimeMs)
        continue;
      const bytes = await readFile(file);
      seen.set(name, { size: info.size, mtimeMs: info.mtimeMs, hash: keccak256(bytes) });
    }
  };
  return {
    async read(reportHash) {
      await refresh();
      const wanted = reportHash.toLowerCase();
      for (const [name, entry] of seen) {
        if (entry.hash !== wanted) continue;
        const bytes = await readFile(path.join(dir, name)).catch(() => undefined);
        // The file may have changed since it was hashed: the caller re-checks the hash.
        if (bytes !== undefined) return new Uint8Array(bytes);
      }
      return undefined;
    },
  };
}

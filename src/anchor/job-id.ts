/**
 * The identities of an anchoring job:
 * - `jobId`: sha256 of what the user asked for — the input files' bytes (in the given order), kind,
 *   period, correction and reading options. Running the same command on the same files gives the
 *   same job, which is how a killed run is found and finished.
 * - `idempotencyKey`: `computeIdempotencyKey` in `src/core/idempotency-key.ts`.
 */
import { createHash } from "node:crypto";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { InvalidInputError } from "../core/errors.ts";
import { sha256File } from "../ingest/source-info.ts";
import { canonicalJson } from "../core/manifest.ts";

export interface JobIdInput {
  inputs: readonly string[];
  kind: string;
  period: string;
  supersedes: number | null;
  reason: string | null;
  /** Reading options that change how bytes become records. */
  options: Readonly<Record<string, string | undefined>>;
  /** Side files that change how bytes become records (the workshop register). */
  registers?: readonly string[];
}

async function fingerprint(p: string): Promise<unknown> {
  let info;
  try {
    info = await stat(p);
  } catch {
    throw new InvalidInputError(`input ${p} does not exist`, {
      details:
        "check the path; inputs are CSV, JSON Lines, a DSKKAR00/DSKWOR00 pair folder, or a .zip",
      code: "anchor.input.missing",
    });
  }
  if (info.isDirectory()) {
    const files: { name: string; sha256: string }[] = [];
    const walk = async (dir: string): Promise<void> => {
      const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
        a.name < b.name ? -1 : 1,
      );
      for (const e of entries) {
        const full = path.join(dir, e.name);
        if (e.isDirectory()) await walk(full);
        else if (e.isFile())
          files.push({ name: path.relative(p, full), sha256: await sha256File(full) });
      }
    };
    await walk(p);
    return { dir: files };
  }
  return { sha256: await sha256File(p) };
}

/** The job id (64 hex) of a request. Reads every input file once. */
export async function computeJobId(input: JobIdInput): Promise<string> {
  const inputs = [];
  for (const p of input.inputs) inputs.push(await fingerprint(p));
  const registers = [];
  for (const p of input.registers ?? []) registers.push(await fingerprint(p));
  const text = canonicalJson({
    format: "shafaf-job-input/1",
    kind: input.kind,
    period: input.period,
    supersedes: input.supersedes,
    reason: input.reason,
    options: Object.fromEntries(Object.entries(input.options).filter(([, v]) => v !== undefined)),
    inputs,
    ...(registers.length > 0 ? { registers } : {}),
  });
  return createHash("sha256").update(text).digest("hex");
}

/**
 * Names of the chain's accounts (auditors, the anchorer, validators) as governance publishes
 * them: `shafaf-names/1` (docs/spec/account-names-1.md), one JSON file, read once at start.
 * The ledger contract stores roles, not names, so the names come from this file; an account it
 * does not name is shown as unnamed with its address.
 */
import { readFile } from "node:fs/promises";
import { InvalidInputError } from "../core/errors.ts";

export const ACCOUNT_NAMES_FORMAT = "shafaf-names/1";

export interface AccountName {
  fa: string;
  en: string;
}

/** Lower-case 0x address → its names. */
export type AccountNames = Record<string, AccountName>;

const ADDRESS = /^0x[0-9a-f]{40}$/;

/**
 * Parses a `shafaf-names/1` document; throws InvalidInputError naming the bad member.
 *
 * @example
 * parseAccountNames('{"format":"shafaf-names/1","accounts":{"0x70…c8":{"fa":"دیوان محاسبات","en":"Supreme Audit Court"}}}', "names.json")
 */
export function parseAccountNames(text: string, where: string): AccountNames {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(`${where}: not JSON (${(error as Error).message})`, {
      details: `write a ${ACCOUNT_NAMES_FORMAT} document (docs/spec/account-names-1.md)`,
      code: "names.json",
    });
  }
  const d = (doc ?? {}) as { format?: unknown; accounts?: unknown };
  if (d.format !== ACCOUNT_NAMES_FORMAT)
    throw new InvalidInputError(`${where}: format must be "${ACCOUNT_NAMES_FORMAT}"`, {
      code: "names.format",
    });
  if (typeof d.accounts !== "object" || d.accounts === null || Array.isArray(d.accounts))
    throw new InvalidInputError(`${where}: "accounts" must be an object of address → names`, {
      code: "names.accounts",
    });
  const out: AccountNames = {};
  for (const [address, value] of Object.entries(d.accounts as Record<string, unknown>)) {
    const key = address.toLowerCase();
    const v = (value ?? {}) as Record<string, unknown>;
    const ok = (s: unknown): s is string =>
      typeof s === "string" && s.trim() !== "" && s.length <= 80;
    if (!ADDRESS.test(key) || !ok(v.fa) || !ok(v.en))
      throw new InvalidInputError(
        `${where}: accounts.${address} must be a 0x address with {"fa", "en"} names of 1–80 characters`,
        { code: "names.account" },
      );
    out[key] = { fa: v.fa.trim(), en: v.en.trim() };
  }
  return out;
}

/** Reads `file`, or returns {} when it does not exist. */
export async function readAccountNames(file: string): Promise<AccountNames> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw error;
  }
  return parseAccountNames(text, file);
}

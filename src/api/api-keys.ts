import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { ShafafError } from "../core/errors.ts";

/** The scopes a staff key may hold. */
export const API_KEY_SCOPES = ["anchor", "subjects:read", "persons:key"] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export const API_KEYS_FORMAT = "shafaf-api-keys/1";

/** One entry of the keys file: the key's SHA-256, never the key. */
export interface ApiKeyEntry {
  id: string;
  scopes: ApiKeyScope[];
  sha256: string;
}

/** The keys file (`shafaf serve --api-keys FILE`). */
export interface ApiKeysFile {
  format: typeof API_KEYS_FORMAT;
  keys: ApiKeyEntry[];
}

/**
 * A keys file that cannot be used; the message names the entry and field, never a hash. Not
 * retryable: the operator fixes the file.
 */
export class ApiKeysFileError extends ShafafError {
  override name = "ApiKeysFileError";
  constructor(where: string, message: string) {
    super(`${where}: ${message}`, { code: "api.keys-file" });
  }
}

/** What {@link parseApiKeysFile} throws. */
export type ParseApiKeysFileErrorType = ApiKeysFileError;

const ID = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const SHA256 = /^[0-9a-f]{64}$/;
const TOKEN_PREFIX = "shafaf_sk_";

/** Hex SHA-256 of a presented key (UTF-8). */
export function hashApiKey(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/**
 * Parses and checks a keys file's text. Throws `ApiKeysFileError` naming `source`, the entry
 * index and the field, e.g. `keys.json: keys[2].scopes[0]: unknown scope "anchr" …`.
 */
export function parseApiKeysFile(text: string, source = "api keys file"): ApiKeyEntry[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new ApiKeysFileError(source, `not JSON (${(error as Error).message})`);
  }
  const d = doc as Partial<ApiKeysFile> | null;
  if (
    d === null ||
    typeof d !== "object" ||
    d.format !== API_KEYS_FORMAT ||
    !Array.isArray(d.keys)
  ) {
    throw new ApiKeysFileError(
      source,
      `expected {"format": "${API_KEYS_FORMAT}", "keys": [{ "id", "scopes", "sha256" }]}`,
    );
  }
  const ids = new Set<string>();
  return d.keys.map((raw: unknown, i) => {
    const where = `${source}: keys[${i}]`;
    const e = raw as Partial<ApiKeyEntry> | null;
    if (e === null || typeof e !== "object") throw new ApiKeysFileError(where, "must be an object");
    const extra = Object.keys(e).filter((k) => !["id", "scopes", "sha256"].includes(k));
    if (extra.length > 0) throw new ApiKeysFileError(where, `unknown field(s) ${extra.join(", ")}`);
    if (typeof e.id !== "string" || !ID.test(e.id)) {
      throw new ApiKeysFileError(`${where}.id`, "1–63 characters of a-z 0-9 . _ - (lower case)");
    }
    if (ids.has(e.id)) throw new ApiKeysFileError(`${where}.id`, `duplicate id "${e.id}"`);
    ids.add(e.id);
    if (!Array.isArray(e.scopes) || e.scopes.length === 0) {
      throw new ApiKeysFileError(
        `${where}.scopes`,
        `a non-empty list of ${API_KEY_SCOPES.join(", ")}`,
      );
    }
    e.scopes.forEach((s: unknown, j) => {
      if (!API_KEY_SCOPES.includes(s as ApiKeyScope)) {
        throw new ApiKeysFileError(
          `${where}.scopes[${j}]`,
          `unknown scope ${JSON.stringify(s)}; use ${API_KEY_SCOPES.join(" or ")}`,
        );
      }
    });
    if (typeof e.sha256 !== "string" || !SHA256.test(e.sha256)) {
      throw new ApiKeysFileError(
        `${where}.sha256`,
        "64 lower-case hex digits: the SHA-256 of the key, never the key itself",
      );
    }
    return { id: e.id, scopes: [...e.scopes], sha256: e.sha256 };
  });
}

/**
 * A new random key (256 bits) and its keys-file entry. Show `token` once to whoever will use it;
 * store only `entry`.
 *
 * @example
 * const { token, entry } = createApiKey("payroll", ["anchor"]);
 */
export function createApiKey(
  id: string,
  scopes: readonly ApiKeyScope[],
): { token: string; entry: ApiKeyEntry } {
  const token = TOKEN_PREFIX + randomBytes(32).toString("base64url");
  const entry = { id, scopes: [...scopes], sha256: hashApiKey(token) };
  parseApiKeysFile(JSON.stringify({ format: API_KEYS_FORMAT, keys: [entry] }), "new key");
  return { token, entry };
}

/**
 * Finds the entry whose hash matches `token`. Compares the presented key's hash with every entry
 * in constant time (no early exit, fixed-length digests), so timing reveals neither which entry
 * nor how much of a hash matched.
 */
export function findApiKey(
  entries: readonly ApiKeyEntry[],
  token: string,
): ApiKeyEntry | undefined {
  const presented = createHash("sha256").update(token, "utf8").digest();
  let found: ApiKeyEntry | undefined;
  for (const entry of entries) {
    const same = timingSafeEqual(presented, Buffer.from(entry.sha256, "hex"));
    if (same && found === undefined) found = entry;
  }
  return found;
}

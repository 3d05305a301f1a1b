import { getAddress, isAddress } from "ethers";
import { InvalidInputError } from "../core/errors.ts";
import { nodeIdentity, type NodeIdentity } from "./node-key.ts";

/** Version tag of the institutions file. */
export const INSTITUTIONS_FORMAT = "shafaf-institutions/1";

export type AccountRole = "anchorer" | "auditor" | "governance";
export const ACCOUNT_ROLES: readonly AccountRole[] = ["anchorer", "auditor", "governance"];

/** One institution's validator node: its PUBLIC key and where its peers reach it. */
export interface ValidatorSpec {
  /** Undefined only before `--generate` fills in a throwaway trial key. */
  readonly identity: NodeIdentity | undefined;
  /** IPv4 address peers dial (the enode host; Besu needs an IP unless DNS support is enabled). */
  readonly host: string;
  readonly p2pPort: number;
  readonly rpcPort: number;
  /** Interface the JSON-RPC server binds (`rpc-http-host`). */
  readonly rpcHost: string;
  /** `host-allowlist`: Host headers the JSON-RPC server accepts. */
  readonly rpcAllowlist: readonly string[];
}

export interface Institution {
  /** Slug used for folder, service and file names: `[a-z][a-z0-9-]{0,31}`. */
  readonly id: string;
  readonly name: string;
  readonly validator: ValidatorSpec | undefined;
  /** Checksummed addresses per role; private keys stay with their owners. */
  readonly accounts: Readonly<Record<AccountRole, readonly string[]>>;
}

export interface InstitutionsFile {
  readonly format: typeof INSTITUTIONS_FORMAT;
  readonly institutions: readonly Institution[];
}

export interface ParseInstitutionsOptions {
  /** When true a validator may omit `publicKey` (a throwaway key is generated later). */
  allowMissingKeys?: boolean;
}

const ID = /^[a-z][a-z0-9-]{0,31}$/;
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;
const KNOWN = {
  top: ["format", "institutions"],
  institution: ["id", "name", "validator", "accounts"],
  validator: ["publicKey", "host", "p2pPort", "rpcPort", "rpcHost", "rpcAllowlist"],
};

/**
 * Parses and checks an institutions file (`shafaf-institutions/1`, documented in docs/runbook.md).
 * Every problem is collected; the thrown error lists them all as `file: json.path: message`.
 *
 * @example
 * const { institutions } = parseInstitutions(await readFile(path, "utf8"), path);
 * @throws InvalidInputError
 */
export function parseInstitutions(
  text: string,
  file: string,
  options: ParseInstitutionsOptions = {},
): InstitutionsFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(`${file}: not valid JSON`, {
      field: file,
      code: "network.institutions.json",
      details: `${(error as Error).message}; fix the syntax (a trailing comma or a missing quote is the usual cause)`,
    });
  }
  const issues: string[] = [];
  const issue = (path: string, message: string): void =>
    void issues.push(`${file}: ${path}: ${message}`);
  const institutions: Institution[] = [];
  if (!isObject(json)) {
    issue("$", "expected an object { format, institutions }");
  } else {
    unknownKeys(json, KNOWN.top, "$", issue);
    if (json.format !== INSTITUTIONS_FORMAT) issue("format", `must be "${INSTITUTIONS_FORMAT}"`);
    if (!Array.isArray(json.institutions) || json.institutions.length === 0) {
      issue("institutions", "must be a non-empty array");
    } else {
      json.institutions.forEach((raw: unknown, i) => {
        const inst = parseInstitution(raw, `institutions[${i}]`, issue, options);
        if (inst !== undefined) institutions.push(inst);
      });
      crossChecks(institutions, issue);
    }
  }
  if (issues.length > 0) {
    throw new InvalidInputError(`${file}: ${issues.length} problem(s) in the institutions file`, {
      field: file,
      code: "network.institutions.invalid",
      details: issues.join("\n"),
    });
  }
  return { format: INSTITUTIONS_FORMAT, institutions };
}

type Issue = (path: string, message: string) => void;

function parseInstitution(
  raw: unknown,
  path: string,
  issue: Issue,
  options: ParseInstitutionsOptions,
): Institution | undefined {
  if (!isObject(raw)) {
    issue(path, "expected an object { id, name, validator?, accounts }");
    return undefined;
  }
  unknownKeys(raw, KNOWN.institution, path, issue);
  const id = typeof raw.id === "string" ? raw.id : "";
  if (!ID.test(id))
    issue(`${path}.id`, "must match [a-z][a-z0-9-]{0,31} (it names folders and services)");
  const name = typeof raw.name === "string" ? raw.name.trim() : "";
  if (
    name === "" ||
    name.length > 120 ||
    [...name].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)
  ) {
    issue(`${path}.name`, "must be a non-empty single-line string of at most 120 characters");
  } else if (BIDI_CONTROLS.test(name)) {
    // Names are copied into config comments and READMEs; explicit bidi controls could make them display misleadingly.
    issue(
      `${path}.name`,
      "must not contain bidirectional control characters (U+202A–U+202E, U+2066–U+2069); Persian text needs none",
    );
  }
  let validator: ValidatorSpec | undefined;
  if (raw.validator !== undefined)
    validator = parseValidator(raw.validator, `${path}.validator`, issue, options);
  const accounts = { anchorer: [], auditor: [], governance: [] } as Record<AccountRole, string[]>;
  if (raw.accounts !== undefined && !isObject(raw.accounts)) {
    issue(`${path}.accounts`, "must be an object { anchorer: [], auditor: [], governance: [] }");
  } else if (isObject(raw.accounts)) {
    unknownKeys(raw.accounts, ACCOUNT_ROLES, `${path}.accounts`, issue);
    for (const role of ACCOUNT_ROLES) {
      const list = raw.accounts[role];
      if (list === undefined) continue;
      if (!Array.isArray(list)) {
        issue(`${path}.accounts.${role}`, "must be an array of addresses");
        continue;
      }
      list.forEach((a: unknown, j) => {
        const where = `${path}.accounts.${role}[${j}]`;
        if (typeof a !== "string" || !isAddress(a)) {
          issue(
            where,
            "is not an address (0x + 40 hex digits; mixed case must be a valid EIP-55 checksum)",
          );
          return;
        }
        const address = getAddress(a);
        if (accounts[role].includes(address)) issue(where, `duplicate ${role} address ${address}`);
        else accounts[role].push(address);
      });
    }
  }
  return { id, name, validator, accounts };
}

function parseValidator(
  raw: unknown,
  path: string,
  issue: Issue,
  options: ParseInstitutionsOptions,
): ValidatorSpec | undefined {
  if (!isObject(raw)) {
    issue(path, "expected an object { publicKey, host, p2pPort, rpcPort }");
    return undefined;
  }
  unknownKeys(raw, KNOWN.validator, path, issue);
  let identity: NodeIdentity | undefined;
  if (raw.publicKey === undefined) {
    if (options.allowMissingKeys !== true) {
      issue(
        `${path}.publicKey`,
        "is missing: run `besu public-key export --node-private-key-file=<key>` on the validator and paste the output (or use --generate for a throwaway local trial)",
      );
    }
  } else if (typeof raw.publicKey !== "string") {
    issue(`${path}.publicKey`, "must be a string");
  } else {
    try {
      identity = nodeIdentity(raw.publicKey, `${path}.publicKey`);
    } catch (error) {
      issue(
        `${path}.publicKey`,
        (error as InvalidInputError).shortMessage.replace(`${path}.publicKey `, ""),
      );
    }
  }
  const host = typeof raw.host === "string" ? raw.host : "";
  if (!IPV4.test(host)) {
    issue(
      `${path}.host`,
      "must be the IPv4 address peers dial (enode URLs need an IP; Besu resolves names only with --Xdns-enabled)",
    );
  }
  const p2pPort = port(raw.p2pPort, 30303, `${path}.p2pPort`, issue);
  const rpcPort = port(raw.rpcPort, 8545, `${path}.rpcPort`, issue);
  let rpcHost = "0.0.0.0";
  if (raw.rpcHost !== undefined) {
    if (typeof raw.rpcHost === "string" && (IPV4.test(raw.rpcHost) || raw.rpcHost === "localhost"))
      rpcHost = raw.rpcHost;
    else issue(`${path}.rpcHost`, "must be an IPv4 interface address (or localhost)");
  }
  let rpcAllowlist: string[] = ["localhost", "127.0.0.1"];
  if (raw.rpcAllowlist !== undefined) {
    if (
      Array.isArray(raw.rpcAllowlist) &&
      raw.rpcAllowlist.every((h) => typeof h === "string" && (h === "*" || HOSTNAME.test(h)))
    ) {
      rpcAllowlist = raw.rpcAllowlist as string[];
    } else {
      issue(
        `${path}.rpcAllowlist`,
        'must be an array of host names or IP addresses ("*" allows any Host header)',
      );
    }
  }
  return { identity, host, p2pPort, rpcPort, rpcHost, rpcAllowlist };
}

function port(value: unknown, fallback: number, path: string, issue: Issue): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 65535) {
    issue(path, "must be an integer port in 1..65535");
    return fallback;
  }
  return value;
}

function crossChecks(institutions: readonly Institution[], issue: Issue): void {
  const seen = new Map<string, string>();
  institutions.forEach((inst, i) => {
    const once = (key: string, what: string, path: string): void => {
      const first = seen.get(key);
      if (first !== undefined) issue(path, `${what} is also used by ${first}`);
      else seen.set(key, `institutions[${i}]`);
    };
    if (inst.id !== "") once(`id:${inst.id}`, `id "${inst.id}"`, `institutions[${i}].id`);
    const v = inst.validator;
    if (v !== undefined) {
      once(
        `p2p:${v.host}:${v.p2pPort}`,
        `p2p endpoint ${v.host}:${v.p2pPort}`,
        `institutions[${i}].validator.p2pPort`,
      );
      if (v.identity !== undefined) {
        once(`key:${v.identity.publicKey}`, "publicKey", `institutions[${i}].validator.publicKey`);
      }
    }
  });
  if (!institutions.some((inst) => inst.validator !== undefined)) {
    issue(
      "institutions",
      "no institution has a validator; a QBFT network needs at least one (four to tolerate one fault)",
    );
  }
}

function unknownKeys(
  obj: Record<string, unknown>,
  known: readonly string[],
  path: string,
  issue: Issue,
): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key)) issue(`${path}.${key}`, `unknown field (known: ${known.join(", ")})`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

import { readFile, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { SigningKey, getAddress, isAddress, isHexString } from "ethers";
import { SHARED_FILES } from "./build-network.ts";
import { checkQbftGenesis } from "./genesis.ts";
import { parseEnodeUrl, type ParsedEnode } from "./node-key.ts";
import { parseToml, type TomlDocument, type TomlValue } from "./toml.ts";

export interface NetworkFinding {
  readonly level: "error" | "warning";
  /** Path relative to the network folder. */
  readonly file: string;
  /** 1-based line, when known. */
  readonly line?: number;
  /** JSON path or TOML key. */
  readonly field?: string;
  readonly message: string;
}

export interface NetworkCheck {
  readonly findings: readonly NetworkFinding[];
  readonly ok: boolean;
  readonly validators: readonly string[];
  readonly nodes: readonly string[];
}

/** The JSON-RPC namespaces Shafaf needs on a validator (the indexer reads `qbft_getValidatorsByBlockNumber`). */
const REQUIRED_APIS = ["ETH", "NET", "QBFT", "WEB3"];
/** Namespaces that let whoever reaches the port change the node or read its secrets. */
const RISKY_APIS = ["ADMIN", "DEBUG", "PERM", "MINER", "TXPOOL", "PLUGINS", "TRACE"];

/**
 * Re-validates a network folder written by `network init` (and edited since): the genesis against
 * Besu's QBFT rules; genesis validators ↔ static nodes ↔ nodes allowlist; every node folder carrying
 * byte-identical shared files; each node's config (free gas, permissioning on, the RPC APIs Shafaf
 * needs, its own enode listed); trial keys matching their enodes. Never throws on bad content.
 *
 * @example
 * const { ok, findings } = await checkNetwork("network/");
 */
export async function checkNetwork(dir: string): Promise<NetworkCheck> {
  const findings: NetworkFinding[] = [];
  const add = (
    level: NetworkFinding["level"],
    file: string,
    message: string,
    extra: { line?: number; field?: string } = {},
  ): void => void findings.push({ level, file, message, ...extra });
  const text = async (rel: string): Promise<string | undefined> => {
    try {
      return await readFile(path.join(dir, rel), "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") add("error", rel, "is missing");
      else add("error", rel, `cannot be read (${(error as Error).message})`);
      return undefined;
    }
  };

  // genesis.json
  let validators: readonly string[] = [];
  const genesisText = await text("genesis.json");
  if (genesisText !== undefined) {
    const genesis = parseJson(genesisText, "genesis.json", add);
    if (genesis !== undefined) {
      const summary = checkQbftGenesis(genesis);
      validators = summary.validators;
      for (const f of summary.findings) add(f.level, "genesis.json", f.message, { field: f.path });
    }
  }

  // static-nodes.json
  const staticNodes: ParsedEnode[] = [];
  const staticText = await text("static-nodes.json");
  if (staticText !== undefined) {
    const list = parseJson(staticText, "static-nodes.json", add);
    if (list !== undefined) {
      if (!Array.isArray(list))
        add("error", "static-nodes.json", "must be a JSON array of enode URLs");
      else {
        list.forEach((entry: unknown, i) => {
          const field = `[${i}]`;
          if (typeof entry !== "string")
            return add("error", "static-nodes.json", "is not a string", { field });
          try {
            staticNodes.push(parseEnodeUrl(entry, field));
          } catch (error) {
            add("error", "static-nodes.json", shortMessage(error), { field });
          }
        });
        duplicates(staticNodes, "static-nodes.json", add);
      }
    }
  }

  // permissions_config.toml
  const allowedNodes: ParsedEnode[] = [];
  const permText = await text("permissions_config.toml");
  if (permText !== undefined) {
    const doc = parseTomlSafe(permText, "permissions_config.toml", add);
    if (doc !== undefined) {
      const nodes = stringArray(doc, "nodes-allowlist", "permissions_config.toml", add);
      nodes?.forEach((entry, i) => {
        try {
          allowedNodes.push(parseEnodeUrl(entry, `nodes-allowlist[${i}]`));
        } catch (error) {
          add("error", "permissions_config.toml", shortMessage(error), {
            field: `nodes-allowlist[${i}]`,
            line: doc.lines.get("nodes-allowlist")!,
          });
        }
      });
      duplicates(allowedNodes, "permissions_config.toml", add);
      const accounts = stringArray(doc, "accounts-allowlist", "permissions_config.toml", add);
      if (accounts !== undefined) {
        const line = doc.lines.get("accounts-allowlist")!;
        if (accounts.length === 0) {
          add(
            "error",
            "permissions_config.toml",
            "accounts-allowlist is empty: with account permissioning on, no account can send a transaction or deploy the contract",
            { field: "accounts-allowlist", line },
          );
        }
        const seen = new Set<string>();
        accounts.forEach((a, i) => {
          if (!isHexString(a, 20) || !isAddress(a)) {
            add("error", "permissions_config.toml", `"${a}" is not a 20-byte 0x-hex address`, {
              field: `accounts-allowlist[${i}]`,
              line,
            });
          } else if (seen.has(getAddress(a))) {
            add("warning", "permissions_config.toml", `${getAddress(a)} is listed twice`, {
              field: `accounts-allowlist[${i}]`,
              line,
            });
          } else seen.add(getAddress(a));
        });
      }
    }
  }

  // genesis validators ↔ static nodes ↔ nodes allowlist
  const key = (e: ParsedEnode): string => `${e.identity.enodeId}@${e.host}:${e.port}`;
  const allowed = new Set(allowedNodes.map(key));
  const staticAddresses = new Set(staticNodes.map((e) => e.identity.address));
  if (staticText !== undefined && genesisText !== undefined) {
    for (const v of validators) {
      if (!staticAddresses.has(v)) {
        add(
          "error",
          "static-nodes.json",
          `genesis validator ${v} has no enode here, so no node dials it`,
          { field: v },
        );
      }
    }
    for (const e of staticNodes) {
      if (!validators.includes(e.identity.address)) {
        add(
          "warning",
          "static-nodes.json",
          `${e.identity.address} (${e.host}:${e.port}) is not a genesis validator (fine for a validator added by vote or an RPC node)`,
        );
      }
    }
  }
  if (permText !== undefined && staticText !== undefined) {
    for (const e of staticNodes) {
      if (!allowed.has(key(e))) {
        add(
          "error",
          "permissions_config.toml",
          `static node ${e.identity.address} at ${e.host}:${e.port} is not on nodes-allowlist, so peers refuse its connection`,
          { field: "nodes-allowlist" },
        );
      }
    }
    const staticKeys = new Set(staticNodes.map(key));
    for (const e of allowedNodes) {
      if (!staticKeys.has(key(e))) {
        add(
          "warning",
          "permissions_config.toml",
          `nodes-allowlist entry ${e.identity.address} at ${e.host}:${e.port} is not a static node, so no node dials it`,
          { field: "nodes-allowlist" },
        );
      }
    }
  }

  // nodes/<id>/
  const nodes = await listNodeDirs(dir);
  if (nodes.length === 0) add("error", "nodes/", "has no node folder (nodes/<id>/config.toml)");
  const shared = new Map<string, string | undefined>([
    ["genesis.json", genesisText],
    ["static-nodes.json", staticText],
    ["permissions_config.toml", permText],
  ]);
  const nodeAddresses = new Map<string, string>();
  for (const id of nodes) {
    const rel = (name: string): string => `nodes/${id}/${name}`;
    for (const name of SHARED_FILES) {
      const copy = await text(rel(name));
      const original = shared.get(name);
      if (copy !== undefined && original !== undefined && copy !== original) {
        add(
          "error",
          rel(name),
          `differs from the top-level ${name}; every node MUST carry the same file (copy it again)`,
        );
      }
    }
    const configText = await text(rel("config.toml"));
    if (configText === undefined) continue;
    const config = parseTomlSafe(configText, rel("config.toml"), add);
    if (config === undefined) continue;
    const own = checkNodeConfig(config, rel("config.toml"), staticNodes, add);
    if (own !== undefined) {
      nodeAddresses.set(id, own.identity.address);
      const keyText = await readOptional(path.join(dir, rel("key")));
      if (keyText !== undefined) {
        const derived = publicKeyOf(keyText.trim());
        if (derived === undefined) add("error", rel("key"), "is not a 32-byte 0x-hex private key");
        else if (derived !== own.identity.publicKey) {
          add(
            "error",
            rel("key"),
            `belongs to another node: its public key is not the enode of ${own.host}:${own.port}`,
          );
        }
      }
    }
  }
  const withFolder = new Set(nodeAddresses.values());
  for (const v of validators) {
    if (!withFolder.has(v))
      add("warning", "nodes/", `genesis validator ${v} has no node folder here`);
  }

  // docker-compose.yml (optional)
  const compose = await readOptional(path.join(dir, "docker-compose.yml"));
  if (compose !== undefined) {
    for (const id of nodes) {
      if (!compose.includes(`./nodes/${id}:`))
        add("warning", "docker-compose.yml", `has no service mounting nodes/${id}`);
    }
  }

  findings.sort((a, b) =>
    a.file < b.file ? -1 : a.file > b.file ? 1 : (a.line ?? 0) - (b.line ?? 0),
  );
  return { findings, ok: !findings.some((f) => f.level === "error"), validators, nodes };
}

/** One finding as a line of text: `file:line: field: message`. */
export function formatFinding(f: NetworkFinding): string {
  return `${f.level}: ${f.file}${f.line === undefined ? "" : `:${f.line}`}: ${f.field === undefined ? "" : `${f.field}: `}${f.message}`;
}

type Add = (
  level: NetworkFinding["level"],
  file: string,
  message: string,
  extra?: { line?: number; field?: string },
) => void;

function checkNodeConfig(
  doc: TomlDocument,
  file: string,
  staticNodes: readonly ParsedEnode[],
  add: Add,
): ParsedEnode | undefined {
  const get = (k: string): TomlValue | undefined => doc.values.get(k);
  const at = (k: string): { field: string; line?: number } => {
    const line = doc.lines.get(k);
    return line === undefined ? { field: k } : { field: k, line };
  };
  const expect = (k: string, wanted: TomlValue, why: string): void => {
    if (get(k) !== wanted) add("error", file, `must be ${JSON.stringify(wanted)}: ${why}`, at(k));
  };
  expect(
    "min-gas-price",
    0,
    "free gas needs min-gas-price=0 on every node, or zero-price transactions are silently dropped",
  );
  expect("permissions-nodes-config-file-enabled", true, "node allowlisting must be on");
  expect("permissions-accounts-config-file-enabled", true, "account allowlisting must be on");
  expect("rpc-http-enabled", true, "Shafaf talks to the node over HTTP JSON-RPC");
  for (const [k, base] of [
    ["genesis-file", "genesis.json"],
    ["static-nodes-file", "static-nodes.json"],
    ["permissions-nodes-config-file", "permissions_config.toml"],
    ["permissions-accounts-config-file", "permissions_config.toml"],
  ] as const) {
    const v = get(k);
    if (typeof v !== "string")
      add("error", file, `is required (path of this folder's ${base})`, at(k));
    else if (path.posix.basename(v) !== base)
      add(
        "error",
        file,
        `must point at ${base} (the file shipped in this folder), not ${v}`,
        at(k),
      );
  }
  if (typeof get("data-path") !== "string") add("error", file, "is required", at("data-path"));
  if (get("discovery-enabled") !== false)
    add(
      "warning",
      file,
      "discovery is on; a permissioned network of static nodes runs with discovery-enabled=false",
      at("discovery-enabled"),
    );
  const apis = get("rpc-http-api");
  if (!isStringArray(apis))
    add("error", file, `must list ${REQUIRED_APIS.join(", ")}`, at("rpc-http-api"));
  else {
    const upper = apis.map((a) => a.toUpperCase());
    const missing = REQUIRED_APIS.filter((a) => !upper.includes(a));
    if (missing.length > 0)
      add(
        "error",
        file,
        `lacks ${missing.join(", ")} (the indexer needs QBFT for qbft_getValidatorsByBlockNumber)`,
        at("rpc-http-api"),
      );
    const risky = upper.filter((a) => RISKY_APIS.includes(a));
    if (risky.length > 0)
      add(
        "warning",
        file,
        `exposes ${risky.join(", ")}; enable them only on an authenticated, private endpoint`,
        at("rpc-http-api"),
      );
  }
  const host = get("p2p-host");
  const port = get("p2p-port");
  if (typeof host !== "string") {
    add("error", file, "is required (the address in this node's enode)", at("p2p-host"));
    return undefined;
  }
  if (typeof port !== "number") {
    add("error", file, "is required (the port in this node's enode)", at("p2p-port"));
    return undefined;
  }
  const own = staticNodes.find((e) => e.host === host && e.port === port);
  if (own === undefined) {
    add(
      "error",
      file,
      `this node (${host}:${port}) is not in static-nodes.json; peers will not dial it and, with node permissioning, will refuse it`,
      at("p2p-port"),
    );
  }
  return own;
}

async function listNodeDirs(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(path.join(dir, "nodes"));
    const out: string[] = [];
    for (const e of entries.sort()) {
      if ((await stat(path.join(dir, "nodes", e))).isDirectory()) out.push(e);
    }
    return out;
  } catch {
    return [];
  }
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch {
    return undefined;
  }
}

function publicKeyOf(privateKey: string): string | undefined {
  const hex = privateKey.startsWith("0x") ? privateKey : "0x" + privateKey;
  if (!isHexString(hex, 32)) return undefined;
  try {
    return "0x" + new SigningKey(hex).publicKey.slice(4);
  } catch {
    return undefined;
  }
}

function duplicates(list: readonly ParsedEnode[], file: string, add: Add): void {
  const seen = new Set<string>();
  for (const e of list) {
    if (seen.has(e.identity.enodeId))
      add("error", file, `node ${e.identity.address} is listed twice`);
    seen.add(e.identity.enodeId);
  }
}

function parseJson(text: string, file: string, add: Add): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    add("error", file, `is not valid JSON (${(error as Error).message})`);
    return undefined;
  }
}

function parseTomlSafe(text: string, file: string, add: Add): TomlDocument | undefined {
  try {
    return parseToml(text, file);
  } catch (error) {
    add("error", file, shortMessage(error).replace(`${file}:`, "line "));
    return undefined;
  }
}

function stringArray(
  doc: TomlDocument,
  k: string,
  file: string,
  add: Add,
): readonly string[] | undefined {
  const v = doc.values.get(k);
  if (v === undefined) {
    add("error", file, "is missing", { field: k });
    return undefined;
  }
  if (!Array.isArray(v)) {
    add("error", file, "must be an array of strings", { field: k, line: doc.lines.get(k)! });
    return undefined;
  }
  return v as readonly string[];
}

function isStringArray(value: TomlValue | undefined): value is readonly string[] {
  return Array.isArray(value);
}

function shortMessage(error: unknown): string {
  return (error as { shortMessage?: string }).shortMessage ?? (error as Error).message;
}

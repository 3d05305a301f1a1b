import { SigningKey, encryptKeystoreJsonSync, hexlify } from "ethers";
import { InvalidInputError } from "../core/errors.ts";
import { buildQbftGenesis, sortAddresses } from "./genesis.ts";
import {
  ACCOUNT_ROLES,
  type AccountRole,
  type Institution,
  type InstitutionsFile,
} from "./institutions.ts";
import { enodeUrl, nodeIdentity, type NodeIdentity } from "./node-key.ts";
import { formatToml } from "./toml.ts";

/** Version tag of `network.json`, the record of what `network init` generated. */
export const NETWORK_FORMAT = "shafaf-network/1";

/** Paths inside each node's configuration folder (`nodes/<id>/` is mounted or copied there). */
export const NODE_PATHS = {
  configDir: "/etc/besu",
  dataPath: "/var/lib/besu",
  besuBinary: "/opt/besu/bin/besu",
} as const;

/** Files every node folder carries that MUST be byte-identical across nodes and to the top-level copy. */
export const SHARED_FILES = [
  "genesis.json",
  "static-nodes.json",
  "permissions_config.toml",
] as const;

export const TRIAL_WARNING_FILE = "TRIAL-KEYS-DO-NOT-USE-IN-PRODUCTION.txt";

/**
 * Password of the throwaway trial account keystores (`trial-keys/<id>-<role>.json`). Printed in the
 * warning file on purpose: these keys protect nothing. Use with SHAFAF_KEYSTORE_PASSWORD.
 */
export const TRIAL_KEYSTORE_PASSWORD = "shafaf-trial-only";

/** Default Besu container image for the trial compose file (not verified on this machine: no Docker engine). */
export const DEFAULT_BESU_IMAGE = "hyperledger/besu:25.7.0";

export interface NetworkOptions {
  /** The number of validators the operator expects; must equal the institutions with a validator. */
  validators: number;
  chainId: number;
  blockPeriodSeconds: number;
  epochLength: number;
  requestTimeoutSeconds: number;
  besuImage?: string;
  /** When set, every listed account gets this balance (wei) in the genesis alloc. */
  fundWei?: bigint;
}

export interface NetworkValidator {
  readonly institution: string;
  readonly name: string;
  readonly address: string;
  readonly enode: string;
  readonly p2pPort: number;
  readonly rpcPort: number;
}

export interface BuiltNetwork {
  /** Relative path → file content, in a stable order. */
  readonly files: ReadonlyMap<string, string>;
  readonly validators: readonly NetworkValidator[];
  /** Why no docker-compose.yml was written, when it was not. */
  readonly composeSkipped: string | undefined;
}

/**
 * Builds every file of a Besu QBFT network from the institutions' PUBLIC keys. Pure and deterministic:
 * the same institutions and options give byte-identical files (golden-tested).
 *
 * @example
 * const { files } = buildNetwork(parseInstitutions(text, path), { validators: 4, chainId: 1403, blockPeriodSeconds: 2, epochLength: 30000, requestTimeoutSeconds: 4 });
 * @throws InvalidInputError when options or the validator count are wrong, or a validator has no key.
 */
export function buildNetwork(file: InstitutionsFile, options: NetworkOptions): BuiltNetwork {
  checkOptions(options);
  const members = file.institutions.filter(
    (i): i is Institution & { validator: NonNullable<Institution["validator"]> } =>
      i.validator !== undefined,
  );
  if (members.length !== options.validators) {
    throw new InvalidInputError(
      `--validators ${options.validators} does not match the ${members.length} institution(s) with a validator`,
      {
        field: "--validators",
        code: "network.init.validator-count",
        details: `institutions with a validator: ${members.map((m) => m.id).join(", ")}; fix the count or the institutions file`,
      },
    );
  }
  const validators: NetworkValidator[] = members.map((m) => {
    const identity = m.validator.identity;
    if (identity === undefined) {
      throw new InvalidInputError(`institution ${m.id} has no validator publicKey`, {
        field: `${m.id}.validator.publicKey`,
        code: "network.init.missing-key",
        details:
          "paste the output of `besu public-key export`, or pass --generate for a throwaway local trial",
      });
    }
    return {
      institution: m.id,
      name: m.name,
      address: identity.address,
      enode: enodeUrl(identity, m.validator.host, m.validator.p2pPort),
      p2pPort: m.validator.p2pPort,
      rpcPort: m.validator.rpcPort,
    };
  });
  const accounts = collectAccounts(file.institutions);
  const alloc = new Map<string, bigint>();
  if (options.fundWei !== undefined) for (const a of accounts.all) alloc.set(a, options.fundWei);
  const genesis = buildQbftGenesis({
    chainId: options.chainId,
    blockPeriodSeconds: options.blockPeriodSeconds,
    epochLength: options.epochLength,
    requestTimeoutSeconds: options.requestTimeoutSeconds,
    validators: validators.map((v) => v.address),
    alloc,
  });
  const enodes = validators.map((v) => v.enode);
  const shared: Record<(typeof SHARED_FILES)[number], string> = {
    "genesis.json": JSON.stringify(genesis, null, 2) + "\n",
    "static-nodes.json": JSON.stringify(enodes, null, 2) + "\n",
    "permissions_config.toml": formatToml(
      [
        ["accounts-allowlist", accounts.all.map((a) => a.toLowerCase())],
        ["nodes-allowlist", enodes],
      ],
      [
        "Besu local permissioning — generated by `shafaf network init`.",
        "MUST be identical on every node (`shafaf network check` verifies it).",
        "accounts-allowlist: the only accounts whose transactions (including contract deployments) nodes accept.",
        "nodes-allowlist: the only peers nodes talk to.",
      ],
    ),
  };
  const files = new Map<string, string>();
  files.set("README.md", readme(file, validators, options));
  files.set("network.json", networkRecord(validators, accounts.byRole, options));
  for (const name of SHARED_FILES) files.set(name, shared[name]);
  for (const m of members) {
    files.set(`nodes/${m.id}/config.toml`, nodeConfig(m));
    for (const name of SHARED_FILES) files.set(`nodes/${m.id}/${name}`, shared[name]);
  }
  for (const m of members) files.set(`systemd/besu-${m.id}.service`, systemdUnit(m));
  const compose = composeFile(members, options.besuImage ?? DEFAULT_BESU_IMAGE);
  if (compose.ok) files.set("docker-compose.yml", compose.text);
  return {
    files: sortFiles(files),
    validators,
    composeSkipped: compose.ok ? undefined : compose.reason,
  };
}

export interface TrialKeys {
  readonly file: InstitutionsFile;
  /** Relative path → private key file content (0x-hex, as Besu's `key` file). */
  readonly keyFiles: ReadonlyMap<string, string>;
}

/**
 * `--generate`: gives every validator without a public key a throwaway node key, and every institution
 * a throwaway account for each role it lists none for. The private keys are returned as files for
 * the out dir, next to a loud warning. For a local trial ONLY.
 *
 * @param randomKey returns 32 random bytes (injected so tests are deterministic).
 */
export function generateTrialKeys(file: InstitutionsFile, randomKey: () => Uint8Array): TrialKeys {
  const keyFiles = new Map<string, string>();
  const generated: string[] = [];
  const institutions = file.institutions.map((inst): Institution => {
    let validator = inst.validator;
    if (validator !== undefined && validator.identity === undefined) {
      const key = new SigningKey(hexlify(randomKey()));
      const identity: NodeIdentity = nodeIdentity("0x" + key.publicKey.slice(4));
      // Besu's key file format: 0x + 64 hex digits (what KeyPairUtil stores), no trailing newline.
      keyFiles.set(`nodes/${inst.id}/key`, key.privateKey);
      generated.push(
        `nodes/${inst.id}/key — node key of ${inst.id} (validator ${identity.address})`,
      );
      validator = { ...validator, identity };
    }
    const accounts = { ...inst.accounts };
    for (const role of ACCOUNT_ROLES) {
      if (accounts[role].length > 0) continue;
      const key = new SigningKey(hexlify(randomKey()));
      const wallet = nodeIdentity("0x" + key.publicKey.slice(4)).address;
      accounts[role] = [wallet];
      // A light scrypt cost (N = 2^12): the password is public anyway; the format is what `--keystore` reads.
      const json = encryptKeystoreJsonSync(
        { address: wallet, privateKey: key.privateKey },
        TRIAL_KEYSTORE_PASSWORD,
        {
          scrypt: { N: 1 << 12 },
          salt: randomKey(),
          iv: randomKey().slice(0, 16),
        },
      );
      keyFiles.set(`trial-keys/${inst.id}-${role}.json`, json + "\n");
      generated.push(
        `trial-keys/${inst.id}-${role}.json — ${role} account of ${inst.id} (${wallet})`,
      );
    }
    return { ...inst, validator, accounts };
  });
  if (generated.length > 0) {
    keyFiles.set(
      TRIAL_WARNING_FILE,
      [
        "WARNING: THROWAWAY KEYS FOR A LOCAL TRIAL ONLY. NEVER USE THIS NETWORK FOR REAL RECORDS.",
        "",
        "`shafaf network init --generate` wrote the private keys below into this folder (node keys unencrypted).",
        "In production every institution generates its own node key on its own validator",
        "(`besu --node-private-key-file=/etc/besu/key public-key export`) and sends only the PUBLIC key;",
        "account keys are made with `shafaf keys new` and never leave their institution. Delete this folder after the trial.",
        "",
        `The account keystores in trial-keys/ are encrypted with the PUBLIC password "${TRIAL_KEYSTORE_PASSWORD}":`,
        `  SHAFAF_KEYSTORE_PASSWORD=${TRIAL_KEYSTORE_PASSWORD} shafaf deploy --rpc http://127.0.0.1:8545 --keystore trial-keys/sso-governance.json …`,
        "",
        ...generated.map((g) => `- ${g}`),
        "",
      ].join("\n"),
    );
  }
  return { file: { format: file.format, institutions }, keyFiles: sortFiles(keyFiles) };
}

function checkOptions(o: NetworkOptions): void {
  const positive = (value: number, flag: string, max: number): void => {
    if (!Number.isSafeInteger(value) || value < 1 || value > max) {
      throw new InvalidInputError(`${flag} must be an integer in 1..${max}, got ${value}`, {
        field: flag,
        code: "network.init.option",
      });
    }
  };
  positive(o.validators, "--validators", 64);
  positive(o.chainId, "--chain-id", 2 ** 32 - 1);
  positive(o.blockPeriodSeconds, "--block-period", 3600);
  positive(o.epochLength, "--epoch", 1_000_000_000);
  positive(o.requestTimeoutSeconds, "--request-timeout", 3600);
  if (o.chainId === 1 || o.chainId === 31337) {
    throw new InvalidInputError(
      `--chain-id ${o.chainId} belongs to another network (1 is Ethereum, 31337 the local dev chain)`,
      {
        field: "--chain-id",
        code: "network.init.chain-id",
        details: "choose an unused chain id for the institutions' network, e.g. 1403",
      },
    );
  }
  if (o.besuImage !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$/.test(o.besuImage)) {
    throw new InvalidInputError("--besu-image is not a container image reference", {
      field: "--besu-image",
      code: "network.init.option",
      details: "expected something like hyperledger/besu:25.7.0 or registry.example/besu@sha256:…",
    });
  }
  if (o.fundWei !== undefined && o.fundWei < 0n) {
    throw new InvalidInputError("--fund must be a non-negative wei amount", {
      field: "--fund",
      code: "network.init.option",
    });
  }
}

function collectAccounts(institutions: readonly Institution[]): {
  all: string[];
  byRole: Record<AccountRole, { institution: string; address: string }[]>;
} {
  const byRole = { anchorer: [], auditor: [], governance: [] } as Record<
    AccountRole,
    { institution: string; address: string }[]
  >;
  const all = new Set<string>();
  for (const inst of institutions) {
    for (const role of ACCOUNT_ROLES) {
      for (const address of inst.accounts[role]) {
        byRole[role].push({ institution: inst.id, address });
        all.add(address);
      }
    }
  }
  return { all: sortAddresses([...all]), byRole };
}

type Member = Institution & { validator: NonNullable<Institution["validator"]> };

/** Besu `--config-file` for one validator. Option names are Besu's command-line options without `--`. */
function nodeConfig(m: Member): string {
  const v = m.validator;
  const dir = NODE_PATHS.configDir;
  return formatToml(
    [
      ["data-path", NODE_PATHS.dataPath],
      ["genesis-file", `${dir}/genesis.json`],
      ["node-private-key-file", `${dir}/key`],
      ["p2p-host", v.host],
      ["p2p-interface", "0.0.0.0"],
      ["p2p-port", v.p2pPort],
      ["discovery-enabled", false],
      ["static-nodes-file", `${dir}/static-nodes.json`],
      ["permissions-nodes-config-file-enabled", true],
      ["permissions-nodes-config-file", `${dir}/permissions_config.toml`],
      ["permissions-accounts-config-file-enabled", true],
      ["permissions-accounts-config-file", `${dir}/permissions_config.toml`],
      ["rpc-http-enabled", true],
      ["rpc-http-host", v.rpcHost],
      ["rpc-http-port", v.rpcPort],
      ["rpc-http-api", ["ETH", "NET", "QBFT", "WEB3"]],
      ["host-allowlist", v.rpcAllowlist],
      ["min-gas-price", 0],
      ["sync-mode", "FULL"],
      ["metrics-enabled", true],
      ["metrics-host", "127.0.0.1"],
      ["metrics-port", 9545],
    ],
    [
      `Besu QBFT validator of ${m.name} (${m.id}) — generated by \`shafaf network init\`.`,
      `Start: besu --config-file=${dir}/config.toml   (the node key goes to ${dir}/key, mode 0400, never leaves this host)`,
      "The JSON-RPC port exposes QBFT voting: keep it on a private interface reachable only by this institution's services.",
    ],
  );
}

function systemdUnit(m: Member): string {
  return [
    `# systemd unit for the Besu QBFT validator of ${m.name} (${m.id}) — generated by \`shafaf network init\`.`,
    `# Install: copy nodes/${m.id}/* to ${NODE_PATHS.configDir}/, put the node key in ${NODE_PATHS.configDir}/key,`,
    `# then: cp besu-${m.id}.service /etc/systemd/system/ && systemctl daemon-reload && systemctl enable --now besu-${m.id}`,
    "[Unit]",
    `Description=Hyperledger Besu QBFT validator (${m.id})`,
    "After=network-online.target",
    "Wants=network-online.target",
    "",
    "[Service]",
    "Type=simple",
    "User=besu",
    "Group=besu",
    "Environment=BESU_OPTS=-Xmx4g",
    `ExecStart=${NODE_PATHS.besuBinary} --config-file=${NODE_PATHS.configDir}/config.toml`,
    "Restart=on-failure",
    "RestartSec=10",
    "TimeoutStopSec=120",
    "LimitNOFILE=65536",
    "NoNewPrivileges=true",
    "ProtectSystem=strict",
    "ProtectHome=true",
    "PrivateTmp=true",
    `ReadWritePaths=${NODE_PATHS.dataPath}`,
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

type Compose = { ok: true; text: string } | { ok: false; reason: string };

/**
 * A one-host trial: every validator a container with the IPv4 address of its enode, on one bridge
 * network. Only possible when every validator host is in one /24 (the subnet Docker must create).
 */
function composeFile(members: readonly Member[], image: string): Compose {
  const hosts = members.map((m) => m.validator.host);
  const prefixes = new Set(hosts.map((h) => h.split(".").slice(0, 3).join(".")));
  if (prefixes.size !== 1) {
    return {
      ok: false,
      reason:
        "validator hosts are not in one /24 network, so they cannot share one Docker bridge network (a one-host trial needs hosts like 172.16.239.11-14)",
    };
  }
  const bad = hosts.filter((h) => ["0", "1", "255"].includes(h.split(".")[3]!));
  if (bad.length > 0)
    return {
      ok: false,
      reason: `host(s) ${bad.join(", ")} are the network, gateway or broadcast address of the Docker subnet`,
    };
  const prefix = [...prefixes][0]!;
  const rpcPorts = members.map((m) => m.validator.rpcPort);
  const unique = new Set(rpcPorts).size === rpcPorts.length;
  const lines = [
    "# One-host TRIAL of the QBFT network — generated by `shafaf network init`. Not for production:",
    "# in production each institution runs its own validator on its own host (see systemd/).",
    "# Before `docker compose up -d`, put each node's key in nodes/<id>/key (`--generate` does this for a trial).",
    "name: shafaf-qbft",
    "services:",
  ];
  members.forEach((m, i) => {
    const hostPort = unique ? m.validator.rpcPort : 8545 + i;
    lines.push(
      `  ${m.id}:`,
      `    image: ${image}`,
      `    command: ["--config-file=${NODE_PATHS.configDir}/config.toml"]`,
      "    # trial only: root avoids uid mismatches on the bind-mounted key and the data volume",
      '    user: "root"',
      "    volumes:",
      `      - ./nodes/${m.id}:${NODE_PATHS.configDir}:ro`,
      `      - ${m.id}-data:${NODE_PATHS.dataPath}`,
      "    ports:",
      `      - "127.0.0.1:${hostPort}:${m.validator.rpcPort}"`,
      "    networks:",
      "      qbft:",
      `        ipv4_address: ${m.validator.host}`,
      "    restart: unless-stopped",
    );
  });
  lines.push(
    "networks:",
    "  qbft:",
    "    ipam:",
    "      config:",
    `        - subnet: ${prefix}.0/24`,
    "volumes:",
  );
  for (const m of members) lines.push(`  ${m.id}-data: {}`);
  return { ok: true, text: lines.join("\n") + "\n" };
}

function networkRecord(
  validators: readonly NetworkValidator[],
  accounts: Record<AccountRole, { institution: string; address: string }[]>,
  o: NetworkOptions,
): string {
  return (
    JSON.stringify(
      {
        format: NETWORK_FORMAT,
        consensus: "qbft",
        validatorSelection: "block-header",
        chainId: o.chainId,
        blockPeriodSeconds: o.blockPeriodSeconds,
        epochLength: o.epochLength,
        requestTimeoutSeconds: o.requestTimeoutSeconds,
        quorum: Math.ceil((2 * validators.length) / 3),
        validators: validators.map((v) => ({
          institution: v.institution,
          address: v.address,
          enode: v.enode,
          rpcPort: v.rpcPort,
        })),
        accounts,
      },
      null,
      2,
    ) + "\n"
  );
}

function readme(
  file: InstitutionsFile,
  validators: readonly NetworkValidator[],
  o: NetworkOptions,
): string {
  const quorum = Math.ceil((2 * validators.length) / 3);
  const rows = validators.map(
    (v) =>
      `| ${v.institution} | ${v.name} | \`${v.address}\` | \`${v.enode.replace(/^enode:\/\/(.{8}).*@/, "enode://$1…@")}\` |`,
  );
  const accountCount = new Set(
    file.institutions.flatMap((i) => ACCOUNT_ROLES.flatMap((r) => i.accounts[r])),
  ).size;
  return [
    "# Shafaf QBFT network",
    "",
    "Generated by `shafaf network init`. Hyperledger Besu, QBFT consensus, block-header validator voting,",
    `chain id ${o.chainId}, one block every ${o.blockPeriodSeconds} s, epoch ${o.epochLength} blocks, round timeout ${o.requestTimeoutSeconds} s, free gas.`,
    `${validators.length} validator(s): every block needs ⌈2n/3⌉ = ${quorum} commit seals, so the chain keeps producing blocks with up to ${validators.length - quorum} validator(s) offline and stops (without forking) beyond that.`,
    "",
    "| institution | name | validator address | enode |",
    "|---|---|---|---|",
    ...rows,
    "",
    `${accountCount} account(s) are on the accounts allowlist (only they can send transactions or deploy contracts).`,
    "",
    "## Files",
    "",
    "- `genesis.json` — the genesis; `extraData` is the RLP of the validator list. Never changes after launch.",
    "- `static-nodes.json`, `permissions_config.toml` — peers, node allowlist and account allowlist. Identical on every node.",
    "- `nodes/<id>/` — everything one institution copies to `/etc/besu/` on its validator (plus its own `key`).",
    "- `systemd/besu-<id>.service` — the service unit for a validator host.",
    "- `docker-compose.yml` — a one-host trial (when the hosts allow it).",
    "- `network.json` — what was generated (`shafaf-network/1`).",
    "",
    "## Bring it up",
    "",
    "1. Each institution: copy `nodes/<id>/*` to `/etc/besu/`, place its node key at `/etc/besu/key` (mode 0400, owner besu).",
    "2. Install the unit from `systemd/` and start it: `systemctl enable --now besu-<id>`.",
    '3. Check: `curl -s -X POST -H \'content-type: application/json\' --data \'{"jsonrpc":"2.0","id":1,"method":"qbft_getValidatorsByBlockNumber","params":["latest"]}\' http://<rpcHost>:<rpcPort>` (the trial maps every node to `http://127.0.0.1:<rpcPort>`)',
    "4. After any edit, run `shafaf network check <this folder>` before copying files to the nodes.",
    "",
    "The full runbook (adding and removing validators, allowlisting, key rotation, backup, failures) is `docs/runbook.md` in the Shafaf repository.",
    "",
  ].join("\n");
}

function sortFiles(files: Map<string, string>): Map<string, string> {
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

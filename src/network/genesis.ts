import { getAddress, isHexString } from "ethers";
import { decodeQbftExtraData, genesisExtraData } from "./qbft-extra-data.ts";

/**
 * `mixHash` of every IBFT 2.0 / QBFT block, the ASCII text "ctical byzantine fault tolerance": Besu's
 * `BftHelpers.EXPECTED_MIX_HASH`, required by its BFT header rules (besu-docs configure/consensus/qbft.md).
 */
export const BFT_MIX_HASH = "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365";

/**
 * Block-numbered milestones before the Merge, in fork order, then the timestamp milestones. All are
 * activated at genesis (0) so that Besu runs the EVM the contracts are compiled for (`cancun`,
 * hardhat.config.ts `EVM_VERSION`).
 */
export const BLOCK_MILESTONES = [
  "homesteadBlock",
  "eip150Block",
  "eip155Block",
  "eip158Block",
  "byzantiumBlock",
  "constantinopleBlock",
  "petersburgBlock",
  "istanbulBlock",
  "berlinBlock",
  "londonBlock",
] as const;
export const TIME_MILESTONES = ["shanghaiTime", "cancunTime"] as const;
/** Later time milestones Besu knows; accepted by the checker, never written (the contracts target cancun). */
const LATER_TIME_MILESTONES = ["pragueTime", "osakaTime", "futureEipsTime", "experimentalEipsTime"];
const OTHER_BLOCK_MILESTONES = [
  "muirGlacierBlock",
  "arrowGlacierBlock",
  "grayGlacierBlock",
  "daoForkBlock",
  "eip150Hash",
  "daoForkSupport",
  "constantinopleFixBlock",
];

/** Keys Besu accepts inside `config.qbft` (besu-docs qbft.md; genesis-items.md). Compared case-insensitively. */
const QBFT_KEYS = [
  "blockperiodseconds",
  "epochlength",
  "requesttimeoutseconds",
  "emptyblockperiodseconds",
  "blockreward",
  "miningbeneficiary",
  "validatorcontractaddress",
  "messagequeuelimit",
  "duplicatemessagelimit",
  "futuremessageslimit",
  "futuremessagesmaxdistance",
  "gossipedhistorylimit",
  "startblock",
];
const CONFIG_KEYS = [
  "chainid",
  ...[
    ...BLOCK_MILESTONES,
    ...TIME_MILESTONES,
    ...LATER_TIME_MILESTONES,
    ...OTHER_BLOCK_MILESTONES,
  ].map((k) => k.toLowerCase()),
  "ethash",
  "clique",
  "ibft2",
  "qbft",
  "transitions",
  "contractsizelimit",
  "evmstacksize",
  "eccurve",
  "discovery",
  "zerobasefee",
  "fixedbasefee",
  "blobschedule",
  "mergenetsplitblock",
  "terminaltotaldifficulty",
  "terminalblocknumber",
  "terminalblockhash",
  "depositcontractaddress",
  "withdrawalrequestcontractaddress",
  "consolidationrequestcontractaddress",
  "isquorum",
  "qip714block",
];
const TOP_KEYS = [
  "config",
  "nonce",
  "timestamp",
  "extradata",
  "gaslimit",
  "difficulty",
  "mixhash",
  "coinbase",
  "alloc",
  "number",
  "gasused",
  "parenthash",
  "basefeepergas",
  "excessblobgas",
  "blobgasused",
  "parentbeaconblockroot",
];

export interface QbftGenesisOptions {
  chainId: number;
  blockPeriodSeconds: number;
  epochLength: number;
  requestTimeoutSeconds: number;
  /** Genesis validator addresses; written in ascending order, as Besu's documentation asks. */
  validators: readonly string[];
  /** Accounts given a starting balance (wei, decimal or bigint) — optional on a free-gas network. */
  alloc?: ReadonlyMap<string, bigint>;
  /** Block gas limit (default 30,000,000). */
  gasLimit?: bigint;
}

/** Default block gas limit: 30 M gas, Ethereum mainnet's figure; a batch anchor uses well under 1 %. */
export const DEFAULT_GAS_LIMIT = 30_000_000n;

/**
 * Builds a Besu QBFT genesis (block-header validator selection, free gas: `zeroBaseFee` and
 * `min-gas-price=0` on every node).
 *
 * @example
 * const genesis = buildQbftGenesis({ chainId: 1403, blockPeriodSeconds: 2, epochLength: 30000, requestTimeoutSeconds: 4, validators });
 */
export function buildQbftGenesis(options: QbftGenesisOptions): Record<string, unknown> {
  const validators = sortAddresses(options.validators);
  const config: Record<string, unknown> = { chainId: options.chainId };
  for (const m of BLOCK_MILESTONES) config[m] = 0;
  for (const m of TIME_MILESTONES) config[m] = 0;
  config.zeroBaseFee = true;
  config.qbft = {
    blockperiodseconds: options.blockPeriodSeconds,
    epochlength: options.epochLength,
    requesttimeoutseconds: options.requestTimeoutSeconds,
  };
  const alloc: Record<string, { balance: string }> = {};
  for (const [address, wei] of [...(options.alloc ?? new Map<string, bigint>())].sort(([a], [b]) =>
    a.toLowerCase().localeCompare(b.toLowerCase()),
  )) {
    alloc[address.toLowerCase().slice(2)] = { balance: "0x" + wei.toString(16) };
  }
  return {
    config,
    nonce: "0x0",
    timestamp: "0x0",
    extraData: genesisExtraData(validators),
    gasLimit: "0x" + (options.gasLimit ?? DEFAULT_GAS_LIMIT).toString(16),
    difficulty: "0x1",
    mixHash: BFT_MIX_HASH,
    coinbase: "0x0000000000000000000000000000000000000000",
    alloc,
    number: "0x0",
    gasUsed: "0x0",
    parentHash: "0x" + "00".repeat(32),
  };
}

/** Addresses in ascending numeric order (checksummed). */
export function sortAddresses(addresses: readonly string[]): string[] {
  return addresses
    .map((a) => getAddress(a))
    .sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
}

export interface GenesisFinding {
  readonly level: "error" | "warning";
  /** JSON path inside genesis.json, e.g. `config.qbft.epochlength`. */
  readonly path: string;
  readonly message: string;
}

export interface GenesisSummary {
  readonly findings: readonly GenesisFinding[];
  /** Genesis validators from extraData (empty when it does not decode). */
  readonly validators: readonly string[];
  readonly chainId: number | undefined;
}

/**
 * Checks a parsed genesis against the rules Besu documents for a QBFT network and against what
 * Shafaf needs (cancun EVM at genesis, free gas). Never throws.
 *
 * Rules: item names are case-insensitive (so two spellings of one item are ambiguous); block
 * parameters are 0x-hex; `difficulty` 0x1 and the BFT `mixHash`; `extraData` decodes as QBFT extra
 * data with no vote, round 0 and no seals; exactly one consensus section, `qbft`, with known keys and
 * positive integer `blockperiodseconds`, `epochlength`, `requesttimeoutseconds`; milestones are
 * non-negative integers in fork order; `cancunTime` is 0; `zeroBaseFee` needs London; alloc keys are
 * 20-byte addresses with hex or decimal balances.
 */
export function checkQbftGenesis(genesis: unknown): GenesisSummary {
  const findings: GenesisFinding[] = [];
  const error = (path: string, message: string): void =>
    void findings.push({ level: "error", path, message });
  const warning = (path: string, message: string): void =>
    void findings.push({ level: "warning", path, message });
  let validators: string[] = [];
  let chainId: number | undefined;
  if (!isObject(genesis)) {
    error("$", "genesis must be a JSON object");
    return { findings, validators, chainId };
  }
  const top = lowerKeys(genesis, "", TOP_KEYS, error, warning);
  const config = top.get("config");
  for (const key of ["nonce", "timestamp", "gaslimit", "difficulty"]) {
    const value = top.get(key);
    if (value === undefined) error(display(key), "is required");
    else if (!isQuantity(value)) error(display(key), "must be a 0x-hex quantity string");
  }
  for (const key of ["number", "gasused", "basefeepergas", "excessblobgas", "blobgasused"]) {
    const value = top.get(key);
    if (value !== undefined && !isQuantity(value))
      error(display(key), "must be a 0x-hex quantity string");
  }
  if (
    top.get("difficulty") !== undefined &&
    isQuantity(top.get("difficulty")) &&
    BigInt(top.get("difficulty") as string) !== 1n
  ) {
    error("difficulty", "must be 0x1 on a QBFT network");
  }
  const mixHash = top.get("mixhash");
  if (typeof mixHash !== "string" || mixHash.toLowerCase() !== BFT_MIX_HASH) {
    error("mixHash", `must be the BFT digest ${BFT_MIX_HASH}`);
  }
  const coinbase = top.get("coinbase");
  if (coinbase !== undefined && !isHexString(coinbase, 20))
    error("coinbase", "must be a 20-byte 0x-hex address");
  for (const key of ["parenthash", "parentbeaconblockroot"]) {
    const value = top.get(key);
    if (value !== undefined && !isHexString(value, 32))
      error(display(key), "must be 32 bytes of 0x-hex");
  }
  const gasLimit = top.get("gaslimit");
  if (
    isQuantity(gasLimit) &&
    (BigInt(gasLimit) < 5000n || BigInt(gasLimit) > 0x7fffffffffffffffn)
  ) {
    error("gasLimit", "must be between 5000 and 2^63-1");
  }
  if (isQuantity(top.get("timestamp")) && BigInt(top.get("timestamp") as string) !== 0n) {
    warning(
      "timestamp",
      "Besu recommends 0x0 so that the first block is never earlier than genesis",
    );
  }
  let contractValidators = false;
  if (!isObject(config)) {
    error("config", "is required and must be an object");
  } else {
    const c = lowerKeys(config, "config.", CONFIG_KEYS, error, warning);
    const id = c.get("chainid");
    if (typeof id !== "number" || !Number.isSafeInteger(id) || id <= 0)
      error("config.chainId", "must be a positive integer");
    else chainId = id;
    const engines = ["ethash", "clique", "ibft2", "qbft"].filter((e) => c.has(e));
    if (engines.length !== 1 || engines[0] !== "qbft") {
      error(
        "config",
        `must have exactly one consensus section, qbft (found: ${engines.join(", ") || "none"})`,
      );
    }
    const qbft = c.get("qbft");
    if (qbft !== undefined) {
      if (!isObject(qbft)) error("config.qbft", "must be an object");
      else {
        const q = lowerKeys(qbft, "config.qbft.", QBFT_KEYS, error, warning);
        for (const key of ["blockperiodseconds", "epochlength", "requesttimeoutseconds"]) {
          const v = q.get(key);
          if (v === undefined) error(`config.qbft.${key}`, "is required");
          else if (typeof v !== "number" || !Number.isSafeInteger(v) || v <= 0)
            error(`config.qbft.${key}`, "must be a positive integer");
        }
        const period = q.get("blockperiodseconds");
        const timeout = q.get("requesttimeoutseconds");
        if (typeof period === "number" && typeof timeout === "number" && timeout <= period) {
          warning(
            "config.qbft.requesttimeoutseconds",
            "should exceed blockperiodseconds (Besu suggests twice the block period) or round changes will be frequent",
          );
        }
        contractValidators = q.has("validatorcontractaddress");
        if (contractValidators && !isHexString(q.get("validatorcontractaddress"), 20)) {
          error("config.qbft.validatorcontractaddress", "must be a 20-byte 0x-hex address");
        }
      }
    }
    checkMilestones(c, error);
    const zero = c.get("zerobasefee");
    if (zero !== undefined && typeof zero !== "boolean")
      error("config.zeroBaseFee", "must be true or false");
    if (zero === true && c.get("londonblock") === undefined)
      warning("config.zeroBaseFee", "has no effect without londonBlock");
    if (zero === true && c.has("fixedbasefee"))
      error("config.fixedBaseFee", "cannot be combined with zeroBaseFee");
    if (zero !== true && c.get("londonblock") !== undefined) {
      warning(
        "config.zeroBaseFee",
        "is not true: after London every transaction pays a base fee, so Shafaf's accounts need funds",
      );
    }
    const limit = c.get("contractsizelimit");
    if (
      limit !== undefined &&
      (typeof limit !== "number" || !Number.isSafeInteger(limit) || limit < 1 || limit > 2147483647)
    ) {
      error("config.contractSizeLimit", "must be an integer in 1..2147483647");
    }
  }
  const extraData = top.get("extradata");
  if (typeof extraData !== "string") {
    error("extraData", "is required (RLP of the QBFT extra data)");
  } else {
    try {
      const decoded = decodeQbftExtraData(extraData);
      validators = [...decoded.validators];
      if (decoded.vote !== null) error("extraData", "a genesis block carries no vote");
      if (decoded.round !== 0) error("extraData", "a genesis block has round 0");
      if (decoded.seals.length > 0) error("extraData", "a genesis block carries no seals");
      if (new Set(validators).size !== validators.length)
        error("extraData", "lists a validator twice");
      if (!contractValidators && validators.length === 0) {
        error(
          "extraData",
          "lists no validators (block-header validator selection needs the initial validators here)",
        );
      }
      if (contractValidators && validators.length > 0) {
        warning(
          "extraData",
          "lists validators although config.qbft.validatorcontractaddress selects them from a contract",
        );
      }
      if (validators.length > 0 && validators.length < 4) {
        warning(
          "extraData",
          `${validators.length} validator(s) tolerate no faulty validator; QBFT needs 4 to tolerate 1`,
        );
      }
    } catch (e) {
      error("extraData", (e as { shortMessage?: string }).shortMessage ?? String(e));
    }
  }
  const alloc = top.get("alloc");
  if (alloc !== undefined) {
    if (!isObject(alloc)) error("alloc", "must be an object keyed by address");
    else {
      for (const [key, account] of Object.entries(alloc)) {
        const path = `alloc.${key}`;
        if (!/^(0x)?[0-9a-fA-F]{40}$/.test(key)) error(path, "key must be a 20-byte hex address");
        if (!isObject(account)) {
          error(path, "must be an object { balance, code?, storage?, nonce? }");
          continue;
        }
        const balance = account.balance;
        if (
          balance !== undefined &&
          !(typeof balance === "string" && (isQuantity(balance) || /^\d+$/.test(balance)))
        ) {
          error(`${path}.balance`, "must be a 0x-hex or decimal string");
        }
        if (account.code !== undefined && !isHexString(account.code))
          error(`${path}.code`, "must be 0x-hex bytecode");
      }
    }
  }
  return { findings, validators, chainId };
}

function checkMilestones(
  c: ReadonlyMap<string, unknown>,
  error: (path: string, message: string) => void,
): void {
  const blocks: [string, number][] = [];
  for (const name of BLOCK_MILESTONES) {
    const v = c.get(name.toLowerCase());
    if (v === undefined) continue;
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0)
      error(`config.${name}`, "must be a non-negative integer block number");
    else blocks.push([name, v]);
  }
  const times: [string, number][] = [];
  for (const name of [...TIME_MILESTONES, ...LATER_TIME_MILESTONES]) {
    const v = c.get(name.toLowerCase());
    if (v === undefined) continue;
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0)
      error(`config.${name}`, "must be a non-negative integer unix time");
    else times.push([name, v]);
  }
  for (const list of [blocks, times]) {
    for (let i = 1; i < list.length; i++) {
      if (list[i]![1] < list[i - 1]![1])
        error(
          `config.${list[i]![0]}`,
          `activates before ${list[i - 1]![0]}; milestones must follow fork order`,
        );
    }
  }
  if (times.length > 0 && c.get("londonblock") === undefined) {
    error(
      "config.londonBlock",
      "is required before timestamp milestones (shanghaiTime, cancunTime)",
    );
  }
  if (c.has("petersburgblock") && c.has("constantinoplefixblock")) {
    error(
      "config.constantinopleFixBlock",
      "cannot be given with petersburgBlock (Besu refuses such a genesis)",
    );
  }
  if (c.get("cancuntime") !== 0) {
    error(
      "config.cancunTime",
      "must be 0: Shafaf's contracts are compiled for the cancun EVM (hardhat.config.ts), so cancun must be active from genesis",
    );
  }
  if (c.get("shanghaitime") === undefined && c.get("cancuntime") !== undefined) {
    error("config.shanghaiTime", "is required when cancunTime is set");
  }
}

/** Map of lower-cased key → value; reports unknown keys and keys spelled twice with different case. */
function lowerKeys(
  obj: Record<string, unknown>,
  prefix: string,
  known: readonly string[],
  error: (path: string, message: string) => void,
  warning: (path: string, message: string) => void,
): Map<string, unknown> {
  const map = new Map<string, unknown>();
  for (const [key, value] of Object.entries(obj)) {
    const lower = key.toLowerCase();
    if (map.has(lower))
      error(`${prefix}${key}`, "appears twice (Besu reads genesis item names case-insensitively)");
    if (!known.includes(lower)) {
      warning(`${prefix}${key}`, "is not an item Besu reads, so Besu ignores it (a misspelling?)");
    }
    map.set(lower, value);
  }
  return map;
}

const DISPLAY: Record<string, string> = Object.fromEntries(
  [
    "gasLimit",
    "gasUsed",
    "baseFeePerGas",
    "excessBlobGas",
    "blobGasUsed",
    "parentHash",
    "parentBeaconBlockRoot",
  ].map((k) => [k.toLowerCase(), k]),
);

/** A lower-cased top-level item name as Besu's documentation spells it. */
function display(key: string): string {
  return DISPLAY[key] ?? key;
}

function isQuantity(value: unknown): value is string {
  return typeof value === "string" && /^0x[0-9a-fA-F]+$/.test(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * On-chain governance of the ledger: a k-of-n council of the institutions (ShafafCouncil) in
 * front of an OpenZeppelin TimelockController that is the ledger's admin. Role grants and
 * revocations and unpausing are proposed by a member, approved by `threshold` members, wait the
 * timelock's delay in public view, and are then executed. Every step is an event.
 */
import {
  Contract,
  ContractFactory,
  Interface,
  getAddress,
  id,
  isAddress,
  type ContractRunner,
  type Signer,
} from "ethers";
import { InvalidInputError, ShafafError } from "../core/errors.ts";
import { COUNCIL_ABI } from "../core/council-abi.ts";
import { LEDGER_ABI } from "../core/ledger-abi.ts";
import { TIMELOCK_ABI } from "../core/timelock-abi.ts";
import { loadCouncilArtifact, type LoadArtifactOptions } from "./artifact.ts";
import { deployLedger, type DeployLedgerResult } from "./deploy-ledger.ts";

/** The council's and timelock's ABIs, generated from their artifacts (`npm run abi`). */
export { COUNCIL_ABI } from "../core/council-abi.ts";
export { TIMELOCK_ABI } from "../core/timelock-abi.ts";

const councilInterface = new Interface(COUNCIL_ABI);
const timelockInterface = new Interface(TIMELOCK_ABI);
const ledgerInterface = new Interface(LEDGER_ABI);

export const ROLES = {
  anchorer: "ANCHORER_ROLE",
  auditor: "AUDITOR_ROLE",
  pauser: "PAUSER_ROLE",
  vrf_key: "VRF_KEY_ROLE",
  log: "LOG_ROLE",
} as const;
export type RoleName = (typeof ROLES)[keyof typeof ROLES];
const ROLE_BY_HASH = new Map<string, RoleName>(
  Object.values(ROLES).map((name) => [id(name), name]),
);

/** One change a proposal makes to the ledger. */
export type RoleChange =
  | { action: "grant" | "revoke"; role: RoleName; account: string }
  | { action: "unpause" }
  /** Record the trust policy: `policyHash` = trustPolicyHash(file bytes), src/core/tlog-policy.ts. */
  | { action: "set-trust-policy"; policyHash: string };

export type ProposalStateName =
  "pending" | "stale" | "scheduled" | "ready" | "executed" | "cancelled";
const STATE_NAMES: readonly (ProposalStateName | "none")[] = [
  "none",
  "pending",
  "stale",
  "scheduled",
  "ready",
  "executed",
  "cancelled",
];

// ───────────────────────────── deploy ─────────────────────────────

export interface DeployGovernanceOptions {
  /** Pays for the deployment; receives no role. */
  signer: Signer;
  /** The institutions' accounts: the council's members (distinct). */
  institutions: readonly string[];
  /** Approvals a proposal needs, 1..institutions.length. */
  threshold: number;
  /** Seconds every approved proposal waits in the timelock before it can be executed. */
  minDelaySeconds: number;
  artifacts?: LoadArtifactOptions;
}

export interface DeployGovernanceResult {
  /** The ShafafCouncil. */
  council: string;
  /** Its TimelockController: give this as the ledger's `admin` to `deployLedger`. */
  timelock: string;
  chainId: number;
  txHash: string;
  blockNumber: number;
}

/**
 * Deploys the council, which deploys its timelock. Then deploy the ledger with
 * `deployLedger({ admin: result.timelock, … })`.
 *
 * @example
 * const gov = await deployGovernance({ signer, institutions: [sso, court, ministry, bank],
 *   threshold: 3, minDelaySeconds: 2 * 86_400 });
 * await deployLedger({ signer, admin: gov.timelock, adminDelaySeconds: 86_400, pausers: [court] });
 */
export async function deployGovernance(
  options: DeployGovernanceOptions,
): Promise<DeployGovernanceResult> {
  const institutions = options.institutions.map((a, i) => checkAddress(`institutions[${i}]`, a));
  if (new Set(institutions).size !== institutions.length) {
    throw new InvalidInputError("an institution is listed twice", {
      details: "each institution's account must appear once in institutions",
      field: "institutions",
      code: "chain.governance.duplicate",
    });
  }
  if (institutions.length === 0) {
    throw new InvalidInputError("no institutions", {
      details: "list at least one institution account (four in the reference network)",
      field: "institutions",
      code: "chain.governance.institutions",
    });
  }
  if (
    !Number.isSafeInteger(options.threshold) ||
    options.threshold < 1 ||
    options.threshold > institutions.length
  ) {
    throw new InvalidInputError(`threshold ${options.threshold} is not valid`, {
      details: `give a whole number from 1 to ${institutions.length} (the number of institutions)`,
      field: "threshold",
      code: "chain.governance.threshold",
    });
  }
  if (!Number.isSafeInteger(options.minDelaySeconds) || options.minDelaySeconds < 0) {
    throw new InvalidInputError(`minDelaySeconds ${options.minDelaySeconds} is not valid`, {
      details: "give a whole number of seconds ≥ 0 (e.g. 172800 for two days)",
      field: "minDelaySeconds",
      code: "chain.governance.delay",
    });
  }
  const provider = options.signer.provider;
  if (provider === null) {
    throw new InvalidInputError("the signer is not connected to a chain", {
      code: "chain.governance.provider",
    });
  }
  const { abi, bytecode } = await loadCouncilArtifact(options.artifacts);
  const factory = new ContractFactory(abi, bytecode, options.signer);
  const contract = await factory.deploy(institutions, options.threshold, options.minDelaySeconds);
  const tx = contract.deploymentTransaction();
  const receipt = tx === null ? null : await tx.wait();
  if (tx === null || receipt === null || receipt.status !== 1 || receipt.contractAddress === null) {
    throw new ShafafError("the governance deployment failed", {
      details: `transaction ${tx?.hash ?? "(none)"} did not create the council`,
      code: "chain.governance.failed",
    });
  }
  const council = getAddress(receipt.contractAddress);
  const timelock = getAddress(
    (await councilAt(council, provider).getFunction("timelock")()) as string,
  );
  return {
    council,
    timelock,
    chainId: Number((await provider.getNetwork()).chainId),
    txHash: receipt.hash,
    blockNumber: receipt.blockNumber,
  };
}

// ───────────────────────────── find ─────────────────────────────

export interface GovernanceAddresses {
  ledger: string;
  timelock: string;
  council: string;
}

/**
 * Finds a ledger's governance: ledger.defaultAdmin() is the timelock, timelock.council() the
 * council. Fails clearly when the ledger's admin is not a ShafafTimelock (e.g. a plain account).
 */
export async function findGovernance(
  runner: ContractRunner,
  ledger: string,
): Promise<GovernanceAddresses> {
  const ledgerAddress = checkAddress("ledger", ledger);
  let timelock: string;
  try {
    timelock = getAddress(
      (await new Contract(ledgerAddress, LEDGER_ABI, runner).getFunction(
        "defaultAdmin",
      )()) as string,
    );
  } catch (error) {
    throw new InvalidInputError(`${ledgerAddress} does not answer as a TransparencyLedger`, {
      details: "check --contract (the ledger's address) and --rpc",
      code: "chain.governance.not-ledger",
      cause: error,
    });
  }
  let council: string;
  try {
    council = getAddress(
      (await new Contract(timelock, TIMELOCK_ABI, runner).getFunction("council")()) as string,
    );
  } catch (error) {
    throw new InvalidInputError(`the ledger's admin ${timelock} is not a governance timelock`, {
      details:
        "this ledger is administered by a plain account, not by a council; use hardhat/ethers directly or redeploy with --governance",
      code: "chain.governance.not-governed",
      cause: error,
    });
  }
  return { ledger: ledgerAddress, timelock, council };
}

// ───────────────────────────── propose / approve / execute ─────────────────────────────

/** The call a change makes on the ledger, and a one-line description of it. */
export function encodeRoleChange(change: RoleChange): { payload: string; summary: string } {
  if (change.action === "unpause") {
    return { payload: ledgerInterface.encodeFunctionData("unpause"), summary: "unpause()" };
  }
  if (change.action === "set-trust-policy") {
    if (!/^0x[0-9a-fA-F]{64}$/.test(change.policyHash) || /^0x0{64}$/.test(change.policyHash)) {
      throw new InvalidInputError(`${JSON.stringify(change.policyHash)} is not a policy hash`, {
        details:
          "give the SHA-256 of the trust-policy file (shafaf roles propose --trust-policy FILE)",
        field: "policyHash",
        code: "chain.governance.policy-hash",
      });
    }
    const policyHash = change.policyHash.toLowerCase();
    return {
      payload: ledgerInterface.encodeFunctionData("setTrustPolicy", [policyHash]),
      summary: `setTrustPolicy(${policyHash})`,
    };
  }
  const account = checkAddress("account", change.account);
  if (!Object.values(ROLES).includes(change.role)) {
    throw new InvalidInputError(`unknown role ${JSON.stringify(change.role)}`, {
      details: `use one of ${Object.values(ROLES).join(", ")}`,
      field: "role",
      code: "chain.governance.role",
    });
  }
  const fn = change.action === "grant" ? "grantRole" : "revokeRole";
  return {
    payload: ledgerInterface.encodeFunctionData(fn, [id(change.role), account]),
    summary: `${fn}(${change.role}, ${account})`,
  };
}

export interface ProposeRoleChangesOptions {
  /** A council member. */
  signer: Signer;
  governance: GovernanceAddresses;
  changes: readonly RoleChange[];
  /** Why (shown to the other members and the public); defaults to the list of changes. */
  description?: string;
}

export interface StepResult {
  proposalId: bigint;
  txHash: string;
  blockNumber: number;
  /** Approvals so far and the threshold (after this step). */
  approvals: number;
  threshold: number;
  /** Set once the proposal is in the timelock: unix seconds from which it can be executed. */
  readyAt?: number;
}

/**
 * A member proposes changes to the ledger; its own approval counts at once.
 *
 * @example
 * const { proposalId } = await proposeRoleChanges({ signer, governance,
 *   changes: [{ action: "grant", role: "ANCHORER_ROLE", account: finance }] });
 */
export async function proposeRoleChanges(options: ProposeRoleChangesOptions): Promise<StepResult> {
  if (options.changes.length === 0) {
    throw new InvalidInputError("a proposal needs at least one change", {
      details: "give --grant ROLE:ACCOUNT, --revoke ROLE:ACCOUNT or --unpause",
      code: "chain.governance.empty",
    });
  }
  const encoded = options.changes.map(encodeRoleChange);
  const description = options.description ?? encoded.map((e) => e.summary).join("; ");
  const council = councilAt(options.governance.council, options.signer);
  const tx = (await council.getFunction("propose")(
    encoded.map(() => options.governance.ledger),
    encoded.map((e) => e.payload),
    description,
  )) as { wait(): Promise<TxReceiptLike | null> };
  return stepResult(await tx.wait());
}

/** A member approves proposal `proposalId`; the approval that reaches the threshold schedules it. */
export async function approveProposal(options: {
  signer: Signer;
  governance: GovernanceAddresses;
  proposalId: bigint;
}): Promise<StepResult> {
  const council = councilAt(options.governance.council, options.signer);
  const tx = (await council.getFunction("approve")(options.proposalId)) as {
    wait(): Promise<TxReceiptLike | null>;
  };
  return stepResult(await tx.wait());
}

/**
 * A member votes to cancel a pending, scheduled or ready proposal; the vote that reaches the
 * threshold cancels it (in the timelock too). Returns the votes so far and whether it is cancelled.
 */
export async function cancelProposal(options: {
  signer: Signer;
  governance: GovernanceAddresses;
  proposalId: bigint;
}): Promise<{
  proposalId: bigint;
  txHash: string;
  votes: number;
  threshold: number;
  cancelled: boolean;
}> {
  const council = councilAt(options.governance.council, options.signer);
  const tx = (await council.getFunction("cancel")(options.proposalId)) as {
    wait(): Promise<TxReceiptLike | null>;
  };
  const receipt = await tx.wait();
  if (receipt === null || receipt.status !== 1) {
    throw new ShafafError(`the cancel vote on proposal ${options.proposalId} failed`, {
      code: "chain.governance.cancel",
    });
  }
  const result = {
    proposalId: options.proposalId,
    txHash: receipt.hash,
    votes: 0,
    threshold: 0,
    cancelled: false,
  };
  for (const log of receipt.logs) {
    let parsed;
    try {
      parsed = councilInterface.parseLog({ topics: [...log.topics], data: log.data });
    } catch {
      continue;
    }
    if (parsed?.name === "ProposalCancelVoted") {
      result.votes = Number(parsed.args.getValue("votes"));
      result.threshold = Number(parsed.args.getValue("threshold"));
    } else if (parsed?.name === "ProposalCancelled") {
      result.cancelled = true;
    }
  }
  return result;
}

/** A member executes a ready proposal: the timelock makes its calls on the ledger. */
export async function executeProposal(options: {
  signer: Signer;
  governance: GovernanceAddresses;
  proposalId: bigint;
}): Promise<{ proposalId: bigint; txHash: string; blockNumber: number }> {
  const council = councilAt(options.governance.council, options.signer);
  const tx = (await council.getFunction("execute")(options.proposalId)) as {
    wait(): Promise<TxReceiptLike | null>;
  };
  const receipt = await tx.wait();
  if (receipt === null || receipt.status !== 1) {
    throw new ShafafError(`proposal ${options.proposalId} was not executed`, {
      code: "chain.governance.execute",
    });
  }
  return { proposalId: options.proposalId, txHash: receipt.hash, blockNumber: receipt.blockNumber };
}

// ───────────────────────────── list ─────────────────────────────

export interface ProposalView {
  proposalId: bigint;
  state: ProposalStateName;
  proposer: string;
  approvals: number;
  threshold: number;
  approvedBy: string[];
  description: string;
  operationId: string;
  /** Unix seconds from which it can be executed (scheduled, ready or executed proposals). */
  readyAt?: number;
  /** The calls, decoded where they are ledger, council or timelock administration. */
  calls: { target: string; call: string }[];
}

export interface GovernanceView {
  addresses: GovernanceAddresses;
  members: string[];
  threshold: number;
  minDelaySeconds: number;
  proposals: ProposalView[];
}

/** Reads the council: members, threshold, delay and every proposal with its state and approvals. */
export async function listProposals(
  runner: ContractRunner,
  governance: GovernanceAddresses,
): Promise<GovernanceView> {
  const council = councilAt(governance.council, runner);
  const timelock = new Contract(governance.timelock, TIMELOCK_ABI, runner);
  const members = ((await council.getFunction("members")()) as string[]).map((a) => getAddress(a));
  const threshold = Number(await council.getFunction("threshold")());
  const minDelaySeconds = Number(await timelock.getFunction("getMinDelay")());
  const count = Number(await council.getFunction("proposalCount")());
  const proposals: ProposalView[] = [];
  for (let n = 1; n <= count; n++) {
    const p = (await council.getFunction("getProposal")(n)) as {
      proposer: string;
      approvals: bigint;
      operationId: string;
      targets: string[];
      payloads: string[];
      description: string;
    };
    const state = STATE_NAMES[Number(await council.getFunction("proposalState")(n))];
    const approvedBy: string[] = [];
    for (const m of members) {
      if ((await council.getFunction("hasApproved")(n, m)) as boolean) approvedBy.push(m);
    }
    const timestamp = Number(await timelock.getFunction("getTimestamp")(p.operationId));
    const view: ProposalView = {
      proposalId: BigInt(n),
      state: state === undefined || state === "none" ? "pending" : state,
      proposer: getAddress(p.proposer),
      approvals: Number(p.approvals),
      threshold,
      approvedBy,
      description: p.description,
      operationId: p.operationId,
      calls: p.targets.map((target, i) => ({
        target: getAddress(target),
        call: describeCall(p.payloads[i] ?? "0x"),
      })),
    };
    // getTimestamp is 1 once executed (OpenZeppelin's _DONE_TIMESTAMP), 0 before scheduling
    if (timestamp > 1) view.readyAt = timestamp;
    proposals.push(view);
  }
  return { addresses: governance, members, threshold, minDelaySeconds, proposals };
}

/** `grantRole(ANCHORER_ROLE, 0x…)`, `unpause()`, `addMember(0x…)`, or the raw selector. */
export function describeCall(payload: string): string {
  for (const iface of [ledgerInterface, councilInterface, timelockInterface]) {
    try {
      const parsed = iface.parseTransaction({ data: payload });
      if (parsed === null) continue;
      const args = parsed.args.map((a: unknown) =>
        typeof a === "string" && ROLE_BY_HASH.has(a) ? ROLE_BY_HASH.get(a)! : String(a),
      );
      return `${parsed.name}(${args.join(", ")})`;
    } catch {
      // not this interface
    }
  }
  return `unknown call ${payload.slice(0, 10)}`;
}

// ───────────────────────────── internal ─────────────────────────────

interface TxReceiptLike {
  hash: string;
  blockNumber: number;
  status: number | null;
  logs: readonly { address: string; topics: readonly string[]; data: string }[];
}

function councilAt(address: string, runner: ContractRunner): Contract {
  return new Contract(address, COUNCIL_ABI, runner);
}

/** Reads what a propose/approve transaction did from the council's events. */
function stepResult(receipt: TxReceiptLike | null): StepResult {
  if (receipt === null || receipt.status !== 1) {
    throw new ShafafError("the governance transaction failed", { code: "chain.governance.tx" });
  }
  let result: StepResult | undefined;
  for (const log of receipt.logs) {
    let parsed;
    try {
      parsed = councilInterface.parseLog({ topics: [...log.topics], data: log.data });
    } catch {
      continue;
    }
    if (parsed?.name === "ProposalApproved") {
      result = {
        proposalId: parsed.args.getValue("proposalId") as bigint,
        txHash: receipt.hash,
        blockNumber: receipt.blockNumber,
        approvals: Number(parsed.args.getValue("approvals")),
        threshold: Number(parsed.args.getValue("threshold")),
      };
    } else if (parsed?.name === "ProposalScheduled" && result !== undefined) {
      result.readyAt = Number(parsed.args.getValue("readyAt"));
    }
  }
  if (result === undefined) {
    throw new ShafafError("the governance transaction emitted no approval", {
      details: `transaction ${receipt.hash}`,
      code: "chain.governance.no-event",
    });
  }
  return result;
}

function checkAddress(field: string, value: string): string {
  if (typeof value !== "string" || !isAddress(value)) {
    throw new InvalidInputError(`${field}: ${JSON.stringify(value)} is not an address`, {
      details: "give a 0x-prefixed 20-byte hex account address",
      field,
      code: "chain.governance.address",
    });
  }
  return getAddress(value);
}

// ───────────────────────────── governance file ─────────────────────────────

export const GOVERNANCE_FORMAT = "shafaf-governance/1";

/** The `shafaf deploy --governance FILE` file (format `shafaf-governance/1`). */
export interface GovernanceConfig {
  format: typeof GOVERNANCE_FORMAT;
  /** When present, deploying on another chain is refused. */
  chainId?: number;
  institutions: { name: string; account: string }[];
  threshold: number;
  minDelaySeconds: number;
  ledger: {
    adminDelaySeconds: number;
    anchorers: string[];
    auditors: string[];
    pausers: string[];
  };
}

/**
 * Parses and checks a governance file. Errors name the file and the field (`institutions[2].account`)
 * and say how to fix it.
 *
 * @example
 * const config = parseGovernanceConfig(await readFile(path, "utf8"), path);
 */
export function parseGovernanceConfig(text: string, source: string): GovernanceConfig {
  const fail = (field: string, message: string, hint: string): never => {
    throw new InvalidInputError(`${source}: ${field}: ${message}`, {
      details: hint,
      field,
      code: "chain.governance.config",
    });
  };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new InvalidInputError(`${source} is not JSON`, {
      details: (error as Error).message,
      code: "chain.governance.config",
      cause: error,
    });
  }
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObject(raw))
    return fail("(top)", "not an object", `write { "format": "${GOVERNANCE_FORMAT}", … }`);
  if (raw.format !== GOVERNANCE_FORMAT) {
    fail("format", `is ${JSON.stringify(raw.format)}`, `this version reads "${GOVERNANCE_FORMAT}"`);
  }
  const known = ["format", "chainId", "institutions", "threshold", "minDelaySeconds", "ledger"];
  for (const key of Object.keys(raw)) {
    if (!known.includes(key)) fail(key, "unknown field", `known fields: ${known.join(", ")}`);
  }
  const whole = (field: string, v: unknown, min: number, max: number): number => {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min || v > max) {
      fail(
        field,
        `${JSON.stringify(v)} is not a whole number from ${min} to ${max}`,
        "fix the number",
      );
    }
    return v as number;
  };
  const address = (field: string, v: unknown): string => {
    if (typeof v !== "string" || !isAddress(v)) {
      fail(
        field,
        `${JSON.stringify(v)} is not an address`,
        "give a 0x-prefixed 20-byte hex account",
      );
    }
    return getAddress(v as string);
  };
  const addresses = (field: string, v: unknown): string[] => {
    if (v === undefined) return [];
    if (!Array.isArray(v)) return fail(field, "is not a list", "give a JSON array of addresses");
    const list = v.map((a, i) => address(`${field}[${i}]`, a));
    const dup = list.findIndex((a, i) => list.indexOf(a) !== i);
    if (dup >= 0)
      fail(`${field}[${dup}]`, `${list[dup]} is listed twice`, "list each account once");
    return list;
  };
  if (!Array.isArray(raw.institutions) || raw.institutions.length === 0) {
    fail("institutions", "must be a non-empty list", 'give [{ "name": "…", "account": "0x…" }, …]');
  }
  const institutions = (raw.institutions as unknown[]).map((item, i) => {
    if (!isObject(item))
      return fail(`institutions[${i}]`, "not an object", 'give { "name", "account" }');
    if (typeof item.name !== "string" || item.name.trim() === "") {
      fail(`institutions[${i}].name`, "is missing", "name the institution (shown in the portal)");
    }
    return {
      name: item.name as string,
      account: address(`institutions[${i}].account`, item.account),
    };
  });
  const accounts = institutions.map((x) => x.account);
  const dup = accounts.findIndex((a, i) => accounts.indexOf(a) !== i);
  if (dup >= 0) {
    fail(
      `institutions[${dup}].account`,
      `${accounts[dup]} is listed twice`,
      "each institution signs with its own account",
    );
  }
  const threshold = whole("threshold", raw.threshold, 1, institutions.length);
  const minDelaySeconds = whole("minDelaySeconds", raw.minDelaySeconds, 0, 365 * 86_400);
  const ledgerRaw = raw.ledger ?? {};
  if (!isObject(ledgerRaw))
    return fail(
      "ledger",
      "not an object",
      "give { adminDelaySeconds, anchorers, auditors, pausers }",
    );
  for (const key of Object.keys(ledgerRaw)) {
    if (!["adminDelaySeconds", "anchorers", "auditors", "pausers"].includes(key)) {
      fail(
        `ledger.${key}`,
        "unknown field",
        "known: adminDelaySeconds, anchorers, auditors, pausers",
      );
    }
  }
  const config: GovernanceConfig = {
    format: GOVERNANCE_FORMAT,
    institutions,
    threshold,
    minDelaySeconds,
    ledger: {
      adminDelaySeconds: whole(
        "ledger.adminDelaySeconds",
        ledgerRaw.adminDelaySeconds ?? 86_400,
        0,
        2 ** 48 - 1,
      ),
      anchorers: addresses("ledger.anchorers", ledgerRaw.anchorers),
      auditors: addresses("ledger.auditors", ledgerRaw.auditors),
      pausers: addresses("ledger.pausers", ledgerRaw.pausers),
    },
  };
  if (raw.chainId !== undefined)
    config.chainId = whole("chainId", raw.chainId, 1, Number.MAX_SAFE_INTEGER);
  return config;
}

export interface DeployGovernedLedgerResult {
  council: string;
  timelock: string;
  ledger: DeployLedgerResult;
}

/**
 * Deploys the council (and its timelock), then the ledger with the timelock as its admin and the
 * file's initial roles. The deployer holds no role anywhere.
 *
 * @example
 * const config = parseGovernanceConfig(text, file);
 * const { council, timelock, ledger } = await deployGovernedLedger({ signer, config });
 */
export async function deployGovernedLedger(options: {
  signer: Signer;
  config: GovernanceConfig;
  artifacts?: LoadArtifactOptions;
}): Promise<DeployGovernedLedgerResult> {
  const { config } = options;
  const provider = options.signer.provider;
  if (config.chainId !== undefined && provider !== null) {
    const chainId = Number((await provider.getNetwork()).chainId);
    if (chainId !== config.chainId) {
      throw new InvalidInputError(
        `the governance file is for chain ${config.chainId}, not ${chainId}`,
        {
          details: "check --rpc, or the file's chainId",
          field: "chainId",
          code: "chain.governance.chain",
        },
      );
    }
  }
  const gov = await deployGovernance({
    signer: options.signer,
    institutions: config.institutions.map((i) => i.account),
    threshold: config.threshold,
    minDelaySeconds: config.minDelaySeconds,
    ...(options.artifacts === undefined ? {} : { artifacts: options.artifacts }),
  });
  const ledger = await deployLedger({
    signer: options.signer,
    admin: gov.timelock,
    adminDelaySeconds: config.ledger.adminDelaySeconds,
    anchorers: config.ledger.anchorers,
    auditors: config.ledger.auditors,
    pausers: config.ledger.pausers,
    ...(options.artifacts === undefined ? {} : { artifacts: options.artifacts }),
  });
  return { council: gov.council, timelock: gov.timelock, ledger };
}

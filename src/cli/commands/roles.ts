/**
 * `shafaf roles propose|approve|revoke-approval|execute|cancel|list`: role changes on a governed ledger.
 * A council member proposes grants, revocations, an unpause or a new trust policy (its SHA-256 is
 * recorded on the ledger); `threshold` members approve; after
 * the timelock's delay a member executes. The governance contracts are found from the ledger
 * (`--contract`): ledger.defaultAdmin() → timelock → timelock.council().
 */
import { readFile } from "node:fs/promises";
import { Contract, isAddress } from "ethers";
import { trustPolicyHash } from "../../core/tlog-policy.ts";
import type { CliCommand } from "../command.ts";
import { parseCommandLine } from "../parse-command-line.ts";
import {
  COUNCIL_ABI,
  ROLES,
  approveProposal,
  cancelProposal,
  executeProposal,
  findGovernance,
  listProposals,
  proposeRoleChanges,
  type GovernanceView,
  type RoleChange,
  type RoleName,
  type StepResult,
} from "../../chain/governance.ts";
import { connectProvider, connectSigner, fetchChainId } from "../../chain/signer.ts";
import { explainChainError, type ExplainContext } from "../../chain/explain-error.ts";
import { UsageError, reportError, signerSpecFromOptions } from "../command-support.ts";

const USAGE = `usage: shafaf roles <propose|approve|revoke-approval|execute|cancel|list> --rpc URL --contract LEDGER [options]

Changes who may anchor, audit or pause a governed ledger, through its council and timelock.

  propose   --grant ROLE:ADDR … --revoke ROLE:ADDR … --unpause --trust-policy FILE
            [--description TEXT]
            a council member proposes; its own approval counts. --trust-policy records the
            SHA-256 of that c2sp.org/tlog-policy file (docs/spec/trust-policy-v1.md)
  approve   --proposal N      a council member approves; the approval that reaches the
                              threshold schedules the change in the timelock
  revoke-approval --proposal N  withdraw one's approval while the proposal is pending
  execute   --proposal N      after the timelock's delay, a member carries the change out
  cancel    --proposal N      vote to cancel a pending or scheduled change; the vote that
                              reaches the threshold cancels it
  list      [--json]          members, threshold, delay and every proposal

  --rpc URL          the chain's JSON-RPC endpoint
  --contract LEDGER  the TransparencyLedger's address
  --keystore FILE    sign with an encrypted keystore (password: SHAFAF_KEYSTORE_PASSWORD or prompt)
  --signer dev:N     sign with development account N (chain 31337 only)
  ROLE is anchorer, auditor, pauser, vrf_key (registers VRF keys: shafaf keys register-vrf) or
  log (records the ledger log's checkpoints: shafaf serve --log-signer/--log-keystore).`;

type Values = {
  rpc?: string;
  contract?: string;
  keystore?: string;
  signer?: string;
  grant?: string[];
  revoke?: string[];
  unpause?: boolean;
  "trust-policy"?: string;
  description?: string;
  proposal?: string;
  json?: boolean;
};

const SUBCOMMANDS = ["propose", "approve", "revoke-approval", "execute", "cancel", "list"] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

export const command: CliCommand = {
  summary: "propose, approve, execute and list role changes through governance",
  async run(argv) {
    const parsed = parseCommandLine("roles", USAGE, argv, {
      rpc: { type: "string" },
      contract: { type: "string" },
      keystore: { type: "string" },
      signer: { type: "string" },
      grant: { type: "string", multiple: true },
      revoke: { type: "string", multiple: true },
      unpause: { type: "boolean" },
      "trust-policy": { type: "string" },
      description: { type: "string" },
      proposal: { type: "string" },
      json: { type: "boolean" },
    });
    if (typeof parsed === "number") return parsed;
    const values: Values = parsed.values;
    const positionals = parsed.positionals;
    const context: ExplainContext = { rpcUrl: values.rpc, action: "changing roles" };
    try {
      const sub = positionals[0];
      if (positionals.length !== 1 || !SUBCOMMANDS.includes(sub as Subcommand)) {
        throw new UsageError(`give one of ${SUBCOMMANDS.join(", ")}`);
      }
      if (values.rpc === undefined) throw new UsageError("--rpc URL is required");
      if (values.contract === undefined || !isAddress(values.contract)) {
        throw new UsageError("--contract must be the ledger's address (0x…)");
      }
      return await runSubcommand(sub as Subcommand, values, values.rpc, values.contract, context);
    } catch (error) {
      const status = reportError("roles", explainChainError(error, context), USAGE);
      return status;
    }
  },
};

async function runSubcommand(
  sub: Subcommand,
  values: Values,
  rpc: string,
  ledger: string,
  context: ExplainContext,
): Promise<number> {
  if (sub === "list") {
    const chainId = await fetchChainId(rpc);
    const provider = connectProvider(rpc, chainId);
    try {
      const view = await listProposals(provider, await findGovernance(provider, ledger));
      process.stdout.write(
        values.json === true ? JSON.stringify(toJson(view)) + "\n" : formatList(view),
      );
    } finally {
      provider.destroy();
    }
    return 0;
  }

  if (
    sub !== "propose" &&
    (values.grant ?? values.revoke ?? values.unpause ?? values["trust-policy"]) !== undefined
  ) {
    throw new UsageError(
      `--grant, --revoke, --unpause and --trust-policy belong to "propose", not "${sub}"`,
    );
  }
  const policy = values["trust-policy"];
  const changes =
    sub === "propose"
      ? parseChanges({
          ...values,
          ...(policy === undefined
            ? {}
            : { policyHash: trustPolicyHash(await readFile(policy), policy) }),
        })
      : [];
  const proposalId = sub === "propose" ? undefined : parseProposalId(values.proposal);
  const signer = await connectSigner({ rpcUrl: rpc, spec: await signerSpecFromOptions(values) });
  context.account = signer.address;
  context.chainId = signer.chainId;
  try {
    const governance = await findGovernance(signer.provider, ledger);
    const council = new Contract(governance.council, COUNCIL_ABI, signer.provider);
    if (!((await council.getFunction("isMember")(signer.address)) as boolean)) {
      throw new UsageError(
        `${signer.address} is not a member of the council ${governance.council}; sign as one of its institutions`,
      );
    }
    const tail = `--rpc ${rpc} --contract ${ledger}`;
    if (sub === "propose") {
      const step = await proposeRoleChanges({
        signer: signer.wallet,
        governance,
        changes,
        ...(values.description === undefined ? {} : { description: values.description }),
      });
      process.stdout.write(
        `proposal ${step.proposalId} created (tx ${step.txHash})\n` + formatStep(step, tail),
      );
    } else if (sub === "approve") {
      const step = await approveProposal({
        signer: signer.wallet,
        governance,
        proposalId: proposalId!,
      });
      process.stdout.write(
        `approved proposal ${step.proposalId} (tx ${step.txHash})\n` + formatStep(step, tail),
      );
    } else if (sub === "revoke-approval") {
      const tx = (await council.connect(signer.wallet).getFunction("revokeApproval")(
        proposalId,
      )) as {
        wait(): Promise<{ hash: string } | null>;
      };
      const receipt = await tx.wait();
      process.stdout.write(
        `withdrew the approval of proposal ${proposalId} (tx ${receipt?.hash})\n`,
      );
    } else if (sub === "cancel") {
      const r = await cancelProposal({
        signer: signer.wallet,
        governance,
        proposalId: proposalId!,
      });
      process.stdout.write(
        r.cancelled
          ? `cancelled proposal ${r.proposalId} (${r.votes} of ${r.threshold} votes, tx ${r.txHash})\n`
          : `voted to cancel proposal ${r.proposalId}: ${r.votes} of ${r.threshold} votes so far (tx ${r.txHash})\n`,
      );
    } else {
      const result = await executeProposal({
        signer: signer.wallet,
        governance,
        proposalId: proposalId!,
      });
      process.stdout.write(
        `executed proposal ${result.proposalId} (tx ${result.txHash}, block ${result.blockNumber})\n`,
      );
    }
    return 0;
  } finally {
    signer.provider.destroy();
  }
}

/**
 * `anchorer:0xabc…` → a grant or revoke; `--unpause` → unpause; a policy hash (of
 * `--trust-policy FILE`) → set-trust-policy.
 */
export function parseChanges(
  values: Pick<Values, "grant" | "revoke" | "unpause"> & { policyHash?: string },
): RoleChange[] {
  const changes: RoleChange[] = [];
  for (const [action, list] of [
    ["grant", values.grant ?? []],
    ["revoke", values.revoke ?? []],
  ] as const) {
    for (const item of list) {
      const m = /^([A-Za-z_]+):(0x[0-9a-fA-F]{40})$/.exec(item);
      const role = m === null ? undefined : roleOf(m[1]!);
      if (m === null || role === undefined || !isAddress(m[2])) {
        throw new UsageError(
          `--${action} ${JSON.stringify(item)}: write ROLE:ADDRESS with ROLE one of anchorer, auditor, pauser, vrf_key, log`,
        );
      }
      changes.push({ action, role, account: m[2] });
    }
  }
  if (values.unpause === true) changes.push({ action: "unpause" });
  if (values.policyHash !== undefined)
    changes.push({ action: "set-trust-policy", policyHash: values.policyHash });
  if (changes.length === 0) {
    throw new UsageError(
      "propose what? give --grant ROLE:ADDR, --revoke ROLE:ADDR, --unpause or --trust-policy FILE",
    );
  }
  return changes;
}

function roleOf(text: string): RoleName | undefined {
  const key = text.toLowerCase().replace(/_role$/, "") as keyof typeof ROLES;
  return Object.hasOwn(ROLES, key) ? ROLES[key] : undefined;
}

function parseProposalId(text: string | undefined): bigint {
  if (text === undefined || !/^[1-9][0-9]{0,18}$/.test(text)) {
    throw new UsageError("--proposal N is required (N = the number `shafaf roles list` shows)");
  }
  return BigInt(text);
}

function formatStep(step: StepResult, tail: string): string {
  if (step.readyAt !== undefined) {
    return (
      `  ${step.approvals} of ${step.threshold} approvals: scheduled in the timelock, executable from ` +
      `${new Date(step.readyAt * 1000).toISOString()}\n` +
      `  then: shafaf roles execute --proposal ${step.proposalId} ${tail} (any member)\n`
    );
  }
  return (
    `  ${step.approvals} of ${step.threshold} approvals so far\n` +
    `  other members: shafaf roles approve --proposal ${step.proposalId} ${tail}\n`
  );
}

function formatList(view: GovernanceView): string {
  const lines = [
    `ledger    ${view.addresses.ledger}`,
    `timelock  ${view.addresses.timelock} (delay ${view.minDelaySeconds} s)`,
    `council   ${view.addresses.council}: ${view.threshold} of ${view.members.length} approvals`,
    ...view.members.map((m) => `  member  ${m}`),
  ];
  if (view.proposals.length === 0) lines.push("no proposals");
  for (const p of view.proposals) {
    const ready =
      p.readyAt === undefined
        ? ""
        : `, executable from ${new Date(p.readyAt * 1000).toISOString()}`;
    lines.push(
      `#${p.proposalId} ${p.state}: ${p.approvals} of ${p.threshold} approvals${ready} — ${p.description}`,
    );
    for (const c of p.calls) lines.push(`    ${c.call} on ${c.target}`);
    lines.push(`    approved by ${p.approvedBy.join(", ") || "(nobody in the current council)"}`);
  }
  return lines.join("\n") + "\n";
}

function toJson(view: GovernanceView): unknown {
  return JSON.parse(
    JSON.stringify(view, (_key, value: unknown) =>
      typeof value === "bigint" ? Number(value) : value,
    ),
  );
}

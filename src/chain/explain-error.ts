/**
 * The one place where what a node or ethers says about a failed transaction becomes a plain
 * sentence and what to do. ethers v6 reports a node's refusal it cannot classify as "could not
 * coalesce error" and hides the node's own words (e.g. Hardhat's "Sender doesn't have enough
 * funds to send tx") three levels deep; Besu says "Upfront cost exceeds account balance". Both
 * become {@link InsufficientFundsError}, with the account and the command that fixes it.
 *
 * Classified by what the caller should do: fund the account, stop the other process using it,
 * wait for the pending transaction, or read the contract's reason (a custom error decoded by name
 * from the ABI, with its arguments).
 *
 * MUST NOT put secrets or personal data in a message: the texts below carry only addresses,
 * chain ids, wei amounts and contract error arguments, none of which is personal.
 */
import { Interface, id } from "ethers";
import { ShafafError, type ShafafErrorOptions } from "../core/errors.ts";
import { DEV_CHAIN_ID } from "./signer.ts";
import { COUNCIL_ABI } from "../core/council-abi.ts";
import { LEDGER_ABI } from "../core/ledger-abi.ts";
import { TIMELOCK_ABI } from "../core/timelock-abi.ts";

/** Every custom error the project's contracts declare (ITransparencyLedger, the council, OpenZeppelin's). */
const CONTRACT_ERRORS = [
  ...LEDGER_ABI.filter((f) => f.type === "error"),
  ...COUNCIL_ABI.filter((f) => f.type === "error"),
  ...TIMELOCK_ABI.filter((f) => f.type === "error"),
  "error EnforcedPause()",
  "error ExpectedPause()",
] as const;

const contractErrors = new Interface(CONTRACT_ERRORS);

/** What a caller knows about the failed transaction, for the advice. */
export interface ExplainContext {
  /** The signing account. */
  account?: string | undefined;
  chainId?: number | undefined;
  /** The RPC URL as the user typed it (for the `shafaf dev fund` command line). */
  rpcUrl?: string | undefined;
  /** What was being done, e.g. "deploying the ledger" (starts the message). */
  action?: string | undefined;
  /** Advice for particular contract errors, by name (overrides the generic one). */
  hints?: Readonly<Record<string, string>> | undefined;
}

/** A transaction the node or the contract refused. `code` says which kind (`chain.tx.*`). */
export class ChainTransactionError extends ShafafError {
  override name = "ChainTransactionError";
  constructor(shortMessage: string, options: ShafafErrorOptions & { code: string }) {
    super(shortMessage, options);
  }
}

/** The account cannot pay for gas (or value). Fund it; retrying as is never helps. */
export class InsufficientFundsError extends ChainTransactionError {
  override name = "InsufficientFundsError";
}

/** The nonce was already used: another process (or wallet) sent from the same account. */
export class NonceTooLowError extends ChainTransactionError {
  override name = "NonceTooLowError";
}

/** A transaction with the same nonce is pending and this one does not pay enough more to replace it. */
export class ReplacementUnderpricedError extends ChainTransactionError {
  override name = "ReplacementUnderpricedError";
}

/** The contract reverted; `errorName` and `args` are its custom error, when it is one of ours. */
export class ContractRefusedError extends ChainTransactionError {
  override name = "ContractRefusedError";
  readonly errorName: string | undefined;
  readonly args: readonly unknown[];
  constructor(
    shortMessage: string,
    options: ShafafErrorOptions & { code: string; errorName?: string; args?: readonly unknown[] },
  ) {
    super(shortMessage, options);
    this.errorName = options.errorName;
    this.args = options.args ?? [];
  }
}

/** The messages a node gives, innermost first, found under `error`, `info`, `cause`, `data`. */
function nodeMessages(error: unknown, out: string[] = [], depth = 0): string[] {
  if (error === null || typeof error !== "object" || depth > 6) return out;
  const e = error as Record<string, unknown>;
  for (const key of ["error", "info", "cause", "data"]) nodeMessages(e[key], out, depth + 1);
  for (const key of ["message", "shortMessage", "reason"]) {
    const m = e[key];
    if (typeof m === "string" && m !== "" && !out.includes(m)) out.push(m);
  }
  return out;
}

/** Revert data (`0x` + selector …) anywhere in an ethers or JSON-RPC error. */
export function findRevertData(error: unknown, depth = 0): string | undefined {
  if (error === null || typeof error !== "object" || depth > 6) return undefined;
  const e = error as Record<string, unknown>;
  if (typeof e.data === "string" && /^0x[0-9a-fA-F]{8}/.test(e.data)) return e.data;
  for (const key of ["error", "cause", "info", "data", "revert"]) {
    const found = findRevertData(e[key], depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Decodes revert data into one of the project's contracts' custom errors. */
export function decodeContractError(data: string): { name: string; args: unknown[] } | undefined {
  try {
    const parsed = contractErrors.parseError(data);
    return parsed === null ? undefined : { name: parsed.name, args: [...parsed.args] };
  } catch {
    return undefined;
  }
}

const ROLE_NAMES: Record<string, string> = {
  "0x0000000000000000000000000000000000000000000000000000000000000000": "DEFAULT_ADMIN_ROLE",
};
for (const role of ["ANCHORER_ROLE", "AUDITOR_ROLE", "PAUSER_ROLE", "VRF_KEY_ROLE", "LOG_ROLE"])
  ROLE_NAMES[id(role)] = role;

const GENERIC_HINTS: Record<string, (args: readonly unknown[]) => string> = {
  AccessControlUnauthorizedAccount: (a) =>
    `the account ${String(a[0])} lacks ${ROLE_NAMES[String(a[1]).toLowerCase()] ?? String(a[1])}: ` +
    "have the ledger's admin grant it (`shafaf deploy --anchorer/--auditor ADDR` at deployment, or `shafaf roles`), or sign with an account that has it",
  LedgerEnforcedPause: () => "the ledger is paused; it resumes when governance unpauses it",
  EnforcedPause: () => "the ledger is paused; it resumes when governance unpauses it",
  LedgerDuplicateRoot: (a) => `this exact tree was already anchored as batch ${String(a[1])}`,
  LedgerDuplicateIdempotencyKey: (a) =>
    `this batch was already anchored as batch ${String(a[1])}; run the same anchor command again to finish its receipts`,
  LedgerUnknownBatch: (a) => `batch ${String(a[0])} does not exist on this contract`,
  LedgerSupersedeMismatch: () =>
    "a correction must have the kind and period of the batch it supersedes",
  LedgerAlreadySuperseded: (a) =>
    `batch ${String(a[0])} was already corrected by batch ${String(a[1])}; supersede that one instead`,
  LedgerInvalidPeriod: () => "the period must be a Jalali YYYYMM with year >= 1300",
};

/** How to get gas money for `account` on this chain. */
export function fundingAdvice(context: ExplainContext): string {
  const who = context.account ?? "the signing account";
  if (context.chainId === DEV_CHAIN_ID) {
    const rpc = context.rpcUrl ?? "http://127.0.0.1:8545";
    return `on the development chain, fund it: shafaf dev fund --rpc ${rpc} --to ${who} (then run the same command again)`;
  }
  return `ask the chain's operator to send gas money (ETH) to ${who}${context.chainId !== undefined ? ` on chain ${context.chainId}` : ""}, then run the same command again`;
}

/**
 * Turns a failed send, estimate or call into a {@link ChainTransactionError} with a plain message
 * and what to do; returns `error` unchanged when it is already a `ShafafError` or not about a
 * transaction. A node refusal of no known kind still shows the node's own words, never "could
 * not coalesce error".
 *
 * @example
 * try { await deployLedger(…) } catch (e) { throw explainChainError(e, { account, chainId, rpcUrl }) }
 */
export function explainChainError(error: unknown, context: ExplainContext = {}): unknown {
  if (error instanceof ShafafError) return error;
  const doing = context.action === undefined ? "" : `${context.action}: `;
  const messages = nodeMessages(error);
  const all = messages.join("\n");
  const ethersCode = (error as { code?: unknown } | null)?.code;
  const who = context.account ?? "the signing account";

  if (
    ethersCode === "INSUFFICIENT_FUNDS" ||
    /insufficient funds|enough funds|upfront cost exceeds|exceeds (the )?(account )?balance/i.test(
      all,
    )
  ) {
    const node = messages.find((m) => /funds|balance|upfront/i.test(m));
    return new InsufficientFundsError(
      `${doing}the account ${who} has not enough ETH to pay for gas`,
      {
        details: [fundingAdvice(context), node === undefined ? undefined : `the node said: ${node}`]
          .filter((x) => x !== undefined)
          .join("\n"),
        code: "chain.tx.insufficient-funds",
        cause: error,
      },
    );
  }
  if (
    ethersCode === "NONCE_EXPIRED" ||
    /nonce too low|nonce has already been used|nonce.*already/i.test(all)
  ) {
    return new NonceTooLowError(
      `${doing}the account ${who} already used this transaction's nonce`,
      {
        details:
          "another process or wallet sends from the same account at the same time: give each process its own account (shafaf keys new), wait for the other to finish, then run the same command again",
        code: "chain.tx.nonce-too-low",
        cause: error,
      },
    );
  }
  if (
    ethersCode === "REPLACEMENT_UNDERPRICED" ||
    /replacement (transaction )?underpriced/i.test(all)
  ) {
    return new ReplacementUnderpricedError(
      `${doing}a transaction of ${who} with the same nonce is still pending, and this one does not pay enough to replace it`,
      {
        details:
          "wait until the pending transaction is mined (shafaf jobs show JOB --rpc URL says whether it is), then run the same command again",
        code: "chain.tx.replacement-underpriced",
        cause: error,
      },
    );
  }
  const data = findRevertData(error);
  const reverted = data !== undefined || ethersCode === "CALL_EXCEPTION" || /revert/i.test(all);
  if (reverted) {
    const decoded = data === undefined ? undefined : decodeContractError(data);
    if (decoded !== undefined) {
      const hint =
        context.hints?.[decoded.name] ?? GENERIC_HINTS[decoded.name]?.(decoded.args) ?? "";
      return new ContractRefusedError(
        `${doing}the contract refused: ${decoded.name}(${decoded.args.map(String).join(", ")})`,
        {
          ...(hint !== "" ? { details: hint } : {}),
          code: `chain.tx.revert.${decoded.name}`,
          errorName: decoded.name,
          args: decoded.args,
          cause: error,
        },
      );
    }
    return new ContractRefusedError(`${doing}the contract refused the transaction`, {
      details: `no known custom error in the revert data (${data ?? "none"}); check --contract names a Shafaf ledger`,
      code: "chain.tx.revert",
      cause: error,
    });
  }
  if (ethersCode === "UNKNOWN_ERROR" || /could not coalesce/i.test(all)) {
    const node = messages.find((m) => !/could not coalesce/i.test(m));
    return new ChainTransactionError(`${doing}the node refused the transaction`, {
      details: node === undefined ? "the node gave no reason" : `the node said: ${node}`,
      code: "chain.tx.refused",
      cause: error,
    });
  }
  return error;
}

/**
 * The one error hierarchy of Shafaf (STYLE.md habit 7). Every error says what went wrong
 * (`shortMessage`), where and how to fix it (`details`), and whether retrying can help
 * (`retryable`). Messages MUST NOT contain personal data or secrets: callers mask values first.
 */
export interface ShafafErrorOptions {
  /** Where and how to fix it: file:line:field, the rule, a hint. */
  details?: string;
  cause?: unknown;
  /** True when the same call may succeed later (an RPC hiccup); false for bad input or broken invariants. */
  retryable?: boolean;
  /** A stable machine-readable code, e.g. `"core.money.decimal"`. */
  code?: string;
}

/**
 * Base of every error thrown by Shafaf modules.
 *
 * @example
 * throw new ShafafError("amount has a decimal point", { details: "row 4: field total", code: "core.money.decimal" });
 */
export class ShafafError extends Error {
  override name = "ShafafError";
  readonly shortMessage: string;
  readonly details: string | undefined;
  readonly retryable: boolean;
  readonly code: string;

  constructor(shortMessage: string, options: ShafafErrorOptions = {}) {
    super(
      options.details === undefined ? shortMessage : `${shortMessage}\n${options.details}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.shortMessage = shortMessage;
    this.details = options.details;
    this.retryable = options.retryable ?? false;
    this.code = options.code ?? "shafaf";
  }
}

/** Bad input: the caller must fix the data; retrying never helps. */
export class InvalidInputError extends ShafafError {
  override name = "InvalidInputError";
  /** The input field (CSV column name or parameter name) that is wrong. */
  readonly field: string | undefined;
  /** The rule it breaks, e.g. `"national-id.checksum"`. */
  readonly rule: string | undefined;

  constructor(
    shortMessage: string,
    options: ShafafErrorOptions & { field?: string; rule?: string } = {},
  ) {
    super(shortMessage, { ...options, retryable: false });
    this.field = options.field;
    this.rule = options.rule;
  }
}

/** A broken internal invariant or a corrupt file: not the caller's input, not retryable. */
export class InvariantError extends ShafafError {
  override name = "InvariantError";
  constructor(shortMessage: string, options: ShafafErrorOptions = {}) {
    super(shortMessage, { ...options, retryable: false });
  }
}

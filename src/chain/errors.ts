/**
 * The chain's branch of Shafaf's one error hierarchy (`src/core/errors.ts`) for everything that talks to a chain, classified by what the caller should
 * do: `retryable` errors (a node hiccup, a timeout, a reorg in progress) may succeed if tried
 * again; the others (bad input, a different chain, a broken invariant) will not.
 *
 * MUST NOT: put secrets (keys, RPC credentials in URLs) or personal data in any message. URLs are
 * shown through {@link redactUrl}.
 */

import { ShafafError, type ShafafErrorOptions } from "../core/errors.ts";

export { ShafafError };
export type { ShafafErrorOptions };

/** The HTTP exchange failed: connection refused or reset, HTTP 429 / 5xx, unreadable body. Retryable. */
export class RpcTransportError extends ShafafError {
  override name = "RpcTransportError";
  readonly status: number | undefined;
  constructor(shortMessage: string, options: ShafafErrorOptions & { status?: number } = {}) {
    super(shortMessage, { retryable: true, code: "chain.rpc.transport", ...options });
    this.status = options.status;
  }
}

/** No answer within the timeout. Retryable. */
export class RpcTimeoutError extends RpcTransportError {
  override name = "RpcTimeoutError";
}

/** The node answered with a JSON-RPC error object. */
export class RpcResponseError extends ShafafError {
  override name = "RpcResponseError";
  /** The JSON-RPC error code (e.g. -32005). */
  readonly rpcCode: number;
  readonly data: unknown;
  constructor(
    method: string,
    error: { code: number; message: string; data?: unknown },
    options: ShafafErrorOptions = {},
  ) {
    super(`${method} failed: ${error.message} (code ${error.code})`, {
      retryable: isRetryableRpcError(error),
      code: "chain.rpc.response",
      ...options,
    });
    this.rpcCode = error.code;
    this.data = error.data;
  }
}

/** The node refused an `eth_getLogs` range as too large or as returning too many results. */
export class LogRangeTooLargeError extends ShafafError {
  override name = "LogRangeTooLargeError";
  constructor(shortMessage: string, options: ShafafErrorOptions = {}) {
    super(shortMessage, { code: "chain.logs.range-too-large", ...options });
  }
}

/** What the node returned contradicts itself or what we hold (e.g. a log whose block hash is not the block's). */
export class ChainDataError extends ShafafError {
  override name = "ChainDataError";
  constructor(shortMessage: string, options: ShafafErrorOptions = {}) {
    super(shortMessage, { code: "chain.data", ...options });
  }
}

/** The node serves a different chain than the one indexed, or the contract is not where it was. Not retryable. */
export class ChainMismatchError extends ShafafError {
  override name = "ChainMismatchError";
  constructor(shortMessage: string, options: ShafafErrorOptions = {}) {
    super(shortMessage, { code: "chain.mismatch", ...options });
  }
}

/** A reorganization deeper than the blocks kept for rollback. Not retryable: reindex. */
export class ReorgTooDeepError extends ShafafError {
  override name = "ReorgTooDeepError";
  constructor(shortMessage: string, options: ShafafErrorOptions = {}) {
    super(shortMessage, { code: "chain.reorg-too-deep", ...options });
  }
}

/** Operation cancelled by its caller (e.g. the indexer is stopping). */
export class AbortedError extends ShafafError {
  override name = "AbortedError";
  constructor(shortMessage: string, options: ShafafErrorOptions = {}) {
    super(shortMessage, { code: "chain.aborted", ...options });
  }
}

const RETRYABLE_CODES = new Set([
  -32603, // internal error (Besu and Hardhat report transient failures this way)
  -32002, // resource unavailable
  429,
]);
const RETRYABLE_MESSAGE =
  /timeout|timed out|rate limit|too many requests|try again|temporarily|busy|header not found|unknown block|not synced|connection/i;
const RANGE_MESSAGE =
  /range|too many|more than \d+ (?:results|logs)|response size|max(?:imum)? (?:results|logs|block)|limit exceeded|exceeds? .*limit|block count|query timeout/i;

/** Whether a JSON-RPC error object names a transient condition. Range-limit errors are not: change the request. */
export function isRetryableRpcError(error: { code: number; message: string }): boolean {
  if (RANGE_MESSAGE.test(error.message) && !/rate limit/i.test(error.message)) return false;
  return RETRYABLE_CODES.has(error.code) || RETRYABLE_MESSAGE.test(error.message);
}

/** Whether a node's error means "this eth_getLogs range is too large; ask for less". */
export function isLogRangeError(error: unknown): boolean {
  if (error instanceof LogRangeTooLargeError) return true;
  if (error instanceof RpcResponseError) {
    return RANGE_MESSAGE.test(error.shortMessage) && !/rate limit/i.test(error.shortMessage);
  }
  // some providers answer an over-large range with HTTP 413 or a body-size error
  return error instanceof RpcTransportError && error.status === 413;
}

export function isRetryable(error: unknown): boolean {
  return error instanceof ShafafError && error.retryable;
}

/** `https://user:secret@host/path/KEY?x=y` → `https://host/…`: never show credentials or API keys. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    const path = u.pathname.length > 1 || u.search !== "" ? "/…" : "";
    return `${u.protocol}//${u.host}${path}`;
  } catch {
    return "(invalid URL)";
  }
}

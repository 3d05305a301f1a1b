/**
 * Plain-`fetch` JSON-RPC client: one request per call, a timeout per attempt, retries with
 * exponential backoff and jitter for retryable failures only, and fail-over across several URLs.
 * (ethers' transport is an order of magnitude slower on large `eth_getLogs` answers: MEASURED.md.)
 */
import {
  AbortedError,
  isLogRangeError,
  isRetryable,
  redactUrl,
  RpcResponseError,
  RpcTimeoutError,
  RpcTransportError,
  ShafafError,
} from "./errors.ts";

export interface Rpc {
  /** The endpoints, redacted for display (no credentials or path keys). */
  readonly endpoints: readonly string[];
  /**
   * Sends `method(params)` and returns its `result`. Retries retryable failures (transport
   * errors, timeouts, transient JSON-RPC errors) up to `retries` times, moving to the next URL
   * each time; throws the last error otherwise.
   */
  request<T = unknown>(
    method: string,
    params?: readonly unknown[],
    options?: RequestOptions,
  ): Promise<T>;
}

export interface RequestOptions {
  /** Cancels the call (and its backoff waits) with an {@link AbortedError}. */
  signal?: AbortSignal;
  /** Overrides the client's retries for this call (0: one attempt). */
  retries?: number;
}

export interface CreateRpcOptions {
  /** One endpoint… */
  url?: string;
  /** …or several, tried in turn when one fails. */
  urls?: readonly string[];
  /** Extra attempts after the first for retryable failures (default 4). */
  retries?: number;
  /** Per-attempt timeout (default 30 s). */
  timeoutMs?: number;
  /** First backoff delay (default 200 ms); doubles per attempt, capped at `maxBackoffMs` (default 5 s). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Injected for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Deterministic jitter in tests; defaults to Math.random. */
  random?: () => number;
}

/**
 * @example
 * const rpc = createRpc({ url: "http://127.0.0.1:8545" });
 * const head = BigInt(await rpc.request<string>("eth_blockNumber"));
 */
export function createRpc(options: CreateRpcOptions): Rpc {
  const urls = [...(options.urls ?? []), ...(options.url === undefined ? [] : [options.url])];
  if (urls.length === 0) throw new ShafafError("createRpc needs a url or urls");
  for (const url of urls) {
    let protocol: string;
    try {
      protocol = new URL(url).protocol;
    } catch {
      throw new ShafafError(`not a URL: ${redactUrl(url)}`, {
        details: "Give the node's JSON-RPC endpoint, e.g. --rpc http://127.0.0.1:8545",
      });
    }
    if (protocol !== "http:" && protocol !== "https:") {
      throw new ShafafError(`unsupported RPC URL scheme ${protocol} (${redactUrl(url)})`, {
        details: "Use the node's HTTP JSON-RPC endpoint (http:// or https://).",
      });
    }
  }
  const retries = options.retries ?? 4;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const backoffMs = options.backoffMs ?? 200;
  const maxBackoffMs = options.maxBackoffMs ?? 5_000;
  const doFetch = options.fetch ?? fetch;
  const random = options.random ?? Math.random;
  let nextId = 1;
  let current = 0;
  /** fetch refuses URLs with credentials: send them as HTTP Basic auth instead. */
  const targets = urls.map((url) => {
    const u = new URL(url);
    const headers: Record<string, string> = {
      "content-type": "application/json",
      accept: "application/json",
    };
    if (u.username !== "" || u.password !== "") {
      const user = decodeURIComponent(u.username);
      const pass = decodeURIComponent(u.password);
      headers.authorization = "Basic " + Buffer.from(`${user}:${pass}`).toString("base64");
      u.username = "";
      u.password = "";
    }
    return { url, fetchUrl: u.toString(), headers };
  });

  async function attempt(
    url: string,
    method: string,
    params: readonly unknown[],
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    const id = nextId++;
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
    const where = `${method} at ${redactUrl(url)}`;
    let text: string;
    let status: number;
    try {
      const target = targets.find((t) => t.url === url)!;
      const res = await doFetch(target.fetchUrl, {
        method: "POST",
        headers: target.headers,
        body: JSON.stringify({ jsonrpc: "2.0", id, method, params }),
        signal: combined,
      });
      status = res.status;
      text = await res.text();
    } catch (error) {
      if (signal?.aborted === true)
        throw new AbortedError(`${where} was cancelled`, { cause: error });
      if (timeout.aborted) {
        throw new RpcTimeoutError(`${where} timed out after ${timeoutMs} ms`, { cause: error });
      }
      throw new RpcTransportError(`${where}: ${scrub(describeFetchError(error), url)}`);
    }
    if (status !== 200) {
      const retryable = status === 429 || status >= 500;
      // Besu and others also answer JSON-RPC errors with HTTP 400 and a JSON body
      const body = tryParse(text);
      if (isRpcEnvelope(body) && body.error !== undefined) {
        throw new RpcResponseError(method, body.error, {
          details: `HTTP ${status} from ${redactUrl(url)}`,
        });
      }
      throw new RpcTransportError(`${where}: HTTP ${status}`, {
        status,
        retryable,
        details: text.slice(0, 200),
      });
    }
    const body = tryParse(text);
    if (!isRpcEnvelope(body)) {
      throw new RpcTransportError(`${where}: the answer is not a JSON-RPC response`, {
        details: text.slice(0, 200),
      });
    }
    if (body.id !== id) {
      throw new RpcTransportError(
        `${where}: the answer is for request ${String(body.id)}, not ${id}`,
      );
    }
    if (body.error !== undefined) throw new RpcResponseError(method, body.error);
    if (!("result" in body)) {
      throw new RpcTransportError(`${where}: the answer has neither result nor error`);
    }
    return body.result;
  }

  return {
    endpoints: urls.map(redactUrl),
    async request<T>(method: string, params: readonly unknown[] = [], opts: RequestOptions = {}) {
      const maxAttempts = 1 + (opts.retries ?? retries);
      let lastError: unknown;
      for (let n = 0; n < maxAttempts; n++) {
        if (opts.signal?.aborted === true) throw new AbortedError(`${method} was cancelled`);
        const url = urls[current % urls.length]!;
        try {
          return (await attempt(url, method, params, opts.signal)) as T;
        } catch (error) {
          lastError = error;
          if (!isRetryable(error) || isLogRangeError(error) || n === maxAttempts - 1) throw error;
          current++; // fail over to the next endpoint, if any
          const cap = Math.min(maxBackoffMs, backoffMs * 2 ** n);
          await sleep(cap / 2 + random() * (cap / 2), opts.signal); // "equal jitter"
        }
      }
      throw lastError;
    },
  };
}

interface RpcEnvelope {
  id?: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

function tryParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isRpcEnvelope(x: unknown): x is RpcEnvelope {
  if (typeof x !== "object" || x === null || Array.isArray(x)) return false;
  const e = (x as { error?: unknown }).error;
  if (e === undefined) return true;
  return (
    typeof e === "object" &&
    e !== null &&
    typeof (e as { code?: unknown }).code === "number" &&
    typeof (e as { message?: unknown }).message === "string"
  );
}

/** Removes the URL (which may carry keys) from a message of the HTTP stack. */
function scrub(message: string, url: string): string {
  const u = new URL(url);
  let out = message.split(url).join(redactUrl(url));
  for (const secret of [
    u.username,
    u.password,
    u.pathname.length > 1 ? u.pathname : "",
    u.search,
  ]) {
    if (secret !== "") out = out.split(secret).join("…");
  }
  return out;
}

function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) return reject(new AbortedError("cancelled"));
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new AbortedError("cancelled"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** `0x`-hex quantity for JSON-RPC (Besu rejects decimal block numbers). */
export function toQuantity(n: number | bigint): string {
  if (typeof n === "number" && (!Number.isSafeInteger(n) || n < 0)) {
    throw new ShafafError(`not a block number: ${n}`);
  }
  return "0x" + BigInt(n).toString(16);
}

/** Parses a JSON-RPC quantity (`0x…`) into a safe integer. */
export function fromQuantity(q: unknown, what = "quantity"): number {
  if (typeof q !== "string" || !/^0x[0-9a-fA-F]{1,16}$/.test(q)) {
    throw new RpcTransportError(`the node returned a malformed ${what}: ${JSON.stringify(q)}`, {
      retryable: false,
    });
  }
  const n = Number.parseInt(q.slice(2), 16);
  if (!Number.isSafeInteger(n))
    throw new RpcTransportError(`${what} ${q} is too large`, { retryable: false });
  return n;
}

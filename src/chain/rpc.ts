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
  /**
   * Sends `calls` as JSON-RPC batches (one HTTP request per {@link MAX_BATCH} calls) and returns
   * their results in order; retries like `request` and throws the first failed call's error. A
   * node that does not answer a batch with a list is asked call by call from then on. Optional:
   * use {@link requestAll}, which asks call by call when a client lacks it.
   */
  requestBatch?<T = unknown>(calls: readonly RpcCall[], options?: RequestOptions): Promise<T[]>;
}

export interface RpcCall {
  method: string;
  params?: readonly unknown[];
}

/** Calls per JSON-RPC batch (Besu's default limit is 1,024). */
export const MAX_BATCH = 100;

/**
 * Calls in flight at once when a node takes no batches and {@link Rpc.requestBatch} asks call by
 * call (as `getBlockHeaders` did before batches: a range may hold thousands of blocks with logs,
 * and a node caps its connections — Besu's `--rpc-http-max-active-connections`, default 80).
 */
export const ONE_BY_ONE_CONCURRENCY = 8;

/**
 * The results of `calls`, in order: one JSON-RPC batch when `rpc` offers it, else the calls
 * concurrently.
 *
 * @example
 * const [a, b] = await requestAll<string>(rpc, [{ method: "eth_chainId" }, { method: "eth_blockNumber" }]);
 */
export function requestAll<T = unknown>(
  rpc: Rpc,
  calls: readonly RpcCall[],
  options: RequestOptions = {},
): Promise<T[]> {
  if (rpc.requestBatch !== undefined) return rpc.requestBatch<T>(calls, options);
  return Promise.all(calls.map((c) => rpc.request<T>(c.method, c.params ?? [], options)));
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

  /** One POST of `body` to `url` within the timeout; transport failures classified (`where` names it). */
  async function post(
    url: string,
    body: string,
    where: string,
    signal: AbortSignal | undefined,
  ): Promise<{ status: number; text: string }> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
    try {
      const target = targets.find((t) => t.url === url)!;
      const res = await doFetch(target.fetchUrl, {
        method: "POST",
        headers: target.headers,
        body,
        signal: combined,
      });
      return { status: res.status, text: await res.text() };
    } catch (error) {
      if (signal?.aborted === true)
        throw new AbortedError(`${where} was cancelled`, { cause: error });
      if (timeout.aborted) {
        throw new RpcTimeoutError(`${where} timed out after ${timeoutMs} ms`, { cause: error });
      }
      throw new RpcTransportError(`${where}: ${scrub(describeFetchError(error), url)}`);
    }
  }

  async function attempt(
    url: string,
    method: string,
    params: readonly unknown[],
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    const id = nextId++;
    const where = `${method} at ${redactUrl(url)}`;
    const { status, text } = await post(
      url,
      JSON.stringify({ jsonrpc: "2.0", id, method, params }),
      where,
      signal,
    );
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

  /**
   * One HTTP request carrying `calls`; their results in order. Throws {@link BatchRefused} when
   * the node does not answer with a list (it does not take batches).
   */
  async function attemptBatch(
    url: string,
    calls: readonly RpcCall[],
    signal: AbortSignal | undefined,
  ): Promise<unknown[]> {
    const ids = calls.map(() => nextId++);
    const where = `a batch of ${calls.length} (${calls[0]!.method}, …) at ${redactUrl(url)}`;
    const { status, text } = await post(
      url,
      JSON.stringify(
        calls.map((c, i) => ({
          jsonrpc: "2.0",
          id: ids[i],
          method: c.method,
          params: c.params ?? [],
        })),
      ),
      where,
      signal,
    );
    if (status === 429 || status >= 500) {
      throw new RpcTransportError(`${where}: HTTP ${status}`, {
        status,
        retryable: true,
        details: text.slice(0, 200),
      });
    }
    const body = tryParse(text);
    if (status !== 200 || !Array.isArray(body)) throw new BatchRefused();
    const byId = new Map<unknown, RpcEnvelope>();
    for (const e of body as unknown[]) if (isRpcEnvelope(e)) byId.set(e.id, e);
    return calls.map((c, i) => {
      const e = byId.get(ids[i]);
      if (e === undefined) {
        throw new RpcTransportError(`${where}: the answer lacks call ${i} (${c.method})`);
      }
      if (e.error !== undefined) throw new RpcResponseError(c.method, e.error);
      if (!("result" in e)) {
        throw new RpcTransportError(`${where}: call ${i} has neither result nor error`);
      }
      return e.result;
    });
  }

  /** Runs `once` on the current endpoint, retrying retryable failures with backoff and fail-over. */
  async function withRetries<T>(
    what: string,
    opts: RequestOptions,
    once: (url: string) => Promise<T>,
  ): Promise<T> {
    const maxAttempts = 1 + (opts.retries ?? retries);
    let lastError: unknown;
    for (let n = 0; n < maxAttempts; n++) {
      if (opts.signal?.aborted === true) throw new AbortedError(`${what} was cancelled`);
      const url = urls[current % urls.length]!;
      try {
        return await once(url);
      } catch (error) {
        lastError = error;
        if (!isRetryable(error) || isLogRangeError(error) || n === maxAttempts - 1) throw error;
        current++; // fail over to the next endpoint, if any
        const cap = Math.min(maxBackoffMs, backoffMs * 2 ** n);
        await sleep(cap / 2 + random() * (cap / 2), opts.signal); // "equal jitter"
      }
    }
    throw lastError;
  }

  /** Whether the nodes answer batches (unknown until the first one). */
  let batches = true;

  /**
   * Runs `call` when fewer than {@link ONE_BY_ONE_CONCURRENCY} calls of `requestBatch` asked one
   * by one are in flight (shared by every `requestBatch` of this client), else once one ends.
   */
  let inFlight = 0;
  const waiting: (() => void)[] = [];
  async function oneCall<T>(call: () => Promise<T>): Promise<T> {
    if (inFlight >= ONE_BY_ONE_CONCURRENCY) await new Promise<void>((go) => waiting.push(go));
    else inFlight++;
    try {
      return await call();
    } finally {
      const next = waiting.shift();
      if (next !== undefined)
        next(); // the slot passes to the next call
      else inFlight--;
    }
  }

  const rpc: Rpc = {
    endpoints: urls.map(redactUrl),
    async request<T>(method: string, params: readonly unknown[] = [], opts: RequestOptions = {}) {
      return (await withRetries(method, opts, (url) =>
        attempt(url, method, params, opts.signal),
      )) as T;
    },
    async requestBatch<T>(calls: readonly RpcCall[], opts: RequestOptions = {}) {
      if (calls.length === 0) return [];
      const chunks: RpcCall[][] = [];
      for (let i = 0; i < calls.length; i += MAX_BATCH) chunks.push(calls.slice(i, i + MAX_BATCH));
      const oneByOne = (chunk: readonly RpcCall[]) =>
        Promise.all(chunk.map((c) => oneCall(() => rpc.request(c.method, c.params ?? [], opts))));
      const results = await Promise.all(
        chunks.map(async (chunk) => {
          if (!batches || chunk.length === 1) return oneByOne(chunk);
          try {
            return await withRetries(`a batch of ${chunk[0]!.method}`, opts, (url) =>
              attemptBatch(url, chunk, opts.signal),
            );
          } catch (error) {
            if (!(error instanceof BatchRefused)) throw error;
            batches = false; // this node takes one call per request
            return oneByOne(chunk);
          }
        }),
      );
      return results.flat() as T[];
    },
  };
  return rpc;
}

/** A node answered a JSON-RPC batch with something other than a list: it takes no batches. */
class BatchRefused extends ShafafError {
  constructor() {
    super("the node does not answer JSON-RPC batches", { code: "chain.rpc.no-batch" });
  }
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

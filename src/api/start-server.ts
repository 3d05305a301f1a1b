import { createServer, STATUS_CODES, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { ShafafApi } from "./create-app.ts";
import { PROBLEM_TYPES, problemType, type ProblemSlug } from "./problem.ts";

export interface StartServerOptions {
  api: ShafafApi;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Longest wait for in-flight requests on close before their connections are cut (default 10 s). */
  graceMs?: number;
  /** Runs after the last request has finished (close the stores here). */
  onClosed?: () => Promise<void>;
  /** A request (headers and body) must arrive in full within this time, else 408 (default 30 s). */
  requestTimeoutMs?: number;
  /** The headers must arrive within this time, else 408 (default 10 s). */
  headersTimeoutMs?: number;
}

export interface RunningServer {
  /** `http://host:port`. */
  readonly url: string;
  readonly server: Server;
  /** Requests being served right now. */
  readonly inFlight: number;
  /**
   * Graceful shutdown: stop accepting connections, answer new requests on open connections with
   * 503 and `Connection: close`, let in-flight requests finish (at most `graceMs`), then
   * `onClosed()`. Idempotent: every call returns the same promise.
   */
  close(): Promise<void>;
}

/**
 * Serves `api` over HTTP until `close()`.
 *
 * @example
 * const running = await startServer({ api, port: 0, onClosed: () => stores.close() });
 * console.log(running.url);
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const { api } = options;
  let inFlight = 0;
  let idle: (() => void) | undefined;
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  // Node checks the request and headers timeouts every `connectionsCheckingInterval` (30 s by
  // default), so a slow client could hold a connection up to twice as long: check every second.
  const server = createServer(
    {
      requestTimeout,
      headersTimeout: Math.min(options.headersTimeoutMs ?? 10_000, requestTimeout),
      connectionsCheckingInterval: Math.min(1_000, requestTimeout),
    },
    api.app,
  );
  server.on("clientError", answerClientError);
  server.on("request", (_req, res) => {
    inFlight++;
    res.once("close", () => {
      inFlight--;
      if (inFlight === 0) idle?.();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 8080, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${address.port}`,
    server,
    get inFlight() {
      return inFlight;
    },
    close() {
      closing ??= (async () => {
        api.drain();
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        if (inFlight > 0) {
          await new Promise<void>((resolve) => {
            idle = resolve;
            setTimeout(resolve, options.graceMs ?? 10_000).unref();
          });
        }
        server.closeAllConnections();
        await stopped;
        await options.onClosed?.();
      })();
      return closing;
    },
  };
}

/** Node's parser errors (`err.code`) → the problem the client gets. */
const CLIENT_ERRORS: Record<string, { slug: ProblemSlug; detail: string }> = {
  HPE_HEADER_OVERFLOW: {
    slug: "headers-too-large",
    detail:
      "the request line and headers exceed the server's limit (16 KiB); send fewer or shorter headers",
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    slug: "request-timeout",
    detail: "the request did not arrive in full in time; send it again",
  },
};

/**
 * Answers an error of Node's HTTP parser (malformed request, oversized headers, request timeout)
 * with an RFC 9457 problem, as every other error of the API, then closes the connection. Node
 * raises these before Express sees a request, so Express's error handler cannot. Nothing is
 * written when the connection is gone or a response has already started on it (then it is only
 * closed).
 */
function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  const response = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (
    error.code === "ECONNRESET" ||
    !socket.writable ||
    (response !== undefined && response.headersSent === true)
  ) {
    socket.destroy();
    return;
  }
  const known = CLIENT_ERRORS[error.code ?? ""] ?? {
    slug: "bad-request" as const,
    detail: "the request is not valid HTTP/1.1; check the request line and headers",
  };
  const status = PROBLEM_TYPES[known.slug].status;
  const body = JSON.stringify({
    type: problemType(known.slug),
    title: PROBLEM_TYPES[known.slug].title,
    status,
    detail: known.detail,
  });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      "Content-Type: application/problem+json\r\n" +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      "Cache-Control: no-store\r\n" +
      "X-Content-Type-Options: nosniff\r\n" +
      "Connection: close\r\n\r\n" +
      body,
  );
}

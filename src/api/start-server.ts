import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { ShafafApi } from "./create-app.ts";

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
  const server = createServer(api.app);
  server.on("request", (_req, res) => {
    inFlight++;
    res.once("close", () => {
      inFlight--;
      if (inFlight === 0) idle?.();
    });
  });
  // Slow-loris bounds: a request must arrive in full within 30 s.
  server.requestTimeout = 30_000;
  server.headersTimeout = 20_000;
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

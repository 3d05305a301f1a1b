/**
 * A scripted JSON-RPC node on 127.0.0.1 for tests of the chain client at the HTTP boundary.
 * Nothing listens until `startFakeNode` is called.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type Handler = (
  request: { method: string; params: unknown[]; id: unknown },
  res: ServerResponse,
) => unknown;

/** `handler` returns `{ result }`, `{ error }`, or undefined after answering `res` itself. */
export async function startFakeNode(handler: Handler): Promise<{
  url: string;
  requests: { method: string; params: unknown[] }[];
  close(): Promise<void>;
}> {
  const requests: { method: string; params: unknown[] }[] = [];
  const server = createServer((req, res) => {
    void readBody(req).then(async (text) => {
      const body = JSON.parse(text) as { id: unknown; method: string; params?: unknown[] };
      requests.push({ method: body.method, params: body.params ?? [] });
      const answer = (await handler(
        { method: body.method, params: body.params ?? [], id: body.id },
        res,
      )) as Record<string, unknown> | undefined;
      if (answer === undefined || res.headersSent) return;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ jsonrpc: "2.0", id: body.id, ...answer }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (s += c));
    req.on("end", () => resolve(s));
    req.on("error", reject);
  });
}

export const hash = (n: number, fork = 0): string =>
  "0x" + fork.toString(16).padStart(2, "0") + n.toString(16).padStart(62, "0");

export function block(n: number, fork = 0): Record<string, string> {
  return {
    number: "0x" + n.toString(16),
    hash: hash(n, fork),
    parentHash: n === 0 ? "0x" + "00".repeat(32) : hash(n - 1, fork),
    timestamp: "0x" + (1_700_000_000 + n).toString(16),
  };
}

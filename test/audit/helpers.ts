/**
 * Helpers for the audit tests: a JSON-RPC proxy that alters a real node's answers, and the CLI
 * commands run in this process with their output captured. Nothing here touches a network at
 * import time.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { CliCommand } from "../../src/cli/command.ts";

export interface RpcCall {
  method: string;
  params: unknown[];
}

/** Rewrites a JSON-RPC result (return it unchanged to pass it through). */
export type Alter = (call: RpcCall, result: unknown) => unknown;

export interface RpcProxy {
  url: string;
  close(): Promise<void>;
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    req.on("data", (c: Buffer) => (text += c.toString("utf8")));
    req.on("end", () => resolve(text));
    req.on("error", reject);
  });
}

/** A proxy on 127.0.0.1 in front of `target` that passes every answer through `alter`. */
export async function startRpcProxy(target: string, alter: Alter): Promise<RpcProxy> {
  const server: Server = createServer((req, res) => {
    void (async () => {
      const text = await body(req);
      const request = JSON.parse(text) as { id: unknown; method: string; params?: unknown[] };
      const upstream = await fetch(target, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: text,
      });
      const answer = (await upstream.json()) as { result?: unknown; error?: unknown };
      if (answer.error === undefined)
        answer.result = alter(
          { method: request.method, params: request.params ?? [] },
          answer.result,
        );
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(answer));
    })().catch(() => {
      res.writeHead(502);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface CapturedRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a CLI command's `run` in this process, capturing what it prints. */
export async function runCommand(cmd: CliCommand, argv: readonly string[]): Promise<CapturedRun> {
  let stdout = "";
  let stderr = "";
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = (chunk: string | Uint8Array) => {
    stdout += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    return true;
  };
  process.stderr.write = (chunk: string | Uint8Array) => {
    stderr += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    return true;
  };
  try {
    const code = await cmd.run(argv);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

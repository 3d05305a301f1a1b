import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";

export interface DevChain {
  /** JSON-RPC endpoint on 127.0.0.1. */
  readonly url: string;
  readonly chainId: 31337;
  /** Stops the node; resolves when the process has exited. Idempotent. */
  stop(): Promise<void>;
}

export interface StartDevChainOptions {
  /** Port to bind on 127.0.0.1; 0 (default) picks a free one. */
  port?: number;
  /** Project root holding hardhat.config.ts (default: this repository). */
  cwd?: string;
  /** Milliseconds to wait for the node to listen (default 60 s). */
  timeoutMs?: number;
}

const READY = /Started HTTP and WebSocket JSON-RPC server at (http:\/\/[^\s/]+)\//;
const projectRoot = path.resolve(import.meta.dirname, "../..");

/**
 * Starts the embedded development chain: a Hardhat node (EDR, chain id 31337) in a child
 * process, bound to 127.0.0.1 only. Every start is a fresh chain with a new genesis.
 *
 * @example
 * const chain = await startDevChain();
 * // … use chain.url …
 * await chain.stop();
 */
export async function startDevChain(options: StartDevChainOptions = {}): Promise<DevChain> {
  const cwd = options.cwd ?? projectRoot;
  const require = createRequire(path.join(cwd, "package.json"));
  const hardhatCli = path.join(
    path.dirname(require.resolve("hardhat/package.json")),
    "dist/src/cli.js",
  );
  const child = spawn(
    process.execPath,
    [hardhatCli, "node", "--hostname", "127.0.0.1", "--port", String(options.port ?? 0)],
    {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1" },
    },
  );
  const url = await waitForUrl(child, options.timeoutMs ?? 60_000);
  let stopped: Promise<void> | undefined;
  return {
    url,
    chainId: 31337,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
      });
      return stopped;
    },
  };
}

function waitForUrl(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(
          `the development chain did not start within ${timeoutMs} ms\n${err.slice(-2000)}`,
        ),
      );
    }, timeoutMs);
    const onData = (chunk: Buffer): void => {
      if (out === "\u0000") return; // already resolved: drain and drop the node's request log
      out += chunk.toString("utf8");
      const match = READY.exec(out);
      if (match?.[1] !== undefined) {
        out = "\u0000";
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (chunk: Buffer) => {
      err = (err + chunk.toString("utf8")).slice(-4000);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(
          `the development chain exited before it was ready (code ${code}, signal ${signal})\n${err.slice(-2000)}`,
        ),
      );
    });
  });
}

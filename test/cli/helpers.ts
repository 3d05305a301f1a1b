import { spawn, type ChildProcess } from "node:child_process";
import { constants as osConstants } from "node:os";

export interface Started {
  child: ChildProcess;
  /** Ctrl-C as a terminal sends it: SIGINT to the whole process group (npm, sh, node, the chain). */
  interrupt: () => void;
  /** Ctrl-C, then the exit status (as a shell reports it); the group is killed (and null returned) if it is still up after 60 s. */
  stop: () => Promise<number | null>;
  out: () => string;
  url: string;
  exited: Promise<number | null>;
}

/**
 * Spawns a command that runs `shafaf start` (what `npm start` runs) and waits until it prints the
 * portal's URL and "Ctrl-C stops everything"; rejects with the whole output if it exits first.
 */
export async function startAndWait(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<Started> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
    env: { ...(options.env ?? process.env), FORCE_COLOR: "0" },
  });
  let out = "";
  const tee = process.env["SHAFAF_TEST_TEE"] === "1";
  const onData = (c: Buffer) => {
    out += c.toString("utf8");
    if (tee) process.stderr.write(c);
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  // The status a shell reports: the exit code, or 128 + the signal's number (SIGINT → 130).
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code, signal) =>
      resolve(code ?? (signal === null ? null : 128 + (osConstants.signals[signal] ?? 0))),
    ),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /portal +(http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
      if (m !== null && out.includes("Ctrl-C stops everything")) {
        clearInterval(timer);
        resolve(m[1]!);
      }
    }, 200);
    void exited.then((code) => {
      clearInterval(timer);
      reject(
        new Error(`${command} ${args.join(" ")} exited with ${code} before it was ready:\n${out}`),
      );
    });
  });
  const interrupt = () => {
    try {
      process.kill(-child.pid!, "SIGINT");
    } catch {
      // already gone
    }
  };
  const stop = async (): Promise<number | null> => {
    interrupt();
    const timeout = new Promise<"timeout">((resolve) =>
      setTimeout(() => resolve("timeout"), 60_000).unref(),
    );
    const result = await Promise.race([exited, timeout]);
    if (result !== "timeout") return result;
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
    return null;
  };
  return { child, interrupt, stop, out: () => out, url, exited };
}

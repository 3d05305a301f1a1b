import { spawn, type ChildProcess } from "node:child_process";

export interface Started {
  child: ChildProcess;
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
    env: { ...(options.env ?? process.env), FORCE_COLOR: "0" },
  });
  let out = "";
  child.stdout?.on("data", (c: Buffer) => (out += c.toString("utf8")));
  child.stderr?.on("data", (c: Buffer) => (out += c.toString("utf8")));
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
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
      reject(new Error(`${command} ${args.join(" ")} exited with ${code} before it was ready:\n${out}`));
    });
  });
  return { child, out: () => out, url, exited };
}

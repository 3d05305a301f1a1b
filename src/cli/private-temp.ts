import { accessSync, constants } from "node:fs";
import os from "node:os";

/**
 * Where plain copies of sealed files may live while a command needs them (the demo's exports for
 * its auditor; `shafaf audit` reads sealed files in place and needs none):
 * `/dev/shm` when it is writable (memory, never written to a disk), else the system's temporary
 * folder. Callers make a 0700 folder in it with `mkdtemp` and remove it in `finally`.
 *
 * @example
 * const dir = await mkdtemp(path.join(privateTempRoot(), "shafaf-demo-audit-"));
 */
export function privateTempRoot(): string {
  try {
    accessSync("/dev/shm", constants.W_OK);
    return "/dev/shm";
  } catch {
    return os.tmpdir();
  }
}

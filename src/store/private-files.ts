import { randomBytes } from "node:crypto";
import { chmod, mkdir, open, readdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { sealBytes, type DataKey } from "./private-store.ts";

/** Mode of folders holding personal data: owner only. */
export const PRIVATE_DIR_MODE = 0o700;
/** Mode of files holding personal data: owner read and write only. */
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Creates `dir` if needed and makes it and the regular files directly in it owner-only
 * (0700 / 0600), whatever the process umask was when they were made. Not recursive: callers name
 * each folder that holds personal data. The folder's mode is what protects files created in it
 * later (LevelDB makes new table files as it compacts); `shafaf` also runs with umask 077 so
 * those are 0600 too.
 *
 * @example
 * await makePrivate(path.join(dataDir, "ledger"));
 */
export async function makePrivate(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  await chmod(dir, PRIVATE_DIR_MODE);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    try {
      await chmod(path.join(dir, entry.name), PRIVATE_FILE_MODE);
    } catch (error) {
      // An open LevelDB compacts in the background: a table file listed a moment ago may be
      // gone (nothing left to protect). Anything else is a real failure.
      if ((error as { code?: string }).code !== "ENOENT") throw error;
    }
  }
}

/**
 * THE one way this code base writes a file that holds personal data (a batch's level-0 tiles and
 * its leaf index, batch-tiles-v1.md §5): created new with mode 0600 in a folder made private
 * with {@link makePrivateDir}, written whole and fsync'ed; sealed (`shafaf-encrypted-file/2`,
 * private-store.ts) for `seal.role` when `seal` names the data key, so that every private write
 * of the tiles gets encryption at rest in this one place.
 *
 * @throws the file system's error (EEXIST when the file exists: private files are written once).
 * @example
 * await writePrivateData(path.join(dir, "leaves.bin"), bytes);
 */
export async function writePrivateData(
  file: string,
  data: Uint8Array,
  seal?: { role: string; key: DataKey },
): Promise<void> {
  const fh = await open(file, "wx", PRIVATE_FILE_MODE);
  try {
    await fh.writeFile(seal === undefined ? data : sealBytes(data, seal.key, seal.role));
    await fh.chmod(PRIVATE_FILE_MODE);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Replaces `file` atomically and durably, mode 0600: a temporary file beside it
 * (`.<name>.<random>.tmp`, created new), fsync'ed, renamed over `file`, the folder fsync'ed. A
 * reader sees the old file or the new one, never a torn one; a killed writer leaves at most the
 * temporary file, which its owner's next run removes.
 *
 * @example
 * await replacePrivateFile(path.join(dataDir, "published.json"), text);
 */
export async function replacePrivateFile(file: string, data: Uint8Array | string): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  const fh = await open(tmp, "wx", PRIVATE_FILE_MODE);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (error) {
    await fh.close();
    await rm(tmp, { force: true });
    throw error;
  }
  await fh.close();
  await rename(tmp, file);
  const dh = await open(dir, "r");
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}

/** Creates `dir` (and its parents) owner-only (0700), whatever the umask. */
export async function makePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  await chmod(dir, PRIVATE_DIR_MODE);
}

/**
 * What a monitor remembers between rounds and across restarts (`shafaf-monitor-state/1`, one JSON
 * file written atomically): per log origin the last checkpoint found consistent with every earlier
 * one, per source the last size it served (a source that serves less later has rolled back), and
 * for the chain the next block to read role events from and since when the log lags behind it.
 */
import { readFile } from "node:fs/promises";
import { InvalidInputError } from "../core/errors.ts";
import { writeFileAtomic } from "../log/atomic-file.ts";

export const MONITOR_STATE_FORMAT = "shafaf-monitor-state/1";

export interface MonitorState {
  format: typeof MONITOR_STATE_FORMAT;
  /** Origin → the last consistent checkpoint (the note as served, for evidence). */
  origins: Record<string, { size: number; rootHash: string; note: string; source: string }>;
  /** Source id (`log <url>`, `witness <name>`) and origin → the last size it served. */
  sources: Record<string, { origin: string; size: number }>;
  chain?: {
    contract: string;
    /** First block not yet read for role events. */
    nextBlock: number;
    /** Origin → how many of the log's entries were found equal to the ledger's batches. */
    entriesChecked?: Record<string, number>;
    /** The log's size when it was first seen behind the chain's batch count, and when (POSIX s). */
    behindSince?: { logSize: number; at: number };
  };
}

export function emptyMonitorState(): MonitorState {
  return { format: MONITOR_STATE_FORMAT, origins: {}, sources: {} };
}

/**
 * Reads the state file; a missing file is a fresh state. A file of another format or not JSON is an
 * `InvalidInputError` (the monitor refuses to forget what it saw by overwriting it).
 */
export async function loadMonitorState(file: string): Promise<MonitorState> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return emptyMonitorState();
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  const v = value as Partial<MonitorState> | undefined;
  if (
    v?.format !== MONITOR_STATE_FORMAT ||
    typeof v.origins !== "object" ||
    typeof v.sources !== "object"
  ) {
    throw new InvalidInputError(`${file} is not a ${MONITOR_STATE_FORMAT} state file`, {
      code: "monitor.state",
      details:
        "give --state a file the monitor wrote (or a new path); it is never overwritten when unreadable",
    });
  }
  return v as MonitorState;
}

/** Writes the state durably (temporary file, fsync, rename). */
export async function saveMonitorState(file: string, state: MonitorState): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(state, null, 2) + "\n");
}

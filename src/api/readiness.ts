import type { ChainInfo, IndexReader } from "./app-deps.ts";

/** The index is within `confirmations` blocks of the head it last saw. */
export function isCaughtUp(info: ChainInfo): boolean {
  return info.lastIndexedBlock >= info.headBlock - info.confirmations;
}

/** Ready once the indexer has caught up at least once (a later lag does not unready). */
export interface Readiness {
  /** Notes a fresh chain info; answers whether it is caught up. */
  observe(info: ChainInfo): boolean;
  /** Ready yet? Reads the index once more while not (a read failure is "not ready"). */
  check(): Promise<boolean>;
}

/**
 * @example
 * const readiness = createReadiness(index);
 * if (await readiness.check()) …
 */
export function createReadiness(index: Pick<IndexReader, "getChainInfo">): Readiness {
  let caughtUpOnce = false;
  return {
    observe(info) {
      const caughtUp = isCaughtUp(info);
      if (caughtUp) caughtUpOnce = true;
      return caughtUp;
    },
    async check() {
      if (!caughtUpOnce) {
        try {
          const info = await index.getChainInfo();
          if (info !== undefined && isCaughtUp(info)) caughtUpOnce = true;
        } catch {
          // not ready
        }
      }
      return caughtUpOnce;
    },
  };
}

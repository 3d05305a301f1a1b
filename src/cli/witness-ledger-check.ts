/**
 * What `shafaf witness --rpc … --contract …` asks of the ledger before it cosigns (issue #16:
 * "it can be told to cosign only checkpoints that match the ledger contract at a finalized block").
 */
import { createLedgerClient } from "../chain/ledger-client.ts";
import { createRpc } from "../chain/rpc.ts";
import { bytesToHex } from "../core/hex.ts";

/**
 * The witness's check against the ledger (every node given must answer the same): a log has one
 * entry per anchored batch, so a checkpoint may not have more entries than the ledger has
 * batches at `tag`; and where the ledger recorded the log's checkpoint at this very size
 * (`logCheckpoint()`), the roots must be equal.
 */
export function ledgerCheckpointCheck(options: {
  rpcUrls: readonly string[];
  contract: string;
  tag: "finalized" | "safe" | "latest";
}): (checkpoint: { size: number; rootHash: Uint8Array }) => Promise<string | undefined> {
  const ledgers = options.rpcUrls.map((url) =>
    createLedgerClient({ rpc: createRpc({ url }), address: options.contract }),
  );
  return async (checkpoint) => {
    const answers = await Promise.all(
      ledgers.map(async (l) => ({
        batches: await l.batchCount(options.tag),
        recorded: await l.logCheckpoint(options.tag),
      })),
    );
    const first = JSON.stringify(answers[0]);
    if (answers.some((a) => JSON.stringify(a) !== first))
      return "the ledger's nodes disagree about the batch count or the recorded log checkpoint; try again later";
    const { batches, recorded } = answers[0]!;
    if (checkpoint.size > batches)
      return `the checkpoint has ${checkpoint.size} entries, the ledger only ${batches} batch(es) at the ${options.tag} block`;
    const root = bytesToHex(checkpoint.rootHash).toLowerCase();
    if (recorded.size === checkpoint.size && recorded.root.toLowerCase() !== root)
      return `the ledger recorded another root for the log's first ${recorded.size} entries (${recorded.root})`;
    return undefined;
  };
}

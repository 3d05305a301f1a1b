import { expect } from "chai";
import { InvariantError } from "../../src/core/errors.ts";
import { ledgerLogEntry } from "../../src/core/ledger-log-entry.ts";
import { logBatchOfView } from "../../src/cli/ledger-log-follower.ts";
import type { BatchView } from "../../src/store/index-store.ts";

const h = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;
const view = {
  batchId: 4,
  kind: "pension",
  period: "1403-09",
  root: h(1).toUpperCase().replace("0X", "0x"),
  recordCount: 840,
  total: "9000000",
  manifestHash: h(2),
  idempotencyKey: h(3),
  headAfter: h(4),
  anchorer: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  anchoredAt: 1_700_000_000,
  txHash: h(5),
  blockNumber: 9,
  blockHash: h(6),
  supersedes: 2,
  supersededBy: null,
  status: "anchored",
  attestations: [],
  manifest: { status: "verified" },
} as BatchView;
const chain = { chainId: 31337, contract: "0x5FbDB2315678afecb367f032d93F642f64180aa3" };

describe("logBatchOfView", function () {
  it("takes the batch's facts from the indexed view and the chain info; a view without a scheme is shafaf-tree/1", function () {
    const b = logBatchOfView(view, chain);
    expect(b).to.deep.equal({
      chainId: 31337,
      contract: chain.contract,
      batchId: 4,
      scheme: "shafaf-tree/1",
      kind: "pension",
      period: "1403-09",
      root: view.root,
      manifestHash: h(2),
      idempotencyKey: h(3),
      recordCount: 840,
      total: "9000000",
      supersedes: 2,
      txHash: h(5),
    });
    // Case of hex does not change the entry.
    expect(ledgerLogEntry(b)).to.deep.equal(ledgerLogEntry({ ...b, root: h(1) }));
  });

  it("keeps a v2 view's scheme and refuses a scheme it does not know", function () {
    const v2 = { ...view, scheme: "shafaf-tree/2" } as BatchView;
    expect(logBatchOfView(v2, chain).scheme).to.equal("shafaf-tree/2");
    const odd = { ...view, scheme: 2 } as unknown as BatchView;
    expect(() => logBatchOfView(odd, chain))
      .to.throw(InvariantError)
      .with.property("code", "log.scheme");
  });
});

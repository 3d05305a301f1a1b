import { expect } from "chai";
import fc from "fast-check";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Level } from "level";
import {
  hexKey,
  INDEX_STORE_FORMAT,
  openIndexStore,
  type BatchView,
  type ChainEvent,
  type ViewName,
  type WritableIndexStore,
} from "../../src/store/index-store.ts";

const SETUP = {
  chainId: 31337,
  contract: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
  genesisHash: "0x" + "11".repeat(32),
  deployBlock: 1,
  confirmations: 0,
};

function blockRef(n: number, fork = "a") {
  const h = (x: number) => "0x" + fork.repeat(2) + x.toString(16).padStart(62, "0");
  return { number: n, hash: h(n), parentHash: h(n - 1) };
}

function batch(id: number, over: Partial<BatchView> = {}): BatchView {
  return {
    batchId: id,
    kind: id % 2 === 0 ? "pension" : "premium",
    period: `1403-${String(((id - 1) % 12) + 1).padStart(2, "0")}`,
    root: "0x" + id.toString(16).padStart(64, "0"),
    recordCount: 10 * id,
    total: String(1_000_000n * BigInt(id)),
    manifestHash: "0x" + "ab".repeat(32),
    idempotencyKey: "0x" + "cd".repeat(32),
    headAfter: "0x" + "ef".repeat(32),
    anchorer: "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266",
    anchoredAt: 1_700_000_000 + id,
    txHash: "0x" + "12".repeat(32),
    blockNumber: id + 1,
    blockHash: blockRef(id + 1).hash,
    supersedes: null,
    supersededBy: null,
    status: "anchored",
    attestations: [],
    manifest: { status: "missing" },
    ...over,
  };
}

/** Every key/value of the views (the recent-block bookkeeping is not a view). */
async function views(store: WritableIndexStore): Promise<Array<[string, string]>> {
  return (await store.dump()).filter(([k]) => !k.startsWith("!blocks!"));
}

describe("openIndexStore", function () {
  let dir: string;
  const open: WritableIndexStore[] = [];
  async function fresh(name = "index"): Promise<WritableIndexStore> {
    const store = await openIndexStore(path.join(dir, name));
    open.push(store);
    return store;
  }

  beforeEach(async function () {
    dir = await mkdtemp(path.join(tmpdir(), "shafaf-index-store-"));
  });
  afterEach(async function () {
    for (const s of open.splice(0)) await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe("reads of an empty store", function () {
    it("has no chain info, no batches, no stats, no events", async function () {
      const store = await fresh();
      expect(await store.getChainInfo()).to.equal(undefined);
      expect(await store.listBatches({ limit: 10 })).to.deep.equal({ items: [] });
      expect(await store.getBatch(1)).to.equal(undefined);
      expect(await store.getStats()).to.deep.equal({ periods: [], provinces: [] });
      expect(await store.listEvents({ limit: 10 })).to.deep.equal({ items: [] });
      expect(await store.readCursor()).to.equal(undefined);
    });
  });

  describe("initialize / getChainInfo", function () {
    it("reports the setup, the cursor, the head seen and the log state", async function () {
      const store = await fresh();
      await store.initialize(SETUP);
      let info = await store.getChainInfo();
      expect(info).to.include({
        chainId: 31337,
        lastIndexedBlock: 0,
        batchCount: 0,
        paused: false,
      });
      expect(info?.headCheck.status).to.equal("pending");
      const tx = store.begin();
      tx.at(blockRef(5));
      tx.put("meta", "log", { ...(await store.readLogState()), batchCount: 3, paused: true });
      await store.commit(tx, { cursor: blockRef(5), keepFrom: 0 });
      await store.setHeadBlock(9);
      info = await store.getChainInfo();
      expect(info).to.include({
        lastIndexedBlock: 5,
        lastIndexedHash: blockRef(5).hash,
        headBlock: 9,
        batchCount: 3,
        paused: true,
      });
    });

    it("refuses a second initialize", async function () {
      const store = await fresh();
      await store.initialize(SETUP);
      let error: unknown;
      await store.initialize(SETUP).catch((e: unknown) => (error = e));
      expect((error as Error).message).to.match(/already initialized/);
    });

    it("persists across close and reopen", async function () {
      let store = await fresh();
      await store.initialize(SETUP);
      const tx = store.begin();
      tx.at(blockRef(2));
      tx.put("batches", hexKey(1), batch(1));
      await store.commit(tx, { cursor: blockRef(2), keepFrom: 0 });
      await store.close();
      open.pop();
      store = await fresh();
      expect(await store.getBatch(1)).to.deep.equal(batch(1));
      expect(await store.readCursor()).to.deep.equal(blockRef(2));
    });

    it("refuses a store written in another format and says how to fix it", async function () {
      const db = new Level(path.join(dir, "old"), { valueEncoding: "json" });
      await db.sublevel("meta", { valueEncoding: "json" }).put("format", "shafaf-index/0");
      await db.close();
      let error: unknown;
      await openIndexStore(path.join(dir, "old")).catch((e: unknown) => (error = e));
      expect((error as Error).message)
        .to.include("shafaf-index/0")
        .and.include("--reindex");
      expect(INDEX_STORE_FORMAT).to.equal("shafaf-index/1");
    });
  });

  describe("listBatches", function () {
    async function seeded(): Promise<WritableIndexStore> {
      const store = await fresh();
      await store.initialize(SETUP);
      const tx = store.begin();
      for (let id = 1; id <= 25; id++) {
        tx.at(blockRef(id + 1));
        tx.put(
          "batches",
          hexKey(id),
          batch(id, id === 7 ? { status: "superseded", supersededBy: 9 } : {}),
        );
      }
      await store.commit(tx, { cursor: blockRef(26), keepFrom: 0 });
      return store;
    }

    it("returns newest first and pages with an opaque cursor until the end", async function () {
      const store = await seeded();
      const seen: number[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.listBatches(
          cursor === undefined ? { limit: 10 } : { limit: 10, cursor },
        );
        seen.push(...page.items.map((b) => b.batchId));
        cursor = page.nextCursor;
        pages++;
      } while (cursor !== undefined);
      expect(pages).to.equal(3);
      expect(seen).to.deep.equal(Array.from({ length: 25 }, (_, i) => 25 - i));
    });

    it("gives no nextCursor when the page ends exactly at the last batch", async function () {
      const store = await seeded();
      const page = await store.listBatches({ limit: 25 });
      expect(page.items).to.have.length(25);
      expect(page.nextCursor).to.equal(undefined);
    });

    it("filters by kind, inclusive period range and status", async function () {
      const store = await seeded();
      const pensions = await store.listBatches({ kind: "pension", limit: 100 });
      expect(pensions.items.every((b) => b.kind === "pension")).to.equal(true);
      expect(pensions.items).to.have.length(12);
      const q2 = await store.listBatches({
        fromPeriod: "1403-04",
        toPeriod: "1403-06",
        limit: 100,
      });
      expect(q2.items.map((b) => b.period).sort()).to.deep.equal([
        "1403-04",
        "1403-04",
        "1403-05",
        "1403-05",
        "1403-06",
        "1403-06",
      ]);
      const superseded = await store.listBatches({ status: "superseded", limit: 100 });
      expect(superseded.items.map((b) => b.batchId)).to.deep.equal([7]);
    });

    it("pages through a filter without losing or repeating items", async function () {
      const store = await seeded();
      const first = await store.listBatches({ kind: "premium", limit: 5 });
      const second = await store.listBatches({
        kind: "premium",
        limit: 5,
        cursor: first.nextCursor!,
      });
      const ids = [...first.items, ...second.items].map((b) => b.batchId);
      expect(ids).to.deep.equal([25, 23, 21, 19, 17, 15, 13, 11, 9, 7]);
    });

    for (const [what, options, pattern] of [
      ["a zero limit", { limit: 0 }, /limit/],
      ["a limit over 1000", { limit: 1001 }, /limit/],
      ["a fractional limit", { limit: 1.5 }, /limit/],
      ["a malformed cursor", { limit: 5, cursor: "abc" }, /cursor/],
      ["a period without a dash", { limit: 5, fromPeriod: "140301" }, /YYYY-MM/],
    ] as const) {
      it(`rejects ${what}`, async function () {
        const store = await seeded();
        let error: unknown;
        await store.listBatches(options).catch((e: unknown) => (error = e));
        expect((error as Error).message).to.match(pattern);
      });
    }

    it("getBatch returns undefined for ids that cannot exist", async function () {
      const store = await seeded();
      for (const id of [0, -1, 1.5, 26, Number.NaN])
        expect(await store.getBatch(id)).to.equal(undefined);
    });
  });

  describe("listEvents", function () {
    it("pages newest first in chain order (block, then log index)", async function () {
      const store = await fresh();
      await store.initialize(SETUP);
      const tx = store.begin();
      const events: ChainEvent[] = [];
      for (const [block, logIndex] of [
        [3, 0],
        [3, 2],
        [10, 1],
        [200, 0],
        [4096, 5],
      ] as const) {
        const e: ChainEvent = {
          type: "Paused",
          blockNumber: block,
          logIndex,
          txHash: "0x01",
          args: {},
        };
        events.push(e);
        tx.at(blockRef(block));
        tx.put("events", `${hexKey(block)}!${logIndex.toString(16).padStart(8, "0")}`, e);
      }
      await store.commit(tx, { cursor: blockRef(4096), keepFrom: 0 });
      const a = await store.listEvents({ limit: 3 });
      const b = await store.listEvents({ limit: 3, cursor: a.nextCursor! });
      expect([...a.items, ...b.items]).to.deep.equal(events.reverse());
      expect(b.nextCursor).to.equal(undefined);
      let error: unknown;
      await store.listEvents({ limit: 3, cursor: "zzz" }).catch((e: unknown) => (error = e));
      expect((error as Error).message).to.match(/cursor/);
    });
  });

  describe("begin / commit", function () {
    it("reads its own pending writes and refuses writes outside a block", async function () {
      const store = await fresh();
      await store.initialize(SETUP);
      const tx = store.begin();
      expect(() => tx.put("batches", hexKey(1), batch(1))).to.throw(/before at/);
      tx.at(blockRef(3));
      tx.put("batches", hexKey(1), batch(1));
      expect(await tx.get("batches", hexKey(1))).to.deep.equal(batch(1));
      tx.del("batches", hexKey(1));
      expect(await tx.get("batches", hexKey(1))).to.equal(undefined);
      expect(() => tx.at(blockRef(2))).to.throw(/ascend/);
    });

    it("writes nothing until commit, then everything at once", async function () {
      const store = await fresh();
      await store.initialize(SETUP);
      const tx = store.begin();
      tx.at(blockRef(2));
      tx.put("batches", hexKey(1), batch(1));
      expect(await store.getBatch(1)).to.equal(undefined);
      await store.commit(tx, { cursor: blockRef(2), keepFrom: 0 });
      expect(await store.getBatch(1)).to.deep.equal(batch(1));
      let error: unknown;
      await store
        .commit(tx, { cursor: blockRef(2), keepFrom: 0 })
        .catch((e: unknown) => (error = e));
      expect((error as Error).message).to.match(/twice/);
    });

    it("freezes each value put and read, so a view or an undo record cannot be changed behind its back", async function () {
      const store = await fresh();
      await store.initialize(SETUP);
      const tx = store.begin();
      const state = { n: 1 };
      tx.at(blockRef(2));
      tx.put("meta", "x", state);
      expect(() => {
        state.n = 2;
      }).to.throw(TypeError);
      tx.at(blockRef(3));
      tx.put("meta", "x", { ...tx.peek<{ n: number }>("meta", "x")!, n: 2 });
      const read = (await tx.get<{ n: number }>("meta", "x"))!;
      expect(read).to.deep.equal({ n: 2 });
      expect(() => {
        read.n = 3;
      }).to.throw(TypeError);
      await store.commit(tx, { cursor: blockRef(3), keepFrom: 0 });
      expect((await store.dump()).find(([k]) => k === "!meta!x")?.[1]).to.equal(
        JSON.stringify({ n: 2 }),
      );
      // a value read from LevelDB is frozen too
      const next = store.begin();
      next.at(blockRef(4));
      const stored = next.peek<{ n: number }>("meta", "x")!;
      expect(() => {
        stored.n = 4;
      }).to.throw(TypeError);
      expect(await store.rollbackTo(blockRef(2))).to.equal(1);
      expect((await store.dump()).find(([k]) => k === "!meta!x")?.[1]).to.equal(
        JSON.stringify({ n: 1 }),
      );
    });

    it("records no undo entries for blocks below begin's keepFrom, and the same views", async function () {
      const store = await fresh();
      await store.initialize(SETUP);
      const tx = store.begin({ keepFrom: 4 });
      for (const n of [2, 3, 4, 5]) {
        tx.at(blockRef(n));
        tx.put("periods", "140301!0", { n });
        tx.put("periods", `14030${n}!0`, { n });
      }
      await store.commit(tx, { cursor: blockRef(5), keepFrom: 4 });
      const blocks = await store.listBlocks();
      expect(blocks.map((b) => [b.number, b.undo])).to.deep.equal([
        [
          5,
          [
            ["periods", "140301!0", { n: 4 }],
            ["periods", "140305!0", null],
          ],
        ],
        [
          4,
          [
            ["periods", "140301!0", { n: 3 }],
            ["periods", "140304!0", null],
          ],
        ],
      ]);
      expect(await store.getStats()).to.deep.include({
        periods: [{ n: 5 }, { n: 2 }, { n: 3 }, { n: 4 }, { n: 5 }],
      });
    });

    it("prunes block records below keepFrom", async function () {
      const store = await fresh();
      await store.initialize(SETUP);
      const tx = store.begin();
      for (const n of [2, 3, 4, 5]) {
        tx.at(blockRef(n));
        tx.put("periods", `14030${n}!0`, { n });
      }
      await store.commit(tx, { cursor: blockRef(5), keepFrom: 4 });
      expect((await store.listBlocks()).map((b) => b.number)).to.deep.equal([5, 4]);
    });
  });

  describe("rollbackTo", function () {
    it("restores exactly the views as they were after the ancestor block, however the blocks were committed", async function () {
      this.timeout(60_000);
      const keys = ["a", "b", "c", "d"];
      const viewNames: ViewName[] = ["batches", "periods", "provinces"];
      const op = fc.record({
        view: fc.constantFrom(...viewNames),
        key: fc.constantFrom(...keys),
        value: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
      });
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.array(op, { maxLength: 5 }), { minLength: 1, maxLength: 8 }),
          fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 8, maxLength: 8 }),
          fc.nat(),
          async (blocks, chunks, pick) => {
            run++;
            const reference = await fresh(`ref-${run}`);
            const subject = await fresh(`sub-${run}`);
            await reference.initialize(SETUP);
            await subject.initialize(SETUP);
            // reference: one commit per block, remembering the views after each
            const after: Array<Array<[string, string]>> = [await views(reference)];
            for (let i = 0; i < blocks.length; i++) {
              const tx = reference.begin();
              tx.at(blockRef(10 + i));
              for (const o of blocks[i]!) {
                if (o.value === undefined) tx.del(o.view, o.key);
                else tx.put(o.view, o.key, { v: o.value });
              }
              await reference.commit(tx, { cursor: blockRef(10 + i), keepFrom: 0 });
              after.push(await views(reference));
            }
            // subject: the same blocks, several per commit
            let i = 0;
            let c = 0;
            while (i < blocks.length) {
              const tx = subject.begin();
              const end = Math.min(blocks.length, i + chunks[c++ % chunks.length]!);
              for (; i < end; i++) {
                tx.at(blockRef(10 + i));
                for (const o of blocks[i]!) {
                  if (o.value === undefined) tx.del(o.view, o.key);
                  else tx.put(o.view, o.key, { v: o.value });
                }
              }
              await subject.commit(tx, { cursor: blockRef(10 + i - 1), keepFrom: 0 });
            }
            expect(await views(subject)).to.deep.equal(after[blocks.length]);
            const keep = pick % (blocks.length + 1); // blocks kept: 0..n
            const ancestor = keep === 0 ? blockRef(9) : blockRef(10 + keep - 1);
            const undone = await subject.rollbackTo(ancestor);
            expect(undone).to.equal(blocks.length - keep);
            const expected = after[keep]!.map(([k, v]): [string, string] =>
              k === "!meta!cursor" ? [k, JSON.stringify(ancestor)] : [k, v],
            );
            if (keep === 0) expected.push(["!meta!cursor", JSON.stringify(ancestor)]);
            expected.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
            expect(await views(subject)).to.deep.equal(expected);
            expect((await subject.listBlocks()).map((b) => b.number)).to.deep.equal(
              Array.from({ length: keep }, (_, j) => 10 + keep - 1 - j),
            );
          },
        ),
        { numRuns: 40 },
      );
    });
  });

  describe("clear", function () {
    it("deletes every view and the setup but keeps the format", async function () {
      const store = await fresh();
      await store.initialize(SETUP);
      const tx = store.begin();
      tx.at(blockRef(2));
      tx.put("batches", hexKey(1), batch(1));
      await store.commit(tx, { cursor: blockRef(2), keepFrom: 0 });
      await store.clear();
      expect(await store.dump()).to.deep.equal([
        ["!meta!format", JSON.stringify(INDEX_STORE_FORMAT)],
      ]);
    });
  });
});

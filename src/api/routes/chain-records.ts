import type { Router } from "express";
import type { IndexReader } from "../app-deps.ts";
import { sendCacheable } from "../http-cache.ts";
import { documentedRouter, type Validators } from "./documented.ts";

/** `GET /api/v1/vrf-keys` and `GET /api/v1/events`: what the indexer read from the chain. */
export function chainRecordRoutes(
  validators: Validators,
  deps: { index: Pick<IndexReader, "listVrfKeys" | "listEvents"> },
): Router {
  const { router, route, validate } = documentedRouter(validators);
  route("get", "/api/v1/vrf-keys", async (req, res) => {
    validate("GET", "/api/v1/vrf-keys")(req);
    const keys = await deps.index.listVrfKeys();
    const items = keys.map((k) => ({
      keyId: k.keyId,
      publicKey: k.publicKey,
      index: k.index,
      registrar: k.registrar,
      registeredAtBlock: k.registeredAtBlock,
      registeredAt: k.registeredAt,
      txHash: k.txHash,
    }));
    sendCacheable(req, res, { items }, "public, max-age=30, must-revalidate");
  });
  route("get", "/api/v1/events", async (req, res) => {
    const { query } = validate("GET", "/api/v1/events")(req);
    const page = await deps.index.listEvents({
      limit: query.limit as number,
      ...(query.cursor === undefined ? {} : { cursor: query.cursor as string }),
    });
    res.setHeader("Cache-Control", "public, max-age=10");
    res.json({
      items: page.items.map((e) => ({
        type: e.type,
        blockNumber: e.blockNumber,
        logIndex: e.logIndex,
        txHash: e.txHash,
        args: e.args,
      })),
      nextCursor: page.nextCursor ?? null,
    });
  });
  return router;
}

import type { Router } from "express";
import type { BatchView, IndexReader } from "../app-deps.ts";
import { sendCacheable } from "../http-cache.ts";
import { ApiProblem } from "../problem.ts";
import { publicBatch, publicBatchesPage } from "../public-batch.ts";
import { documentedRouter, type Validators } from "./documented.ts";

/** The index's batch, or 404 `batch-not-found`. */
export async function batchOr404(
  index: Pick<IndexReader, "getBatch">,
  id: unknown,
): Promise<BatchView> {
  const batch = await index.getBatch(id as number);
  if (batch === undefined) {
    throw new ApiProblem(
      "batch-not-found",
      `batch ${String(id)} is not indexed; list batches at /api/v1/batches`,
    );
  }
  return batch;
}

/** The index's list query from the validated query string (`from` ≤ `to` checked here). */
export function listQuery(
  query: Record<string, unknown>,
): Parameters<IndexReader["listBatches"]>[0] {
  const from = query.from as string | undefined;
  const to = query.to as string | undefined;
  if (from !== undefined && to !== undefined && from > to) {
    throw new ApiProblem("invalid-request", `from (${from}) is after to (${to})`, {
      extensions: { errors: [{ in: "query", name: "from", message: "must not be after `to`" }] },
    });
  }
  return {
    limit: query.limit as number,
    ...(query.kind === undefined ? {} : { kind: query.kind as "premium" | "pension" }),
    ...(from === undefined ? {} : { fromPeriod: from }),
    ...(to === undefined ? {} : { toPeriod: to }),
    ...(query.status === undefined ? {} : { status: query.status as BatchView["status"] }),
    ...(query.cursor === undefined ? {} : { cursor: query.cursor as string }),
  };
}

/** `GET /api/v1/batches` and `GET /api/v1/batches/{id}`: the public projection of batches. */
export function batchRoutes(
  validators: Validators,
  deps: { index: Pick<IndexReader, "listBatches" | "getBatch"> },
): Router {
  const { router, route, validate } = documentedRouter(validators);
  route("get", "/api/v1/batches", async (req, res) => {
    const { query } = validate("GET", "/api/v1/batches")(req);
    const page = await deps.index.listBatches(listQuery(query));
    res.setHeader("Cache-Control", "public, max-age=10");
    res.json(publicBatchesPage(page));
  });
  route("get", "/api/v1/batches/{id}", async (req, res) => {
    const { params } = validate("GET", "/api/v1/batches/{id}")(req);
    const batch = await batchOr404(deps.index, params.id);
    // Anchored fields never change; status, attestations and supersession may: revalidate often.
    sendCacheable(req, res, publicBatch(batch), "public, max-age=30, must-revalidate");
  });
  return router;
}

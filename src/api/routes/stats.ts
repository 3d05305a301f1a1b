import type { Router } from "express";
import type { IndexReader } from "../app-deps.ts";
import { sendCacheable } from "../http-cache.ts";
import { MIN_CELL_PEOPLE, suppressStats } from "../suppress-small-cells.ts";
import { documentedRouter, type Validators } from "./documented.ts";

/** `GET /api/v1/stats`: aggregates with cells under {@link MIN_CELL_PEOPLE} people suppressed. */
export function statsRoutes(
  validators: Validators,
  deps: { index: Pick<IndexReader, "getStats"> },
): Router {
  const { router, route, validate } = documentedRouter(validators);
  route("get", "/api/v1/stats", async (req, res) => {
    validate("GET", "/api/v1/stats")(req);
    const stats = suppressStats(await deps.index.getStats());
    sendCacheable(
      req,
      res,
      { minCellPeople: MIN_CELL_PEOPLE, ...stats },
      "public, max-age=60, must-revalidate",
    );
  });
  return router;
}

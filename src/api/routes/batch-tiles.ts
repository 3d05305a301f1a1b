/**
 * A `shafaf-tree/2` batch's public tiles (docs/spec/batch-tiles-v1.md §7) as immutable files:
 * `tiles.json` and the tiles of levels ≥ 1 of public provinces. A batch's tree never grows, so
 * every answer — partial tiles too — is `public, max-age=31536000, immutable`. Level-0 tiles and
 * private provinces are never read (the store only looks in the tiles' `public/` folder).
 */
import type { Request, Response, Router } from "express";
import type { LedgerStore } from "../../store/ledger-store.ts";
import { ApiProblem } from "../problem.ts";
import { documentedRouter, type Validators } from "./documented.ts";

export interface BatchTilesRoutesDeps {
  ledger: Partial<Pick<LedgerStore, "getPublicBatchFile">>;
}

const IMMUTABLE = "public, max-age=31536000, immutable";

/**
 * @example
 * app.use(batchTilesRoutes(validators, { ledger }));
 */
export function batchTilesRoutes(validators: Validators, deps: BatchTilesRoutesDeps): Router {
  const { router, route, validate } = documentedRouter(validators);
  const send = async (
    res: Response,
    batchId: number,
    file: string,
    type: string,
    missing: string,
  ): Promise<void> => {
    const bytes = await deps.ledger.getPublicBatchFile?.(batchId, file);
    if (bytes === undefined) throw new ApiProblem("not-found", missing);
    res.setHeader("Cache-Control", IMMUTABLE);
    res.status(200).type(type).send(Buffer.from(bytes));
  };
  route("get", "/api/v1/batches/{id}/tiles", async (req, res) => {
    const { params } = validate("GET", "/api/v1/batches/{id}/tiles")(req);
    await send(
      res,
      params.id as number,
      "tiles.json",
      "application/json",
      "this server holds no tiles of this batch (a shafaf-tree/1 batch, or one it did not anchor)",
    );
  });
  const tile = (openApiPath: string) => async (req: Request, res: Response) => {
    const { params } = validate("GET", openApiPath)(req);
    const p = params as {
      id: number;
      province: string;
      level: number;
      index: string;
      width?: number;
    };
    const file = `${p.province}/tile/${p.level}/${p.index}${p.width === undefined ? "" : `.p/${p.width}`}`;
    await send(
      res,
      p.id,
      file,
      "application/octet-stream",
      "no such public tile: level 0 and provinces with few records are never published",
    );
  };
  for (const path of [
    "/api/v1/batches/{id}/tiles/{province}/tile/{level}/{index}",
    "/api/v1/batches/{id}/tiles/{province}/tile/{level}/{index}.p/{width}",
  ])
    route("get", path, tile(path));
  return router;
}

/**
 * Serves a tiled log directory as c2sp.org/tlog-tiles: `GET checkpoint` (mutable, cached a few
 * seconds at most), `GET tile/<L>/<N>[.p/<W>]` and `GET tile/entries/<N>[.p/<W>]` (immutable).
 * Mount it at `/log`. Only paths that `parseTilePath` accepts reach the disk.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import express, { type Router } from "express";
import { parseTilePath, tilePath } from "../core/tile-path.ts";

/**
 * The router of a log directory.
 *
 * @example
 * app.use("/log", createLogRouter({ dir: "data/log" }));
 */
export function createLogRouter(deps: { dir: string }): Router {
  const router = express.Router();
  const notFound = (res: express.Response) =>
    res.status(404).type("text/plain; charset=utf-8").send("not found\n");
  const read = async (rel: string) => {
    try {
      return await readFile(path.join(deps.dir, rel));
    } catch (error) {
      if ((error as { code?: string }).code === "ENOENT") return undefined;
      throw error;
    }
  };
  router.get("/checkpoint", async (_req, res) => {
    const note = await read("checkpoint");
    if (note === undefined) return void notFound(res);
    res.status(200).setHeader("Content-Type", "text/plain; charset=utf-8");
    res.setHeader("Cache-Control", "public, max-age=5");
    res.send(note);
  });
  router.get(/^\/tile\/.+$/, async (req, res) => {
    const address = parseTilePath(req.path.slice(1));
    if (address === undefined) return void notFound(res);
    const data = await read(tilePath(address));
    if (data === undefined) return void notFound(res);
    res.status(200).setHeader("Content-Type", "application/octet-stream");
    res.setHeader("Cache-Control", "public, max-age=31536000, immutable");
    res.send(data);
  });
  return router;
}

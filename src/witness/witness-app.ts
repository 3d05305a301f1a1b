/**
 * The witness's HTTP interface (c2sp.org/tlog-witness), an Express app:
 * `POST /add-checkpoint` (submission prefix) and `GET /<sha256(origin) hex>/checkpoint`
 * (monitoring prefix); both prefixes are the server root.
 */
import express, { type Express } from "express";
import type { Witness } from "./witness.ts";

/** Largest accepted request: 63 proof lines and a note with many signatures fit easily. */
const MAX_BODY = "64kb";

/**
 * The witness app.
 *
 * @example
 * const app = createWitnessApp({ witness });
 * http.createServer(app).listen(7380, "127.0.0.1");
 */
export function createWitnessApp(deps: { witness: Witness }): Express {
  const app = express();
  app.disable("x-powered-by");
  app.post(
    "/add-checkpoint",
    express.text({ type: () => true, limit: MAX_BODY }),
    async (req, res) => {
      const body: unknown = req.body;
      if (typeof body !== "string" || body === "") {
        res.status(400).type("text/plain; charset=utf-8").send("empty request body\n");
        return;
      }
      const r = await deps.witness.addCheckpoint(body);
      // setHeader and a Buffer, so that Express adds no charset: 409 is exactly `text/x.tlog.size`.
      res.status(r.status).setHeader("Content-Type", r.contentType);
      res.send(Buffer.from(r.body, "utf8"));
    },
  );
  app.get("/:originHash/checkpoint", async (req, res) => {
    const note = await deps.witness.checkpointByOriginHash(req.params.originHash);
    if (note === undefined) {
      res
        .status(404)
        .type("text/plain; charset=utf-8")
        .send("no checkpoint cosigned for that origin\n");
      return;
    }
    res
      .status(200)
      .set("Content-Type", "text/plain; charset=utf-8")
      .set("Cache-Control", "no-cache")
      .send(note);
  });
  app.use((_req, res) => {
    res.status(404).type("text/plain; charset=utf-8").send("not found\n");
  });
  app.use(
    (
      error: { status?: number; type?: string },
      _req: express.Request,
      res: express.Response,
      _next: express.NextFunction,
    ) => {
      const status = error.status === 413 ? 413 : error.status === 400 ? 400 : 500;
      res
        .status(status)
        .type("text/plain; charset=utf-8")
        .send(
          status === 413
            ? "request too large\n"
            : status === 400
              ? "bad request\n"
              : "internal error\n",
        );
    },
  );
  return app;
}

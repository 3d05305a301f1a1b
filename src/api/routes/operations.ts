import type { Router } from "express";
import type { Registry } from "prom-client";
import type { Readiness } from "../readiness.ts";
import { documentedRouter, type Validators } from "./documented.ts";

/** `/healthz`, `/readyz` and `/metrics`: not rate limited (probes and scrapers poll them). */
export function operationsRoutes(
  validators: Validators,
  deps: { readiness: Readiness; registry: Registry },
): Router {
  const { router, route } = documentedRouter(validators);
  route("get", "/healthz", (_req, res) => {
    res.setHeader("Cache-Control", "no-store");
    res.json({ status: "ok" });
  });
  route("get", "/readyz", async (_req, res) => {
    res.setHeader("Cache-Control", "no-store");
    if (await deps.readiness.check())
      res.json({ ready: true, reason: "the indexer has caught up with the chain" });
    else
      res
        .status(503)
        .json({ ready: false, reason: "the indexer has not caught up with the chain yet" });
  });
  route("get", "/metrics", async (_req, res) => {
    res.setHeader("Cache-Control", "no-store");
    res.type(deps.registry.contentType).send(await deps.registry.metrics());
  });
  return router;
}

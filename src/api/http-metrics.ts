import type { RequestHandler } from "express";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { IndexReader } from "./app-deps.ts";

export interface HttpMetrics {
  registry: Registry;
  /** Counts and times every response by method, route template and status. */
  middleware: RequestHandler;
}

/**
 * A Prometheus registry of its own (no global state): `shafaf_http_requests_total`,
 * `shafaf_http_request_duration_seconds` by route template (never the raw path, which would
 * carry receipt codes and pseudonyms), `shafaf_indexer_lag_blocks` and
 * `shafaf_indexer_head_check_ok` read from the index on each scrape, and Node's process metrics.
 */
export function createHttpMetrics(index: IndexReader): HttpMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "shafaf_" });
  const requests = new Counter({
    name: "shafaf_http_requests_total",
    help: "HTTP responses by method, route template and status",
    labelNames: ["method", "route", "status"] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: "shafaf_http_request_duration_seconds",
    help: "Time to the last byte of the response, by method and route template",
    labelNames: ["method", "route"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const readInfo = async () => {
    try {
      return await index.getChainInfo();
    } catch {
      return undefined;
    }
  };
  new Gauge({
    name: "shafaf_indexer_lag_blocks",
    help: "Chain head block minus the last indexed block (absent before the first index write)",
    registers: [registry],
    async collect() {
      const info = await readInfo();
      if (info !== undefined) this.set(Math.max(0, info.headBlock - info.lastIndexedBlock));
    },
  });
  new Gauge({
    name: "shafaf_indexer_head_check_ok",
    help: "1 when the log head recomputed from events equals the contract's head(), 0 on a mismatch",
    registers: [registry],
    async collect() {
      const info = await readInfo();
      if (info !== undefined && info.headCheck.status !== "pending") {
        this.set(info.headCheck.status === "ok" ? 1 : 0);
      }
    },
  });
  const middleware: RequestHandler = (req, res, next) => {
    const start = process.hrtime.bigint();
    res.once("finish", () => {
      const route = (res.locals.route as string | undefined) ?? "unmatched";
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      requests.inc({ method: req.method, route, status: String(res.statusCode) });
      latency.observe({ method: req.method, route }, seconds);
    });
    next();
  };
  return { registry, middleware };
}

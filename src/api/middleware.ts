import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { ApiLog } from "./app-deps.ts";
import { openApiDocument } from "./openapi.ts";
import { ApiProblem, sendProblem } from "./problem.ts";
import type { RateLimiter } from "./rate-limit.ts";

/** Largest JSON body (POST /api/v1/verify). */
export const JSON_LIMIT = "64kb";
export const JSON_LIMIT_BYTES = 64 * 1024;
export const JSON_TYPES = ["application/json", "application/*+json"];

/** The `rate-limited` problem, with `Retry-After`. */
export function rateLimitProblem(retryAfterSeconds: number): ApiProblem {
  return new ApiProblem("rate-limited", `slow down: try again in ${retryAfterSeconds} s`, {
    headers: { "Retry-After": String(retryAfterSeconds) },
    extensions: { retryAfter: retryAfterSeconds },
  });
}

/** While draining, every request gets 503 `shutting-down` with `Connection: close`. */
export function drainGuard(isDraining: () => boolean): RequestHandler {
  return (_req, res, next) => {
    if (isDraining()) {
      res.setHeader("Connection", "close");
      return next(
        new ApiProblem("shutting-down", "this server is stopping; retry on another instance"),
      );
    }
    next();
  };
}

/**
 * A declared Content-Length over the route's limit is refused before any byte of the body is
 * read, and the connection closed: the body parsers would otherwise drain it all first.
 */
export function earlyBodyLimit(uploadLimit: number): RequestHandler {
  return (req, _res, next) => {
    const declared = Number(req.headers["content-length"] ?? 0);
    const limit =
      req.method === "POST" && req.path === "/api/v1/batches" ? uploadLimit : JSON_LIMIT_BYTES;
    if (!(declared > limit)) return next();
    next(
      new ApiProblem(
        "body-too-large",
        `the declared body of ${declared} bytes is larger than this endpoint accepts (${limit} bytes)`,
        { headers: { Connection: "close" } },
      ),
    );
  };
}

/** The public token bucket per client address; a no-op without a limiter. */
export function rateLimited(limiter: RateLimiter | undefined): RequestHandler {
  return (req, _res, next) => {
    if (limiter === undefined) return next();
    const verdict = limiter.take(req.ip ?? "unknown");
    if (verdict.ok) return next();
    next(rateLimitProblem(verdict.retryAfterSeconds));
  };
}

/** A documented path with another method: 405 with `Allow`. Other paths fall through. */
export function methodNotAllowed(): RequestHandler {
  const documented = Object.entries(openApiDocument.paths as Record<string, object>).map(
    ([p, item]) => ({
      pattern: new RegExp(`^${p.replace(/\{[^}]+\}/g, "[^/]+")}/?$`),
      allow: Object.keys(item).map((m) => m.toUpperCase()),
    }),
  );
  return (req, res, next) => {
    const match = documented.find((d) => d.pattern.test(req.path));
    if (match === undefined) return next();
    res.locals.route = "method-not-allowed";
    res.setHeader(
      "Allow",
      [...match.allow, ...(match.allow.includes("GET") ? ["HEAD"] : [])].join(", "),
    );
    next(
      new ApiProblem(
        "method-not-allowed",
        `${req.method} is not allowed here; use ${match.allow.join(" or ")}`,
      ),
    );
  };
}

/** Anything else under /api: 404 pointing at the OpenAPI document (mount at `/api`). */
export const apiNotFound: RequestHandler = (_req, _res, next) => {
  next(new ApiProblem("not-found", "no such endpoint; see /api/v1/openapi.json"));
};

/** Anything else at all: 404. */
export const notFound: RequestHandler = (_req, _res, next) => {
  next(
    new ApiProblem(
      "not-found",
      "nothing here; the API is under /api/v1 (see /api/v1/openapi.json)",
    ),
  );
};

/**
 * Any error → the problem+json the client sees: an {@link ApiProblem} as is, body-parser errors
 * by type, a closed store as 503, anything else as `internal` (logged by name and code only).
 */
export function toProblem(error: unknown, log: ApiLog, route: string | undefined): ApiProblem {
  const e = error as { type?: string; status?: number; name?: string; code?: string };
  if (error instanceof ApiProblem) return error;
  if (e.type === "entity.too.large")
    return new ApiProblem("body-too-large", "the body is larger than this endpoint accepts");
  if (e.type === "entity.parse.failed")
    return new ApiProblem("malformed-body", "the body is not valid JSON");
  if (e.type === "charset.unsupported" || e.type === "encoding.unsupported")
    return new ApiProblem("unsupported-media-type", "send UTF-8 without content encoding");
  if (typeof e.status === "number" && e.status >= 400 && e.status < 500)
    return new ApiProblem("invalid-request", "the request could not be read");
  if (e.code === "LEVEL_DATABASE_NOT_OPEN" || e.code === "LEVEL_DATABASE_CLOSED") {
    return new ApiProblem("upstream-unavailable", "a store is not open; retry shortly", {
      headers: { "Retry-After": "5" },
    });
  }
  log.error("internal-error", { route, error: e.name ?? "unknown", code: e.code });
  return new ApiProblem("internal", "the server failed; the operators have the details");
}

/** The last handler: sends the problem (or drops a half-sent response). */
export function errorHandler(log: ApiLog) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    const route = res.locals.route as string | undefined;
    const problem = toProblem(error, log, route);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (
      problem.status >= 500 &&
      problem.slug !== "internal" &&
      problem.slug !== "receipt-integrity"
    ) {
      log.warn("unavailable", { route, problem: problem.slug });
    }
    sendProblem(res, problem, route ?? req.path);
  };
}

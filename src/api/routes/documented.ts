import express, { type Request, type RequestHandler, type Router } from "express";
import type { ValidatedRequest } from "../request-validator.ts";

/** The request validators built from the OpenAPI document (`createRequestValidators()`). */
export type Validators = (key: string) => (req: Request) => ValidatedRequest;

export interface DocumentedRouter {
  router: Router;
  /** Registers a documented operation; the label for metrics and logs is the OpenAPI path. */
  route: (method: "get" | "post", openApiPath: string, ...handlers: RequestHandler[]) => void;
  /** The validator of one documented operation: `validate("GET", "/api/v1/stats")(req)`. */
  validate: (method: string, openApiPath: string) => (req: Request) => ValidatedRequest;
}

/** `/api/v1/batches/{id}` → `/api/v1/batches/:id`. */
export function expressPath(openApiPath: string): string {
  return openApiPath.replace(/\{([^}]+)\}/g, ":$1");
}

/**
 * A fresh Express router whose operations are registered by their OpenAPI path: each sets
 * `res.locals.route` (the metrics label and the problem's `instance`) before its handlers run.
 *
 * @example
 * const { router, route, validate } = documentedRouter(validators);
 * route("get", "/api/v1/stats", async (req, res) => { validate("GET", "/api/v1/stats")(req); … });
 */
export function documentedRouter(validators: Validators): DocumentedRouter {
  const router = express.Router();
  return {
    router,
    route: (method, openApiPath, ...handlers) => {
      const label: RequestHandler = (_req, res, next) => {
        res.locals.route = openApiPath;
        next();
      };
      router[method](expressPath(openApiPath), label, ...handlers);
    },
    validate: (method, openApiPath) => validators(`${method} ${openApiPath}`),
  };
}

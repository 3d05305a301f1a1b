import express, { type RequestHandler, type Router } from "express";
import type { ConcurrencyGate } from "../concurrency-gate.ts";
import { JSON_LIMIT, JSON_TYPES } from "../middleware.ts";
import { ApiProblem } from "../problem.ts";
import type { VerifyPolicy, VerifyRequestReceipt } from "../verify-policy.ts";
import { documentedRouter, type Validators } from "./documented.ts";

function unsupportedMediaType(): ApiProblem {
  return new ApiProblem(
    "unsupported-media-type",
    "send the receipt as JSON with Content-Type: application/json",
  );
}

/** The media type first: a non-JSON body is refused before it is read. */
const jsonOnly: RequestHandler = (req, _res, next) => {
  next(req.is(JSON_TYPES) ? undefined : unsupportedMediaType());
};

/**
 * Bounded: at most the gate's concurrency run and its queue wait (their bodies unread); the rest
 * are told to come back (503 `busy`, `Retry-After: 1`), so that verification cannot starve the
 * read endpoints. The slot is given back when the response closes.
 */
export function gated(gate: ConcurrencyGate): RequestHandler {
  return (_req, res, next) => {
    const ticket = gate.tryEnter();
    if (ticket === undefined) {
      return next(
        new ApiProblem("busy", "too many receipts are being verified; retry in a second", {
          headers: { "Retry-After": "1" },
          extensions: { retryAfter: 1 },
        }),
      );
    }
    res.once("close", ticket.leave);
    ticket.entered.then(() => next(), next);
  };
}

/** `POST /api/v1/verify`: media type, gate, JSON body, schema, then the {@link VerifyPolicy}. */
export function verifyRoutes(
  validators: Validators,
  deps: { policy: Pick<VerifyPolicy, "decide">; gate: ConcurrencyGate },
): Router {
  const { router, route, validate } = documentedRouter(validators);
  route(
    "post",
    "/api/v1/verify",
    jsonOnly,
    gated(deps.gate),
    express.json({ limit: JSON_LIMIT, type: JSON_TYPES, strict: true }),
    async (req, res) => {
      if (!req.is(JSON_TYPES)) throw unsupportedMediaType();
      const { body } = validate("POST", "/api/v1/verify")(req);
      const decision = await deps.policy.decide(body as VerifyRequestReceipt);
      res.setHeader("Cache-Control", "no-store");
      res.json(decision);
    },
  );
  return router;
}

import type { RequestHandler } from "express";
import { findApiKey, type ApiKeyEntry, type ApiKeyScope } from "./api-keys.ts";
import type { ApiLog } from "./app-deps.ts";
import { rateLimitProblem } from "./middleware.ts";
import { ApiProblem } from "./problem.ts";
import type { RateLimiter } from "./rate-limit.ts";

const CHALLENGE = { "WWW-Authenticate": 'Bearer realm="shafaf-staff"' };

/** The bearer token of `Authorization: Bearer <key>`, or undefined. */
function bearerToken(header: string | undefined): string | undefined {
  return header?.startsWith("Bearer ") ? header.slice(7).trim() : undefined;
}

/**
 * Staff authentication for one scope: 401 without a known key (an unknown key also costs the
 * caller the public rate limit), 403 without the scope. Every staff call is logged with the key
 * id, never the key, once the response is finished. Sets `res.locals.apiKeyId`.
 *
 * @example
 * route("post", "/api/v1/batches", requireScope({ apiKeys, limiter, log }, "anchor"), upload);
 */
export function requireScope(
  deps: { apiKeys: readonly ApiKeyEntry[]; limiter: RateLimiter | undefined; log: ApiLog },
  scope: ApiKeyScope,
): RequestHandler {
  return (req, res, next) => {
    const started = Date.now();
    let keyId: string | null = null;
    res.once("finish", () => {
      deps.log.info("staff-call", {
        keyId,
        method: req.method,
        route: res.locals.route as string,
        status: res.statusCode,
        ms: Date.now() - started,
      });
    });
    const token = bearerToken(req.headers.authorization);
    if (token === undefined || token === "") {
      return next(
        new ApiProblem("unauthorized", "send the staff API key as `Authorization: Bearer <key>`", {
          headers: CHALLENGE,
        }),
      );
    }
    const key = findApiKey(deps.apiKeys, token);
    if (key === undefined) {
      // Guessing keys costs the guesser the public rate limit (a 256-bit key is not guessable;
      // this bounds the noise and the hashing work).
      const verdict = deps.limiter?.take(req.ip ?? "unknown");
      if (verdict !== undefined && !verdict.ok) {
        return next(rateLimitProblem(verdict.retryAfterSeconds));
      }
      return next(
        new ApiProblem(
          "unauthorized",
          "the API key is not known to this server (was it revoked?)",
          {
            headers: CHALLENGE,
          },
        ),
      );
    }
    keyId = key.id;
    res.locals.apiKeyId = key.id;
    if (!key.scopes.includes(scope)) {
      return next(
        new ApiProblem(
          "forbidden",
          `this endpoint needs the "${scope}" scope; key "${key.id}" has ${key.scopes.join(", ")}`,
          { extensions: { requiredScope: scope } },
        ),
      );
    }
    next();
  };
}

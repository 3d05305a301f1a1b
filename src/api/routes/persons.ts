/**
 * "My insurance history": a person's key and their material batch by batch.
 *
 * - `POST /api/v1/persons/key` (staff, scope `persons:key`): the organization's sign-in system,
 *   having authenticated a person, gets their VRF proof pi for their identifier; the person's
 *   browser derives beta from pi, checks it under the registered VRF public key and computes k_b
 *   for each batch itself.
 * - `POST /api/v1/demo/login` (only under `npm start`): the same, behind the demo one-time code.
 * - `POST /api/v1/persons/proof` (public): the range or absence proof of a k_b in one batch and
 *   the opened records — a `shafaf-person-proof/1` without `personId` and `vrf`, which the
 *   browser adds — with the batch's log bundle when the server keeps a log. k_b is the
 *   capability: only the holder of beta can compute it.
 * - `POST /api/v1/persons/proofs` (public): the same for up to 64 batches at once
 *   (a year of history in one request); each item answered, or with its own problem.
 *
 * The identifier and the key are never logged, never echoed in an error, never in a URL.
 */
import { timingSafeEqual } from "node:crypto";
import express, { type RequestHandler, type Router } from "express";
import { normalizeDigits } from "../../core/digits.ts";
import { parsePersonId, personIdString } from "../../core/person-id.ts";
import type { ApiKeyEntry } from "../api-keys.ts";
import type { ApiLog, IndexReader } from "../app-deps.ts";
import { JSON_LIMIT, JSON_TYPES } from "../middleware.ts";
import { ApiProblem } from "../problem.ts";
import type { RateLimiter } from "../rate-limit.ts";
import { requireScope } from "../staff-auth.ts";
import { sameHex } from "../verify-policy.ts";
import type { LogBundleOfBatch } from "./receipts.ts";
import { documentedRouter, type Validators } from "./documented.ts";
import type { LedgerStore } from "../../store/ledger-store.ts";

/** A person's key material: the organization's VRF public key and pi for the person. */
export interface PersonKeyMaterial {
  vrfPublicKey: string;
  proof: string;
}

export interface PersonRoutesDeps {
  index: Pick<IndexReader, "getBatch">;
  /** Person material from the batch artifacts; absent: no batch was anchored here. */
  ledger: Partial<Pick<LedgerStore, "getPersonBatch">>;
  /**
   * pi for a canonical or typed person identifier; throws an `InvalidInputError` for one that is
   * not a person-id-v1. Absent: the server does not hold the VRF key (503 on the key endpoints).
   */
  personKey?: ((personId: string) => PersonKeyMaterial) | undefined;
  /** The demo's one-time code: `POST /api/v1/demo/login` exists only when this is set. */
  demoLoginCode?: string | undefined;
  logBundle?: LogBundleOfBatch | undefined;
  apiKeys: readonly ApiKeyEntry[];
  limiter: RateLimiter | undefined;
  log: ApiLog;
}

const jsonBody: RequestHandler[] = [
  (req, _res, next) => {
    next(
      req.is(JSON_TYPES)
        ? undefined
        : new ApiProblem(
            "unsupported-media-type",
            "send the body as Content-Type: application/json",
          ),
    );
  },
  express.json({ limit: JSON_LIMIT, type: JSON_TYPES, strict: true }),
];

function keyOf(deps: PersonRoutesDeps, personId: string): PersonKeyMaterial & { personId: string } {
  if (deps.personKey === undefined)
    throw new ApiProblem(
      "person-keys-unavailable",
      "this server was started without the person-key VRF keystore (shafaf serve --vrf-key)",
    );
  try {
    // The canonical spelling (ASCII digits, no spaces): the one a person proof must carry.
    const parsed = parsePersonId(normalizeDigits(personId.trim()));
    if (parsed === undefined) throw new RangeError("not a person-id-v1");
    const canonical = personIdString(parsed);
    return { personId: canonical, ...deps.personKey(canonical) };
  } catch (error) {
    // The identifier is never echoed: the rule alone says what to fix.
    throw new ApiProblem(
      "invalid-person-id",
      "give a 10-digit national ID with its check digit, foreign:<12 digits> or insured:<insurance no>:<ISO alpha-3>",
      { cause: error },
    );
  }
}

const sameCode = (given: string, expected: string): boolean => {
  const a = Buffer.from(given.trim());
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

export function personRoutes(validators: Validators, deps: PersonRoutesDeps): Router {
  const { router, route, validate } = documentedRouter(validators);
  const auth = { apiKeys: deps.apiKeys, limiter: deps.limiter, log: deps.log };

  route(
    "post",
    "/api/v1/persons/key",
    requireScope(auth, "persons:key"),
    ...jsonBody,
    (req, res) => {
      const { body } = validate("POST", "/api/v1/persons/key")(req);
      const key = keyOf(deps, (body as { personId: string }).personId);
      res.set("Cache-Control", "no-store").json(key);
    },
  );

  const demoCode = deps.demoLoginCode;
  if (demoCode !== undefined)
    route("post", "/api/v1/demo/login", ...jsonBody, (req, res) => {
      const { body } = validate("POST", "/api/v1/demo/login")(req);
      const { personId, code } = body as { personId: string; code: string };
      if (!sameCode(code, demoCode))
        throw new ApiProblem(
          "demo-login-failed",
          "the one-time code is wrong: use the code `npm start` printed",
        );
      res.set("Cache-Control", "no-store").json(keyOf(deps, personId));
    });

  /** The answer of persons/proof for one batch; throws ApiProblem as that endpoint answers. */
  const proofOf = async (batchId: number, key: string) => {
    const batch = await deps.index.getBatch(batchId);
    if (batch === undefined)
      throw new ApiProblem("batch-not-found", `batch ${batchId} is not indexed`);
    const material = await deps.ledger.getPersonBatch?.(
      batchId,
      Uint8Array.from(Buffer.from(key.slice(2), "hex")),
    );
    if (material === undefined)
      throw new ApiProblem(
        batch.scheme === "shafaf-tree/2" ? "batch-not-found" : "not-a-person-batch",
        batch.scheme === "shafaf-tree/2"
          ? `batch ${batchId} was not anchored from this server's data directory`
          : `batch ${batchId} is a shafaf-tree/1 batch: check its records by their receipts`,
      );
    if (!sameHex(material.proof.root.hash, batch.root)) {
      deps.log.error("person-proof-integrity", { batchId });
      throw new ApiProblem(
        "receipt-integrity",
        "this batch's proof does not lead to its indexed root; the operators have been alerted",
      );
    }
    let log: unknown;
    if (deps.logBundle !== undefined) {
      try {
        const found = await deps.logBundle(batchId);
        if (found.ok && sameHex(found.root, batch.root)) log = found.bundle;
      } catch (error) {
        const e = error as { message?: string; code?: string };
        deps.log.error("log-bundle", { batchId, message: e.message, code: e.code });
      }
    }
    return {
      chainId: material.chainId,
      contract: material.contract,
      batchId,
      context: { kind: batch.kind, period: batch.period },
      records: material.records,
      proof: material.proof,
      ...(log === undefined ? {} : { log }),
    };
  };

  route("post", "/api/v1/persons/proof", ...jsonBody, async (req, res) => {
    const { body } = validate("POST", "/api/v1/persons/proof")(req);
    const { batchId, key } = body as { batchId: number; key: string };
    res.set("Cache-Control", "no-store").json(await proofOf(batchId, key));
  });

  // Several batches in one request (a year of a person's history: one HTTP round trip instead
  // of one per batch). Each item is answered as persons/proof answers it, or with its problem.
  route("post", "/api/v1/persons/proofs", ...jsonBody, async (req, res) => {
    const { body } = validate("POST", "/api/v1/persons/proofs")(req);
    const { items } = body as { items: { batchId: number; key: string }[] };
    const answers: unknown[] = [];
    for (const { batchId, key } of items) {
      try {
        answers.push(await proofOf(batchId, key));
      } catch (error) {
        if (!(error instanceof ApiProblem)) throw error;
        answers.push({ batchId, problem: error.toDocument() });
      }
    }
    res.set("Cache-Control", "no-store").json({ items: answers });
  });
  return router;
}

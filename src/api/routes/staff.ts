import express, { type Request, type RequestHandler, type Response, type Router } from "express";
import type { ApiKeyEntry } from "../api-keys.ts";
import {
  UploadRejectedError,
  type AnchorJobFn,
  type AnchorUpload,
  type ApiLog,
  type LedgerReader,
  type UploadIssue,
} from "../app-deps.ts";
import { ApiProblem } from "../problem.ts";
import type { RateLimiter } from "../rate-limit.ts";
import { requireScope } from "../staff-auth.ts";
import { documentedRouter, type Validators } from "./documented.ts";

export const UPLOAD_TYPES = [
  "application/octet-stream",
  "text/csv",
  "application/zip",
  "application/x-ndjson",
];

export interface StaffRoutesDeps {
  ledger: Pick<LedgerReader, "listReceiptsBySubject">;
  anchorJob: AnchorJobFn | undefined;
  apiKeys: readonly ApiKeyEntry[];
  limiter: RateLimiter | undefined;
  log: ApiLog;
  uploadLimit: number;
}

/** The anchor job's failure as the client sees it: the record issues, or "retry resumes". */
export function uploadFailure(error: unknown, log: ApiLog, keyId: string): ApiProblem {
  if (error instanceof UploadRejectedError) {
    return new ApiProblem(
      "upload-rejected",
      `${error.issues.length} record issue(s); fix the file and upload it again`,
      {
        extensions: {
          // Only the documented members: a value a careless pipeline put in an issue never leaves.
          issues: error.issues.slice(0, 100).map((i: UploadIssue) => ({
            ...(i.line === undefined ? {} : { line: i.line }),
            field: i.field,
            rule: i.rule,
            message: i.message,
            hint: i.hint,
          })),
        },
      },
    );
  }
  log.error("anchor-failed", { keyId, error: (error as Error).name });
  return new ApiProblem(
    "anchor-failed",
    "the pipeline could not anchor the file; uploading it again resumes safely",
    { cause: error },
  );
}

/** The validated query and the raw body → the pipeline's upload. */
function uploadOf(req: Request, res: Response): AnchorUpload {
  const query = res.locals.query as Record<string, unknown>;
  const body = req.body as unknown;
  if (!Buffer.isBuffer(body) || body.length === 0) {
    throw new ApiProblem("invalid-request", "the request body is empty: send the file's bytes", {
      extensions: { errors: [{ in: "body", pointer: "/", message: "empty" }] },
    });
  }
  return {
    kind: query.kind as "premium" | "pension",
    period: query.period as string,
    format: query.format as "csv" | "jsonl" | "sso-zip",
    bytes: new Uint8Array(body.buffer, body.byteOffset, body.length),
    uploadedBy: res.locals.apiKeyId as string,
    ...(query.supersedes === undefined ? {} : { supersedes: query.supersedes as number }),
    ...(query.reason === undefined ? {} : { reason: query.reason as string }),
    ...(query.province === undefined ? {} : { province: query.province as string }),
  };
}

/** Query, pipeline and media type are checked before a large body is read. */
function beforeUploadBody(
  validate: (req: Request) => { query: Record<string, unknown> },
  anchorJob: AnchorJobFn | undefined,
): RequestHandler {
  return (req, res, next) => {
    res.locals.query = validate(req).query;
    if (anchorJob === undefined) {
      return next(
        new ApiProblem(
          "anchoring-unavailable",
          "this server was started without an anchor pipeline; anchor with `shafaf anchor` or start `shafaf serve` with a signer",
        ),
      );
    }
    if (!req.is(UPLOAD_TYPES)) {
      return next(
        new ApiProblem(
          "unsupported-media-type",
          `send the file as the raw body with Content-Type one of ${UPLOAD_TYPES.join(", ")}`,
        ),
      );
    }
    next();
  };
}

/**
 * Staff endpoints (`POST /api/v1/batches`, `GET /api/v1/subjects/{pseudonym}/receipts`): the key
 * is checked before anything is read; mounted before the public rate limit.
 */
export function staffRoutes(validators: Validators, deps: StaffRoutesDeps): Router {
  const { router, route, validate } = documentedRouter(validators);
  const auth = { apiKeys: deps.apiKeys, limiter: deps.limiter, log: deps.log };
  route(
    "post",
    "/api/v1/batches",
    requireScope(auth, "anchor"),
    beforeUploadBody(validate("POST", "/api/v1/batches"), deps.anchorJob),
    express.raw({ type: UPLOAD_TYPES, limit: deps.uploadLimit }),
    async (req, res) => {
      const upload = uploadOf(req, res);
      let outcome;
      try {
        outcome = await deps.anchorJob!(upload);
      } catch (error) {
        throw uploadFailure(error, deps.log, upload.uploadedBy);
      }
      res
        .status(201)
        .location(`/api/v1/batches/${outcome.batchId}`)
        .setHeader("Cache-Control", "no-store")
        .json({
          batchId: outcome.batchId,
          txHash: outcome.txHash,
          root: outcome.root,
          recordCount: outcome.recordCount,
          total: outcome.total,
        });
    },
  );
  route(
    "get",
    "/api/v1/subjects/{pseudonym}/receipts",
    requireScope(auth, "subjects:read"),
    async (req, res) => {
      const { params } = validate("GET", "/api/v1/subjects/{pseudonym}/receipts")(req);
      const pseudonym = (params.pseudonym as string).toLowerCase();
      const items = await deps.ledger.listReceiptsBySubject(pseudonym);
      res.setHeader("Cache-Control", "no-store");
      res.json({ items });
    },
  );
  return router;
}

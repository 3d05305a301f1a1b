import type { Response } from "express";
import { ShafafError } from "../core/errors.ts";

/**
 * Every error the API answers with, by slug. The `type` URI of a problem is
 * `urn:shafaf:problem:<slug>`; slugs are stable: clients may branch on them. New slugs are
 * added, existing ones never renamed or reused.
 */
export const PROBLEM_TYPES = {
  "not-found": { status: 404, title: "No such resource" },
  "method-not-allowed": { status: 405, title: "Method not allowed on this resource" },
  "batch-not-found": { status: 404, title: "No batch with this id has been indexed" },
  "receipt-not-found": { status: 404, title: "No receipt has this code" },
  "attestation-not-found": { status: 404, title: "The batch has no attestation at this position" },
  "invalid-request": { status: 400, title: "The request does not match the API's schema" },
  "malformed-body": { status: 400, title: "The request body is not valid JSON" },
  "body-too-large": { status: 413, title: "The request body is larger than allowed" },
  "bad-request": { status: 400, title: "The request is not valid HTTP" },
  "headers-too-large": { status: 431, title: "The request headers are larger than allowed" },
  "request-timeout": { status: 408, title: "The request did not arrive in time" },
  busy: { status: 503, title: "The server is busy verifying other receipts" },
  "unsupported-media-type": {
    status: 415,
    title: "The request body has an unsupported media type",
  },
  unauthorized: { status: 401, title: "A valid API key is required" },
  forbidden: { status: 403, title: "The API key lacks the scope this endpoint needs" },
  "rate-limited": { status: 429, title: "Too many requests from this client" },
  "not-ready": { status: 503, title: "The index has not caught up with the chain yet" },
  "shutting-down": { status: 503, title: "The server is shutting down" },
  "receipt-integrity": {
    status: 500,
    title: "A stored receipt does not verify against the indexed root; it was withheld",
  },
  "batch-not-indexed": {
    status: 503,
    title: "The receipt's batch is not indexed yet",
  },
  "anchoring-unavailable": { status: 503, title: "This server does not anchor uploads" },
  "upload-rejected": { status: 422, title: "The uploaded file has invalid records" },
  "anchor-failed": { status: 502, title: "Anchoring the upload failed" },
  "upstream-unavailable": { status: 503, title: "A store or the chain did not answer" },
  "invalid-person-id": { status: 400, title: "The person identifier is not valid" },
  "person-keys-unavailable": {
    status: 503,
    title: "This server does not hold the person-key VRF key",
  },
  "demo-login-failed": { status: 401, title: "The demo one-time code is wrong" },
  "not-a-person-batch": {
    status: 422,
    title: "The batch is a shafaf-tree/1 batch: it has no person proofs",
  },
  internal: { status: 500, title: "Internal error" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemSlug = keyof typeof PROBLEM_TYPES;

/** The `type` URI of a problem slug. */
export function problemType(slug: ProblemSlug): string {
  return `urn:shafaf:problem:${slug}`;
}

/** One RFC 9457 problem document, as sent. Extension members carry no personal data. */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  [extension: string]: unknown;
}

/**
 * An error that becomes a problem response. `detail` says what was wrong and how to fix it; it
 * MUST NOT contain personal data or secrets (it is sent to anyone and logged).
 */
export class ApiProblem extends ShafafError {
  override name = "ApiProblem";
  readonly slug: ProblemSlug;
  readonly detail: string;
  readonly extensions: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    slug: ProblemSlug,
    detail: string,
    options: {
      extensions?: Record<string, unknown>;
      headers?: Record<string, string>;
      cause?: unknown;
    } = {},
  ) {
    super(`${slug}: ${detail}`, {
      code: `api.${slug}`,
      // The client may ask again: throttled, or the server or what it depends on is unavailable.
      retryable: [429, 502, 503].includes(PROBLEM_TYPES[slug].status),
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
    this.slug = slug;
    this.detail = detail;
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
  }

  get status(): number {
    return PROBLEM_TYPES[this.slug].status;
  }

  toDocument(instance?: string): ProblemDocument {
    const doc: ProblemDocument = {
      ...this.extensions,
      type: problemType(this.slug),
      title: PROBLEM_TYPES[this.slug].title,
      status: this.status,
      detail: this.detail,
    };
    if (instance !== undefined) doc.instance = instance;
    return doc;
  }
}

/** Sends `problem` as `application/problem+json`; `instance` is the request path (no query). */
export function sendProblem(res: Response, problem: ApiProblem, instance?: string): void {
  for (const [name, value] of Object.entries(problem.headers)) res.setHeader(name, value);
  res
    .status(problem.status)
    .type("application/problem+json")
    .setHeader("Cache-Control", "no-store")
    .send(JSON.stringify(problem.toDocument(instance)));
}

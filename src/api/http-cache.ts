import { createHash } from "node:crypto";
import type { Request, Response } from "express";

/** Whether an `If-None-Match` header value matches `etag` (weak comparison, RFC 9110 §13.1.2). */
export function ifNoneMatchMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  return header.split(",").some((tag) => tag.trim() === "*" || opaque(tag) === opaque(etag));
}

/**
 * Sends `body` as JSON with a strong ETag (SHA-256 of the exact bytes) and `cacheControl`, or
 * 304 without a body when the request's If-None-Match already names that ETag.
 */
export function sendCacheable(
  req: Request,
  res: Response,
  body: unknown,
  cacheControl: string,
): void {
  const text = JSON.stringify(body);
  const etag = `"${createHash("sha256").update(text).digest("base64url")}"`;
  res.setHeader("ETag", etag);
  res.setHeader("Cache-Control", cacheControl);
  if (ifNoneMatchMatches(req.headers["if-none-match"], etag)) {
    res.status(304).end();
    return;
  }
  res.type("application/json").send(text);
}

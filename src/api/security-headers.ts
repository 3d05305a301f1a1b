import type { RequestHandler } from "express";

/**
 * The Content-Security-Policy for the API and the portal: everything from this origin only, no
 * inline script or style, no framing; `connect-src` adds the chain RPC origin the portal reads
 * directly (`rpcUrlForBrowsers`), and nothing else. `'wasm-unsafe-eval'` lets the page compile
 * core's WebAssembly keccak (the receipt check runs in the browser); it allows no `eval` and no
 * inline script.
 */
export function contentSecurityPolicy(rpcUrlForBrowsers?: string): string {
  const connect = ["'self'"];
  if (rpcUrlForBrowsers !== undefined) connect.push(new URL(rpcUrlForBrowsers).origin);
  return [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${connect.join(" ")}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** Security headers on every response (helmet's defaults, written out; no dependency). */
export function securityHeaders(rpcUrlForBrowsers?: string): RequestHandler {
  const csp = contentSecurityPolicy(rpcUrlForBrowsers);
  return (_req, res, next) => {
    res.setHeader("Content-Security-Policy", csp);
    res.setHeader("X-Content-Type-Options", "nosniff");
    res.setHeader("X-Frame-Options", "DENY");
    res.setHeader("Referrer-Policy", "no-referrer");
    res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
    res.setHeader("Cross-Origin-Resource-Policy", "same-origin");
    res.setHeader("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()");
    res.setHeader("X-DNS-Prefetch-Control", "off");
    next();
  };
}

/**
 * CORS for the public API, off unless origins are given. Allowed origins get simple GET/POST
 * access with `Content-Type` and `If-None-Match`; credentials are never allowed, and the staff
 * `Authorization` header is not in the allow-list (staff calls come from servers, not browsers).
 */
export function cors(origins: readonly string[]): RequestHandler {
  const any = origins.includes("*");
  const allowed = new Set(origins);
  return (req, res, next) => {
    const origin = req.headers.origin;
    res.vary("Origin");
    if (origin === undefined || !(any || allowed.has(origin))) return next();
    res.setHeader("Access-Control-Allow-Origin", any ? "*" : origin);
    res.setHeader("Access-Control-Expose-Headers", "ETag, Retry-After, Location");
    // Cross-origin readers must be able to read our responses.
    res.setHeader("Cross-Origin-Resource-Policy", "cross-origin");
    if (req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined) {
      res.setHeader("Access-Control-Allow-Methods", "GET, HEAD, POST");
      res.setHeader("Access-Control-Allow-Headers", "Content-Type, If-None-Match");
      res.setHeader("Access-Control-Max-Age", "600");
      res.status(204).end();
      return;
    }
    next();
  };
}

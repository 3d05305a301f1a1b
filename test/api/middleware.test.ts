/**
 * The middleware chain and the staff check, each mounted alone on a bare Express app on
 * 127.0.0.1:0 with the real error handler: what each refuses, with which problem and headers.
 */
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { expect } from "chai";
import express, { type RequestHandler } from "express";
import { createApiKey } from "../../src/api/api-keys.ts";
import type { ApiLog } from "../../src/api/app-deps.ts";
import {
  drainGuard,
  earlyBodyLimit,
  errorHandler,
  methodNotAllowed,
  rateLimited,
  toProblem,
} from "../../src/api/middleware.ts";
import { ApiProblem } from "../../src/api/problem.ts";
import { createRateLimiter } from "../../src/api/rate-limit.ts";
import { requireScope } from "../../src/api/staff-auth.ts";
import { call } from "./http.ts";

type Logged = { level: string; event: string; fields: Record<string, unknown> };

function recordingLog(): { log: ApiLog; logs: Logged[] } {
  const logs: Logged[] = [];
  const log: ApiLog = {
    info: (event, fields = {}) => logs.push({ level: "info", event, fields }),
    warn: (event, fields = {}) => logs.push({ level: "warn", event, fields }),
    error: (event, fields = {}) => logs.push({ level: "error", event, fields }),
  };
  return { log, logs };
}

/** A bare app: `handlers` then an OK route at `/x` and `/api/v1/batches`, then the error handler. */
async function serve(
  log: ApiLog,
  ...handlers: RequestHandler[]
): Promise<{ url: string; server: Server }> {
  const app = express();
  app.use(...handlers);
  const ok: RequestHandler = (_req, res) => {
    res.json({ ok: true });
  };
  app.all("/x", ok);
  app.all("/api/v1/batches", ok);
  app.use(errorHandler(log));
  const server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe("API middleware (each alone)", function () {
  const servers: Server[] = [];
  const start = async (log: ApiLog, ...handlers: RequestHandler[]) => {
    const s = await serve(log, ...handlers);
    servers.push(s.server);
    return s.url;
  };
  after(function () {
    for (const s of servers) s.close();
  });

  it("drain guard: 503 shutting-down with Connection: close once draining", async function () {
    let draining = false;
    const url = await start(
      recordingLog().log,
      drainGuard(() => draining),
    );
    expect((await call(`${url}/x`)).status).to.equal(200);
    draining = true;
    const r = await call(`${url}/x`);
    expect(r.status).to.equal(503);
    expect(r.headers.get("connection")).to.equal("close");
    expect(r.json.type).to.match(/shutting-down$/);
  });

  it("early body limit: refuses a declared length over the route's limit before reading", async function () {
    const url = await start(recordingLog().log, earlyBodyLimit(100));
    const big = "x".repeat(64 * 1024 + 1);
    const json = await call(`${url}/x`, { method: "POST", body: big });
    expect(json.status).to.equal(413);
    expect(json.json.detail).to.equal(
      `the declared body of ${big.length} bytes is larger than this endpoint accepts (65536 bytes)`,
    );
    const upload = await call(`${url}/api/v1/batches`, { method: "POST", body: "y".repeat(101) });
    expect(upload.status).to.equal(413);
    expect(
      (await call(`${url}/api/v1/batches`, { method: "POST", body: "y".repeat(100) })).status,
    ).to.equal(200);
  });

  it("rate limit: 429 with Retry-After once the bucket is empty; off without a limiter", async function () {
    const limited = await start(
      recordingLog().log,
      rateLimited(createRateLimiter({ capacity: 1, refillPerSecond: 0.001 })),
    );
    expect((await call(`${limited}/x`)).status).to.equal(200);
    const r = await call(`${limited}/x`);
    expect(r.status).to.equal(429);
    expect(Number(r.headers.get("retry-after"))).to.be.greaterThan(0);
    expect(r.json.retryAfter).to.equal(Number(r.headers.get("retry-after")));
    const open = await start(recordingLog().log, rateLimited(undefined));
    for (let i = 0; i < 3; i++) expect((await call(`${open}/x`)).status).to.equal(200);
  });

  it("405 for a documented path with another method, with Allow; other paths fall through", async function () {
    const url = await start(recordingLog().log, methodNotAllowed());
    const r = await call(`${url}/api/v1/stats`, { method: "DELETE" });
    expect(r.status).to.equal(405);
    expect(r.headers.get("allow")).to.equal("GET, HEAD");
    expect(r.json.instance).to.equal("method-not-allowed");
    expect((await call(`${url}/x`, { method: "DELETE" })).status).to.equal(200);
  });

  it("staff check: 401 without or with an unknown key, 403 without the scope, logs the key id only", async function () {
    const { log, logs } = recordingLog();
    const { token, entry } = createApiKey("payroll", ["subjects:read"]);
    const url = await start(
      log,
      requireScope({ apiKeys: [entry], limiter: undefined, log }, "anchor"),
    );
    const none = await call(`${url}/x`);
    expect(none.status).to.equal(401);
    expect(none.headers.get("www-authenticate")).to.equal('Bearer realm="shafaf-staff"');
    const unknown = await call(`${url}/x`, { headers: { authorization: "Bearer nope" } });
    expect(unknown.json.detail).to.equal(
      "the API key is not known to this server (was it revoked?)",
    );
    const wrong = await call(`${url}/x`, { headers: { authorization: `Bearer ${token}` } });
    expect(wrong.status).to.equal(403);
    expect(wrong.json.requiredScope).to.equal("anchor");
    const staffCalls = logs.filter((l) => l.event === "staff-call");
    expect(staffCalls.map((l) => l.fields.keyId)).to.deep.equal([null, null, "payroll"]);
    expect(JSON.stringify(logs)).not.to.include(token);
  });

  it("maps errors to problems: parser errors by type, closed stores as 503, the rest internal", function () {
    const { log, logs } = recordingLog();
    const slug = (e: unknown) => toProblem(e, log, "/r").slug;
    const own = new ApiProblem("busy", "x");
    expect(toProblem(own, log, undefined)).to.equal(own);
    expect(slug({ type: "entity.too.large" })).to.equal("body-too-large");
    expect(slug({ type: "entity.parse.failed" })).to.equal("malformed-body");
    expect(slug({ type: "charset.unsupported" })).to.equal("unsupported-media-type");
    expect(slug({ status: 400 })).to.equal("invalid-request");
    expect(slug({ code: "LEVEL_DATABASE_NOT_OPEN" })).to.equal("upstream-unavailable");
    expect(logs).to.deep.equal([]);
    expect(slug(new TypeError("secret 0012345678"))).to.equal("internal");
    expect(logs).to.deep.equal([
      {
        level: "error",
        event: "internal-error",
        fields: { route: "/r", error: "TypeError", code: undefined },
      },
    ]);
  });
});

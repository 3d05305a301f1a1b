/**
 * The API's OpenAPI 3.1 document, written by hand. It is also the API's input validator: query,
 * path and body schemas below are compiled by `request-validator.ts`, so what is documented is
 * what is enforced. test/api/openapi.test.ts checks that every documented operation answers,
 * every route of the app is documented, and responses validate against these schemas.
 */

import receiptJsonSchema from "../../schemas/receipt-1.schema.json" with { type: "json" };
import receiptV2JsonSchema from "../../schemas/receipt-2.schema.json" with { type: "json" };

/**
 * Core's receipt schema as OpenAPI components: `$defs/x` becomes `components/schemas/receipt.x`
 * (OpenAPI tools resolve references from the document root).
 */
function fromCoreReceiptSchema(
  schema: object = receiptJsonSchema,
  prefix = "receipt",
): { receiptSchema: object; receiptDefs: Record<string, object> } {
  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (node === null || typeof node !== "object") return node;
    // For strict mode, same meaning: a bare `properties` (an allOf branch of an object) gets its
    // `type`, and `not: { required: [k] }` ("k is absent") becomes `properties: { k: false }`.
    let typed = node as Record<string, unknown>;
    const not = typed.not as { required?: unknown } | undefined;
    if (not !== undefined && Object.keys(not).length === 1 && Array.isArray(not.required)) {
      const { not: _n, ...others } = typed;
      const absent = Object.fromEntries((not.required as string[]).map((k) => [k, false]));
      typed = {
        ...others,
        properties: { ...(others.properties as object | undefined), ...absent },
      };
    }
    if ("properties" in typed && !("type" in typed)) typed = { type: "object", ...typed };
    return Object.fromEntries(
      Object.entries(typed).map(([k, v]) => [
        k,
        k === "$ref" && typeof v === "string"
          ? v.replace("#/$defs/", `#/components/schemas/${prefix}.`)
          : rewrite(v),
      ]),
    );
  };
  const { $schema: _s, $id: _i, $defs, ...rest } = schema as Record<string, unknown>;
  const defs = Object.fromEntries(
    Object.entries(($defs ?? {}) as Record<string, object>).map(([k, v]) => [
      `${prefix}.${k}`,
      rewrite(v) as object,
    ]),
  );
  return { receiptSchema: rewrite(rest) as object, receiptDefs: defs };
}
const { receiptSchema, receiptDefs } = fromCoreReceiptSchema();
const { receiptSchema: receiptV2Schema, receiptDefs: receiptV2Defs } = fromCoreReceiptSchema(
  receiptV2JsonSchema,
  "receipt2",
);

const hex32 = { type: "string", pattern: "^0x[0-9a-fA-F]{64}$" } as const;
const address = { type: "string", pattern: "^0x[0-9a-fA-F]{40}$" } as const;
const period = {
  type: "string",
  pattern: "^1[3-9][0-9]{2}-(0[1-9]|1[0-2])$",
  description: "Jalali year-month, e.g. 1403-07",
} as const;
const rials = {
  type: "string",
  pattern: "^(0|[1-9][0-9]*)$",
  description: "integer Rials as a decimal string",
} as const;
const kind = { type: "string", enum: ["premium", "pension"] } as const;
const batchStatus = {
  type: "string",
  enum: ["anchored", "attested", "disputed", "superseded"],
} as const;
const count = { type: "integer", minimum: 0 } as const;
const batchCursor = { type: "string", pattern: "^[1-9][0-9]{0,15}$" } as const;
const eventCursor = { type: "string", pattern: "^[0-9a-f]{16}![0-9a-f]{8}$" } as const;

const problemResponse = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
});
const json = (description: string, ref: string, headers?: Record<string, unknown>) => ({
  description,
  ...(headers === undefined ? {} : { headers }),
  content: { "application/json": { schema: { $ref: `#/components/schemas/${ref}` } } },
});
const cacheHeaders = {
  ETag: { schema: { type: "string" }, description: "strong validator of the body" },
  "Cache-Control": { schema: { type: "string" } },
};
const publicErrors = {
  "400": problemResponse("invalid query, path or body (unknown parameters are rejected)"),
  "429": {
    ...problemResponse("rate limited; retry after the Retry-After header's seconds"),
    headers: { "Retry-After": { schema: { type: "integer" } } },
  },
};
const notModified = { "304": { description: "not modified (If-None-Match matched the ETag)" } };

export const openApiDocument = {
  openapi: "3.1.0",
  info: {
    title: "Shafaf transparency API",
    version: "1.0.0",
    summary: "Anchored social-security batches, aggregate statistics and receipt proofs",
    description:
      "Public views are aggregates only: cells covering fewer than 10 people are suppressed. " +
      "Errors are RFC 9457 problem documents whose `type` is `urn:shafaf:problem:<slug>`. " +
      "Staff endpoints need `Authorization: Bearer <api key>` with the named scope.",
    license: { name: "Apache-2.0", identifier: "Apache-2.0" },
  },
  servers: [{ url: "/" }],
  tags: [
    { name: "public", description: "Open to anyone; rate limited per client address" },
    { name: "staff", description: "The organization's own systems; API key with scopes" },
    { name: "operations", description: "Probes and metrics" },
  ],
  paths: {
    "/api/v1/batches": {
      get: {
        operationId: "listBatches",
        tags: ["public"],
        summary: "Anchored batches, newest first",
        parameters: [
          { name: "kind", in: "query", schema: kind },
          { name: "from", in: "query", schema: period, description: "first period, inclusive" },
          { name: "to", in: "query", schema: period, description: "last period, inclusive" },
          { name: "status", in: "query", schema: batchStatus },
          {
            name: "cursor",
            in: "query",
            schema: batchCursor,
            description: "nextCursor of the previous page",
          },
          {
            name: "limit",
            in: "query",
            schema: { type: "integer", minimum: 1, maximum: 100, default: 20 },
          },
        ],
        responses: { "200": json("a page of batches", "BatchPage"), ...publicErrors },
      },
      post: {
        operationId: "uploadBatch",
        tags: ["staff"],
        summary: "Upload a premium or pension file and anchor it (scope `anchor`)",
        description:
          "The body is the file itself (raw bytes, not multipart): a CSV file (`format=csv`), " +
          "a JSON Lines file (`format=jsonl`) or a zip of SSO ListDisk DBF pairs " +
          "(`format=sso-zip`). The same pipeline as `shafaf anchor` validates, builds the tree, " +
          "anchors and writes receipts; uploading the same bytes again returns the same batch.",
        security: [{ apiKey: ["anchor"] }],
        parameters: [
          { name: "kind", in: "query", required: true, schema: kind },
          { name: "period", in: "query", required: true, schema: period },
          {
            name: "format",
            in: "query",
            required: true,
            schema: { type: "string", enum: ["csv", "jsonl", "sso-zip"] },
          },
          {
            name: "supersedes",
            in: "query",
            schema: { type: "integer", minimum: 1 },
            description: "id of the current batch this upload corrects",
          },
          {
            name: "reason",
            in: "query",
            schema: { type: "string", pattern: "^[a-z0-9-]{1,40}$" },
            description: "correction reason code",
          },
          {
            name: "province",
            in: "query",
            schema: { type: "string", pattern: "^IR-[0-9]{2}$" },
            description:
              "the province of every workshop in an `sso-zip` upload (DBF lists carry none)",
          },
        ],
        requestBody: {
          required: true,
          content: {
            "application/octet-stream": {
              schema: { type: "string", contentMediaType: "application/octet-stream" },
            },
            "text/csv": { schema: { type: "string" } },
            "application/zip": { schema: { type: "string", contentMediaType: "application/zip" } },
            "application/x-ndjson": { schema: { type: "string" } },
          },
        },
        responses: {
          "201": json("anchored", "AnchorOutcome", {
            Location: { schema: { type: "string" }, description: "/api/v1/batches/{batchId}" },
          }),
          "400": problemResponse("invalid query"),
          "401": problemResponse("no API key, or an unknown one"),
          "403": problemResponse("the key lacks the `anchor` scope"),
          "429": problemResponse("too many calls with an unknown key from this address"),
          "413": problemResponse("the file is larger than the server's upload limit"),
          "415": problemResponse("unsupported media type"),
          "422": problemResponse("records failed validation (issues listed, values masked)"),
          "502": problemResponse("the chain or the pipeline failed; retrying is safe"),
          "503": problemResponse("this server does not anchor uploads"),
        },
      },
    },
    "/api/v1/batches/{id}": {
      get: {
        operationId: "getBatch",
        tags: ["public"],
        summary: "One batch: attestations, supersession, provincial breakdown, transaction",
        parameters: [
          {
            name: "id",
            in: "path",
            required: true,
            schema: { type: "integer", minimum: 1, maximum: 9007199254740991 },
          },
        ],
        responses: {
          "200": json("the batch", "Batch", cacheHeaders),
          ...notModified,
          ...publicErrors,
          "404": problemResponse("no such batch"),
        },
      },
    },
    "/api/v1/batches/{id}/tiles": {
      get: {
        operationId: "getBatchTiles",
        tags: ["public"],
        summary:
          "A shafaf-tree/2 batch's tiles descriptor (tiles.json, docs/spec/batch-tiles-v1.md): provinces, roots, right edges; immutable",
        parameters: [
          {
            name: "id",
            in: "path",
            required: true,
            schema: { type: "integer", minimum: 1, maximum: 9007199254740991 },
          },
        ],
        responses: {
          "200": json("tiles.json", "BatchTiles", {
            "Cache-Control": { schema: { type: "string" } },
          }),
          ...publicErrors,
          "404": problemResponse("no such batch on this server, or a shafaf-tree/1 batch"),
        },
      },
    },
    "/api/v1/batches/{id}/tiles/{province}/tile/{level}/{index}": {
      get: {
        operationId: "getBatchTile",
        tags: ["public"],
        summary:
          "A full public tile (256 entries) of a province subtree of a shafaf-tree/2 batch; immutable",
        parameters: [
          {
            name: "id",
            in: "path",
            required: true,
            schema: { type: "integer", minimum: 1, maximum: 9007199254740991 },
          },
          {
            name: "province",
            in: "path",
            required: true,
            schema: { type: "string", pattern: "^IR-[0-9]{2}$" },
          },
          {
            name: "level",
            in: "path",
            required: true,
            description: "tile level, 1 or more (level 0 holds single records and is never served)",
            schema: { type: "integer", minimum: 1, maximum: 63 },
          },
          {
            name: "index",
            in: "path",
            required: true,
            description: "tile index as three digits (tlog-tiles path element)",
            schema: { type: "string", pattern: "^[0-9]{3}$" },
          },
        ],
        responses: {
          "200": {
            description:
              "the tile: its entries, each hash (32 bytes) ‖ lanes (16 bytes each, big-endian)",
            headers: { "Cache-Control": { schema: { type: "string" } } },
            content: {
              "application/octet-stream": {
                schema: { type: "string", contentMediaType: "application/octet-stream" },
              },
            },
          },
          ...publicErrors,
          "404": problemResponse(
            "no such public tile (level 0 and small provinces are never public)",
          ),
        },
      },
    },
    "/api/v1/batches/{id}/tiles/{province}/tile/{level}/{index}.p/{width}": {
      get: {
        operationId: "getBatchPartialTile",
        tags: ["public"],
        summary:
          "A partial public tile (1–255 entries) of a province subtree; immutable (a batch's tree never grows)",
        parameters: [
          {
            name: "id",
            in: "path",
            required: true,
            schema: { type: "integer", minimum: 1, maximum: 9007199254740991 },
          },
          {
            name: "province",
            in: "path",
            required: true,
            schema: { type: "string", pattern: "^IR-[0-9]{2}$" },
          },
          {
            name: "level",
            in: "path",
            required: true,
            description: "tile level, 1 or more (level 0 holds single records and is never served)",
            schema: { type: "integer", minimum: 1, maximum: 63 },
          },
          {
            name: "index",
            in: "path",
            required: true,
            description: "tile index as three digits (tlog-tiles path element)",
            schema: { type: "string", pattern: "^[0-9]{3}$" },
          },
          {
            name: "width",
            in: "path",
            required: true,
            schema: { type: "integer", minimum: 1, maximum: 255 },
          },
        ],
        responses: {
          "200": {
            description:
              "the tile: its entries, each hash (32 bytes) ‖ lanes (16 bytes each, big-endian)",
            headers: { "Cache-Control": { schema: { type: "string" } } },
            content: {
              "application/octet-stream": {
                schema: { type: "string", contentMediaType: "application/octet-stream" },
              },
            },
          },
          ...publicErrors,
          "404": problemResponse("no such public tile"),
        },
      },
    },
    "/api/v1/batches/{id}/attestations/{index}/findings": {
      get: {
        operationId: "getAttestationFindings",
        tags: ["public"],
        summary:
          "What an auditor's verdict is about: the findings of the report whose keccak256 the auditor attested (names, positions and counts only)",
        parameters: [
          {
            name: "id",
            in: "path",
            required: true,
            schema: { type: "integer", minimum: 1, maximum: 9007199254740991 },
          },
          {
            name: "index",
            in: "path",
            required: true,
            description: "the attestation's position in the batch's `attestations`, from 0",
            schema: { type: "integer", minimum: 0, maximum: 1000000 },
          },
        ],
        responses: {
          "200": json("the findings, or that the report is not published here", "Findings"),
          ...publicErrors,
          "404": problemResponse("no such batch or attestation"),
        },
      },
    },
    "/api/v1/stats": {
      get: {
        operationId: "getStats",
        tags: ["public"],
        summary: "Totals per period and kind, and per province (small cells suppressed)",
        responses: {
          "200": json("statistics", "Stats", cacheHeaders),
          ...notModified,
          ...publicErrors,
        },
      },
    },
    "/api/v1/receipts/{code}": {
      get: {
        operationId: "getReceipt",
        tags: ["public"],
        summary: "A receipt by its code, verified against the indexed root before it is sent",
        parameters: [
          {
            name: "code",
            in: "path",
            required: true,
            schema: { type: "string", minLength: 4, maxLength: 100 },
            description:
              "the receipt code as printed; spaces, dashes, case and Persian or Arabic digits are normalised",
          },
        ],
        responses: {
          "200": json("the receipt", "Receipt", cacheHeaders),
          ...notModified,
          ...publicErrors,
          "404": problemResponse("no receipt has this code"),
          "500": problemResponse("the stored receipt failed verification and was withheld"),
          "503": problemResponse("the receipt's batch is not indexed yet"),
        },
      },
    },
    "/api/v1/verify": {
      post: {
        operationId: "verifyReceipt",
        tags: ["public"],
        summary:
          "Verify a receipt: leaf, proof, root (index and chain), code, supersession, attestations",
        description:
          "`verified` vouches for the receipt code only through the `code-bound` check: the receipt this server stores under the code must be the same record (the code is not in the leaf). At most a few verifications run at once; when the queue is full the answer is 503 `busy` with Retry-After.",
        requestBody: {
          required: true,
          content: { "application/json": { schema: { $ref: "#/components/schemas/Receipt" } } },
        },
        responses: {
          "200": json("each check and the verdict", "Verification"),
          ...publicErrors,
          "413": problemResponse("body larger than 64 KiB"),
          "415": problemResponse("body is not application/json"),
          "503": problemResponse(
            "too many verifications waiting (`busy`); retry after Retry-After",
          ),
        },
      },
    },
    "/api/v1/chain": {
      get: {
        operationId: "getChain",
        tags: ["public"],
        summary: "Chain id, contract, head block, indexer lag and the log-head check",
        responses: {
          "200": json("chain and indexer state", "Chain"),
          ...publicErrors,
          "503": problemResponse("the indexer has written nothing yet"),
        },
      },
    },
    "/api/v1/vrf-keys": {
      get: {
        operationId: "listVrfKeys",
        tags: ["public"],
        summary:
          "VRF public keys registered on the ledger (shafaf-tree/2 person keys), in registration order; the last is current",
        responses: { "200": json("the registered keys", "VrfKeyList"), ...publicErrors },
      },
    },
    "/api/v1/events": {
      get: {
        operationId: "listEvents",
        tags: ["public"],
        summary: "Governance and pause events (roles, pauses, admin handover), newest first",
        parameters: [
          {
            name: "cursor",
            in: "query",
            schema: eventCursor,
            description: "nextCursor of the previous page",
          },
          {
            name: "limit",
            in: "query",
            schema: { type: "integer", minimum: 1, maximum: 200, default: 50 },
          },
        ],
        responses: { "200": json("a page of events", "EventPage"), ...publicErrors },
      },
    },
    "/api/v1/subjects/{pseudonym}/receipts": {
      get: {
        operationId: "listSubjectReceipts",
        tags: ["staff"],
        summary: "Every receipt of one person, by keyed pseudonym (scope `subjects:read`)",
        security: [{ apiKey: ["subjects:read"] }],
        parameters: [{ name: "pseudonym", in: "path", required: true, schema: hex32 }],
        responses: {
          "200": json("the receipts", "SubjectReceipts"),
          "400": problemResponse("invalid pseudonym"),
          "401": problemResponse("no API key, or an unknown one"),
          "403": problemResponse("the key lacks the `subjects:read` scope"),
          "429": problemResponse("too many calls with an unknown key from this address"),
        },
      },
    },
    "/api/v1/persons/key": {
      post: {
        operationId: "getPersonKey",
        tags: ["staff"],
        summary:
          "A person's VRF proof pi, for the organization's sign-in system (scope `persons:key`)",
        description:
          "The caller has authenticated the person. The person's browser derives beta from pi, checks it under the VRF key registered on the ledger and computes its batch keys itself. Needs `shafaf serve --vrf-key`; the identifier is never logged nor echoed.",
        security: [{ apiKey: ["persons:key"] }],
        requestBody: {
          required: true,
          content: {
            "application/json": { schema: { $ref: "#/components/schemas/PersonKeyRequest" } },
          },
        },
        responses: {
          "200": json("the person's key material", "PersonKey"),
          "400": problemResponse("invalid body or person identifier"),
          "401": problemResponse("no API key, or an unknown one"),
          "403": problemResponse("the key lacks the `persons:key` scope"),
          "415": problemResponse("body is not application/json"),
          "429": problemResponse("rate limited"),
          "503": problemResponse("the server does not hold the VRF key"),
        },
      },
    },
    "/api/v1/demo/login": {
      post: {
        operationId: "demoLogin",
        tags: ["public"],
        summary: "Demo only (`npm start`): a simulated sign-in with the printed one-time code",
        requestBody: {
          required: true,
          content: { "application/json": { schema: { $ref: "#/components/schemas/DemoLogin" } } },
        },
        responses: {
          "200": json("the person's key material", "PersonKey"),
          ...publicErrors,
          "401": problemResponse("wrong one-time code"),
          "415": problemResponse("body is not application/json"),
          "503": problemResponse("the server does not hold the VRF key"),
        },
      },
    },
    "/api/v1/persons/proof": {
      post: {
        operationId: "getPersonBatchProof",
        tags: ["public"],
        summary: "The range or absence proof of a batch key k_b in one batch, with its records",
        description:
          "A `shafaf-person-proof/1` without `personId` and `vrf` (the browser adds them). k_b is a capability: only whoever holds the person's beta computes it. The server learns which k_b asked for which batch (README, My insurance history).",
        requestBody: {
          required: true,
          content: {
            "application/json": { schema: { $ref: "#/components/schemas/PersonProofRequest" } },
          },
        },
        responses: {
          "200": json("the proof and the person's records in the batch", "PersonBatchProof"),
          ...publicErrors,
          "404": problemResponse("the batch is not indexed or was not anchored here"),
          "415": problemResponse("body is not application/json"),
          "422": problemResponse("a shafaf-tree/1 batch has no person proofs"),
          "500": problemResponse("the proof does not lead to the indexed root; withheld"),
        },
      },
    },
    "/api/v1/persons/proofs": {
      post: {
        operationId: "getPersonBatchProofs",
        tags: ["public"],
        summary: "persons/proof for several batches at once (a year of a person's history)",
        description:
          "Up to 64 `{batchId, key}` items; the answer's `items` are in the same order, each a `PersonBatchProof` or `{batchId, problem}` (the problem persons/proof would answer for it). The server learns the same as from the single requests, plus that these keys were asked together (README, My insurance history).",
        requestBody: {
          required: true,
          content: {
            "application/json": { schema: { $ref: "#/components/schemas/PersonProofsRequest" } },
          },
        },
        responses: {
          "200": json("each batch's proof, or its problem", "PersonBatchProofs"),
          ...publicErrors,
          "415": problemResponse("body is not application/json"),
        },
      },
    },
    "/api/v1/openapi.json": {
      get: {
        operationId: "getOpenApi",
        tags: ["public"],
        summary: "This document",
        responses: {
          "200": {
            description: "OpenAPI 3.1",
            content: { "application/json": { schema: { type: "object" } } },
          },
          ...publicErrors,
        },
      },
    },
    "/healthz": {
      get: {
        operationId: "healthz",
        tags: ["operations"],
        summary: "Liveness: the process serves requests",
        responses: { "200": json("alive", "Health") },
      },
    },
    "/readyz": {
      get: {
        operationId: "readyz",
        tags: ["operations"],
        summary: "Readiness: the indexer has caught up with the chain at least once",
        responses: {
          "200": json("ready", "Readiness"),
          "503": json("not ready yet, or shutting down", "Readiness"),
        },
      },
    },
    "/metrics": {
      get: {
        operationId: "metrics",
        tags: ["operations"],
        summary: "Prometheus metrics: requests and latency by route, indexer lag",
        responses: {
          "200": {
            description: "Prometheus text format",
            content: { "text/plain": { schema: { type: "string" } } },
          },
        },
      },
    },
  },
  components: {
    securitySchemes: {
      apiKey: {
        type: "http",
        scheme: "bearer",
        description:
          "A staff API key; the server stores only its SHA-256 (see the README, section Staff API keys)",
      },
    },
    schemas: {
      Problem: {
        type: "object",
        required: ["type", "title", "status", "detail"],
        properties: {
          type: { type: "string", pattern: "^urn:shafaf:problem:[a-z-]+$" },
          title: { type: "string" },
          status: { type: "integer", minimum: 400, maximum: 599 },
          detail: { type: "string" },
          instance: { type: "string" },
          errors: {
            type: "array",
            items: {
              type: "object",
              required: ["in", "message"],
              properties: {
                in: { type: "string", enum: ["query", "path", "body", "header"] },
                name: { type: "string" },
                pointer: { type: "string" },
                message: { type: "string" },
              },
            },
          },
          issues: { type: "array", items: { type: "object" } },
          retryAfter: { type: "integer" },
        },
      },
      Breakdown: {
        type: "object",
        additionalProperties: false,
        required: ["count", "total"],
        properties: { count, total: rials },
      },
      Suppressed: {
        type: "object",
        additionalProperties: false,
        required: ["suppressed"],
        properties: { suppressed: { const: true } },
        description: "a cell covering fewer than 10 people (or its complement); no figures",
      },
      BreakdownMap: {
        type: "object",
        additionalProperties: {
          oneOf: [
            { $ref: "#/components/schemas/Breakdown" },
            { $ref: "#/components/schemas/Suppressed" },
          ],
        },
      },
      Attestation: {
        type: "object",
        additionalProperties: false,
        required: ["auditor", "verdict", "reportHash", "txHash", "blockNumber"],
        properties: {
          auditor: address,
          verdict: { type: "string", enum: ["confirmed", "disputed"] },
          reportHash: hex32,
          txHash: hex32,
          blockNumber: count,
        },
      },
      Batch: {
        type: "object",
        additionalProperties: false,
        required: [
          "batchId",
          "kind",
          "period",
          "root",
          "recordCount",
          "total",
          "manifestHash",
          "idempotencyKey",
          "headAfter",
          "anchorer",
          "anchoredAt",
          "txHash",
          "blockNumber",
          "blockHash",
          "supersedes",
          "supersededBy",
          "status",
          "attestations",
          "manifest",
          "scheme",
        ],
        properties: {
          batchId: { type: "integer", minimum: 1 },
          kind,
          period,
          root: hex32,
          recordCount: { type: "integer", minimum: 1 },
          total: rials,
          manifestHash: hex32,
          idempotencyKey: hex32,
          headAfter: hex32,
          anchorer: address,
          anchoredAt: { type: "integer", minimum: 0, description: "unix seconds" },
          txHash: hex32,
          blockNumber: count,
          blockHash: hex32,
          supersedes: { type: ["integer", "null"], minimum: 1 },
          supersededBy: { type: ["integer", "null"], minimum: 1 },
          status: batchStatus,
          attestations: { type: "array", items: { $ref: "#/components/schemas/Attestation" } },
          manifest: {
            type: "object",
            additionalProperties: false,
            required: ["status"],
            properties: {
              status: { type: "string", enum: ["verified", "mismatch", "missing"] },
              byProvince: { $ref: "#/components/schemas/BreakdownMap" },
              byCategory: { $ref: "#/components/schemas/BreakdownMap" },
              onTime: count,
              late: count,
              reason: { type: "string" },
            },
          },
          sealedBy: { type: "array", items: address },
          scheme: {
            type: "string",
            enum: ["shafaf-tree/1", "shafaf-tree/2"],
            description: "the batch's tree and receipt scheme (docs/spec/tree-v2.md for /2)",
          },
          persons: {
            ...count,
            description:
              "shafaf-tree/2 only: the root's persons lane (distinct people per province, summed over provinces)",
          },
          lanes: {
            description:
              "shafaf-tree/2 only: the root's amount lanes (tree-v2.md §4); suppressed when the batch covers fewer than 10 persons",
            oneOf: [
              {
                type: "object",
                additionalProperties: false,
                required: ["insurableWage", "days", "premium"],
                properties: { insurableWage: rials, days: rials, premium: rials },
              },
              {
                type: "object",
                additionalProperties: false,
                required: ["gross", "deductions", "net", "onTime"],
                properties: { gross: rials, deductions: rials, net: rials, onTime: rials },
              },
              { $ref: "#/components/schemas/Suppressed" },
            ],
          },
          vrfKeyId: {
            ...hex32,
            description: "shafaf-tree/2 only: keccak256 of the VRF public key",
          },
        },
      },
      PersonKeyRequest: {
        type: "object",
        additionalProperties: false,
        required: ["personId"],
        properties: { personId: { type: "string", minLength: 1, maxLength: 40 } },
      },
      DemoLogin: {
        type: "object",
        additionalProperties: false,
        required: ["personId", "code"],
        properties: {
          personId: { type: "string", minLength: 1, maxLength: 40 },
          code: { type: "string", minLength: 1, maxLength: 20 },
        },
      },
      PersonKey: {
        type: "object",
        additionalProperties: false,
        required: ["personId", "vrfPublicKey", "proof"],
        properties: {
          personId: { type: "string" },
          vrfPublicKey: hex32,
          proof: { type: "string", pattern: "^0x[0-9a-fA-F]{160}$" },
        },
      },
      PersonProofRequest: {
        type: "object",
        additionalProperties: false,
        required: ["batchId", "key"],
        properties: { batchId: { type: "integer", minimum: 1, maximum: 2 ** 53 - 1 }, key: hex32 },
      },
      PersonProofsRequest: {
        type: "object",
        additionalProperties: false,
        required: ["items"],
        properties: {
          items: {
            type: "array",
            minItems: 1,
            maxItems: 64,
            items: { $ref: "#/components/schemas/PersonProofRequest" },
          },
        },
      },
      PersonBatchProofs: {
        type: "object",
        additionalProperties: false,
        required: ["items"],
        properties: {
          items: {
            type: "array",
            items: {
              oneOf: [
                { $ref: "#/components/schemas/PersonBatchProof" },
                {
                  type: "object",
                  additionalProperties: false,
                  required: ["batchId", "problem"],
                  properties: {
                    batchId: { type: "integer", minimum: 1 },
                    problem: { $ref: "#/components/schemas/Problem" },
                  },
                },
              ],
            },
          },
        },
      },
      BatchTiles: {
        type: "object",
        additionalProperties: false,
        required: ["format", "scheme", "kind", "root", "lanes", "entryBytes", "provinces"],
        properties: {
          format: { const: "shafaf-batch-tiles/1" },
          scheme: { const: "shafaf-tree/2" },
          kind,
          root: hex32,
          lanes: { type: "array", items: rials },
          entryBytes: { type: "integer", enum: [112, 128] },
          provinces: {
            type: "array",
            items: {
              type: "object",
              additionalProperties: false,
              required: ["code", "size", "root", "lanes", "public", "edge"],
              properties: {
                code: { type: "string", pattern: "^IR-[0-9]{2}$" },
                size: { type: "integer", minimum: 1 },
                root: hex32,
                lanes: { type: "array", items: rials },
                public: { type: "boolean" },
                edge: {
                  oneOf: [
                    { type: "null" },
                    {
                      type: "object",
                      additionalProperties: false,
                      required: ["hash", "lanes"],
                      properties: { hash: hex32, lanes: { type: "array", items: rials } },
                    },
                  ],
                },
              },
            },
          },
        },
      },
      PersonBatchProof: {
        type: "object",
        additionalProperties: false,
        required: ["chainId", "contract", "batchId", "context", "records", "proof"],
        properties: {
          chainId: { type: "integer", minimum: 1 },
          contract: address,
          batchId: { type: "integer", minimum: 1 },
          context: {
            type: "object",
            additionalProperties: false,
            required: ["kind", "period"],
            properties: { kind, period },
          },
          records: {
            type: "array",
            items: {
              type: "object",
              additionalProperties: false,
              required: ["record", "salt"],
              properties: { record: { type: "object" }, salt: hex32 },
            },
          },
          proof: {
            type: "object",
            required: ["scheme", "type", "key"],
            properties: {
              scheme: { const: "shafaf-tree/2" },
              type: { enum: ["range", "absence"] },
              key: hex32,
            },
          },
          log: { type: "object" },
        },
      },
      VrfKey: {
        type: "object",
        additionalProperties: false,
        required: [
          "keyId",
          "publicKey",
          "index",
          "registrar",
          "registeredAtBlock",
          "registeredAt",
          "txHash",
        ],
        properties: {
          keyId: { ...hex32, description: "keccak256(publicKey)" },
          publicKey: { ...hex32, description: "RFC 8032 encoding (ECVRF-EDWARDS25519-SHA512-TAI)" },
          index: count,
          registrar: address,
          registeredAtBlock: count,
          registeredAt: { type: "integer", minimum: 0, description: "unix seconds" },
          txHash: hex32,
        },
      },
      VrfKeyList: {
        type: "object",
        additionalProperties: false,
        required: ["items"],
        properties: { items: { type: "array", items: { $ref: "#/components/schemas/VrfKey" } } },
      },
      BatchPage: {
        type: "object",
        additionalProperties: false,
        required: ["items", "nextCursor"],
        properties: {
          items: { type: "array", items: { $ref: "#/components/schemas/Batch" } },
          nextCursor: { oneOf: [batchCursor, { type: "null" }] },
        },
      },
      Stats: {
        type: "object",
        additionalProperties: false,
        required: ["periods", "provinces", "minCellPeople"],
        properties: {
          minCellPeople: { const: 10 },
          periods: {
            type: "array",
            items: {
              oneOf: [
                {
                  type: "object",
                  additionalProperties: false,
                  required: ["period", "kind", "batches", "recordCount", "total", "corrections"],
                  properties: {
                    period,
                    kind,
                    batches: count,
                    recordCount: count,
                    total: rials,
                    people: count,
                    onTime: count,
                    late: count,
                    corrections: count,
                  },
                },
                {
                  type: "object",
                  additionalProperties: false,
                  required: ["period", "kind", "suppressed"],
                  properties: { period, kind, suppressed: { const: true } },
                },
              ],
            },
          },
          provinces: {
            type: "array",
            items: {
              oneOf: [
                {
                  type: "object",
                  additionalProperties: false,
                  required: ["period", "kind", "province", "count", "total"],
                  properties: {
                    period,
                    kind,
                    province: { type: "string", pattern: "^IR-[0-9]{2}$" },
                    count,
                    total: rials,
                  },
                },
                {
                  type: "object",
                  additionalProperties: false,
                  required: ["period", "kind", "province", "suppressed"],
                  properties: {
                    period,
                    kind,
                    province: { type: "string", pattern: "^IR-[0-9]{2}$" },
                    suppressed: { const: true },
                  },
                },
              ],
            },
          },
        },
      },
      // schemas/receipt-1.schema.json and receipt-2.schema.json (core's, authoritative), their
      // $defs moved to components: a receipt of a shafaf-tree/1 or a shafaf-tree/2 batch.
      // Chosen by `format`, so that a bad receipt is told about its own version's schema only.
      Receipt: {
        if: {
          type: "object",
          required: ["format"],
          properties: { format: { const: "shafaf-receipt/2" } },
        },
        then: { $ref: "#/components/schemas/ReceiptV2" },
        else: { $ref: "#/components/schemas/ReceiptV1" },
      },
      ReceiptV1: receiptSchema,
      ...receiptDefs,
      ReceiptV2: receiptV2Schema,
      ...receiptV2Defs,
      Check: {
        type: "object",
        additionalProperties: false,
        required: ["name", "ok", "detail"],
        properties: {
          name: { type: "string" },
          ok: { type: "boolean" },
          outcome: { type: "string", enum: ["pass", "fail", "inconclusive"] },
          expected: { type: "string" },
          computed: { type: "string" },
          detail: { type: "string" },
        },
      },
      Verification: {
        type: "object",
        additionalProperties: false,
        required: ["status", "checks"],
        properties: {
          status: { type: "string", enum: ["verified", "failed", "inconclusive"] },
          current: { type: "boolean", description: "false when the batch was superseded" },
          checks: { type: "array", items: { $ref: "#/components/schemas/Check" } },
        },
      },
      Chain: {
        type: "object",
        additionalProperties: false,
        required: [
          "chainId",
          "contract",
          "deployBlock",
          "headBlock",
          "lastIndexedBlock",
          "lag",
          "confirmations",
          "batchCount",
          "paused",
          "headCheck",
          "caughtUp",
        ],
        properties: {
          chainId: { type: "integer", minimum: 1 },
          contract: address,
          genesisHash: hex32,
          deployBlock: count,
          headBlock: count,
          lastIndexedBlock: count,
          lastIndexedHash: { type: "string" },
          lag: { type: "integer", minimum: 0, description: "headBlock − lastIndexedBlock" },
          confirmations: count,
          batchCount: count,
          paused: { type: "boolean" },
          caughtUp: { type: "boolean" },
          headCheck: {
            type: "object",
            additionalProperties: false,
            required: ["status"],
            properties: {
              status: { type: "string", enum: ["ok", "mismatch", "pending"] },
              onChain: { type: ["string", "null"] },
              recomputed: { type: "string" },
              atBlock: { type: ["integer", "null"], minimum: 0 },
              detail: { type: "string" },
            },
          },
          rpcUrl: { type: "string", format: "uri", description: "a JSON-RPC URL browsers may use" },
          names: {
            type: "object",
            description:
              "governance's names of accounts (shafaf-names/1): lower-case address → names",
            propertyNames: { pattern: "^0x[0-9a-f]{40}$" },
            additionalProperties: {
              type: "object",
              additionalProperties: false,
              required: ["fa", "en"],
              properties: { fa: { type: "string" }, en: { type: "string" } },
            },
          },
        },
      },
      Findings: {
        type: "object",
        additionalProperties: false,
        required: ["format", "batchId", "index", "auditor", "verdict", "reportHash", "report"],
        properties: {
          format: { type: "string", const: "shafaf-findings/1" },
          batchId: { type: "integer", minimum: 1 },
          index: count,
          auditor: address,
          verdict: { type: "string", enum: ["confirmed", "disputed"] },
          reportHash: hex32,
          report: {
            type: "string",
            enum: ["published", "unpublished", "unreadable"],
            description:
              "published: a report with the attested keccak256 is served here; unpublished: none is; unreadable: it is not shafaf-audit/1",
          },
          findings: {
            type: "object",
            additionalProperties: false,
            required: ["reportVerdict", "failedChecks", "recordCount", "records", "anomalyCount"],
            properties: {
              reportVerdict: { type: "string", enum: ["match", "mismatch"] },
              failedChecks: { type: "array", items: { type: "string" } },
              recordCount: count,
              records: {
                type: "array",
                maxItems: 50,
                items: {
                  type: "object",
                  additionalProperties: false,
                  required: ["position", "problem", "field"],
                  properties: {
                    position: { type: ["integer", "null"], minimum: 0 },
                    problem: {
                      type: "string",
                      enum: [
                        "changed",
                        "missing",
                        "added",
                        "duplicate",
                        "invalid",
                        "no-salt",
                        "leaf",
                      ],
                    },
                    field: { type: ["string", "null"] },
                  },
                },
              },
              anomalyCount: count,
            },
          },
        },
      },
      EventPage: {
        type: "object",
        additionalProperties: false,
        required: ["items", "nextCursor"],
        properties: {
          items: {
            type: "array",
            items: {
              type: "object",
              additionalProperties: false,
              required: ["type", "blockNumber", "logIndex", "txHash", "args"],
              properties: {
                type: { type: "string" },
                blockNumber: count,
                logIndex: count,
                txHash: hex32,
                args: { type: "object" },
              },
            },
          },
          nextCursor: { oneOf: [eventCursor, { type: "null" }] },
        },
      },
      AnchorOutcome: {
        type: "object",
        additionalProperties: false,
        required: ["batchId", "txHash", "root", "recordCount", "total"],
        properties: {
          batchId: { type: "integer", minimum: 1 },
          txHash: hex32,
          root: hex32,
          recordCount: { type: "integer", minimum: 1 },
          total: rials,
        },
      },
      SubjectReceipts: {
        type: "object",
        additionalProperties: false,
        required: ["items"],
        properties: { items: { type: "array", items: { $ref: "#/components/schemas/Receipt" } } },
      },
      Health: {
        type: "object",
        additionalProperties: false,
        required: ["status"],
        properties: { status: { const: "ok" } },
      },
      Readiness: {
        type: "object",
        additionalProperties: false,
        required: ["ready", "reason"],
        properties: { ready: { type: "boolean" }, reason: { type: "string" } },
      },
    },
  },
};

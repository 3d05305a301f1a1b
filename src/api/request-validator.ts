import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import { InvariantError } from "../core/errors.ts";
import addFormatsModule from "ajv-formats";
import type { Request } from "express";
import { openApiDocument } from "./openapi.ts";
import { ApiProblem } from "./problem.ts";

// ajv-formats is CommonJS; its default export arrives wrapped under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as (ajv: Ajv2020) => Ajv2020;

interface Parameter {
  name: string;
  in: "query" | "path" | "header";
  required?: boolean;
  schema: Record<string, unknown>;
}

interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
}

export interface ValidatedRequest {
  query: Record<string, unknown>;
  params: Record<string, unknown>;
  body: unknown;
}

const DOC_ID = "urn:shafaf:openapi";

/** One Ajv over the document's components; parameter schemas coerce strings to their types. */
function makeAjv(coerceTypes: boolean): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: false, coerceTypes, useDefaults: true });
  addFormats(ajv);
  ajv.addSchema({ $id: DOC_ID, components: openApiDocument.components });
  return ajv;
}

/** `#/components/…` references inside operations, rewritten to the registered document. */
function absolutize(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(absolutize);
  if (schema !== null && typeof schema === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(schema)) {
      out[k] =
        k === "$ref" && typeof v === "string" && v.startsWith("#") ? DOC_ID + v : absolutize(v);
    }
    return out;
  }
  return schema;
}

/**
 * A parameter or member name as the client sent it, echoed only when it looks like a name: an
 * unknown name may itself be personal data (`?0012345679=1`, `{"زهرا": …}`), and errors never
 * carry personal data. Array indices pass.
 */
function safeName(name: string): string {
  return /^[0-9]{1,3}$/.test(name) ||
    (/^[A-Za-z][A-Za-z0-9_-]{0,39}$/.test(name) && !/[0-9]{4}/.test(name))
    ? name
    : "(name not shown)";
}

const safePointer = (pointer: string) =>
  pointer === ""
    ? "/"
    : pointer
        .split("/")
        .map((seg, i) => (i === 0 ? seg : safeName(seg)))
        .join("/");

function describe(where: "query" | "path" | "body", errors: readonly ErrorObject[]) {
  // An `if` (the receipt's version chosen by its format) only repeats the errors of its branch.
  return errors
    .filter((e) => e.keyword !== "if")
    .map((e) => {
      if (e.keyword === "additionalProperties") {
        const extra = String((e.params as { additionalProperty: string }).additionalProperty);
        return where === "body"
          ? {
              in: where,
              pointer: safePointer(`${e.instancePath}/${extra}`),
              message: "unknown member",
            }
          : { in: where, name: safeName(extra), message: "unknown parameter" };
      }
      if (where === "body")
        return { in: where, pointer: safePointer(e.instancePath), message: e.message ?? "invalid" };
      const name = e.instancePath.replace(/^\//, "").split("/")[0] ?? "";
      const missing = (e.params as { missingProperty?: string }).missingProperty;
      return { in: where, name: missing ?? name, message: e.message ?? "invalid" };
    });
}

/**
 * Validators for every operation of the OpenAPI document, keyed `METHOD path` (path in OpenAPI
 * form, `/api/v1/batches/{id}`). Unknown query parameters and unknown body members are rejected.
 * Error messages name the parameter or JSON pointer and the rule, never the offending value.
 *
 * @example
 * const validate = createRequestValidators();
 * const { query } = validate("GET /api/v1/batches")(req); // query.limit is a number
 */
export function createRequestValidators(): (key: string) => (req: Request) => ValidatedRequest {
  const paramAjv = makeAjv(true);
  const bodyAjv = makeAjv(false);
  const compiled = new Map<string, (req: Request) => ValidatedRequest>();
  const paths = openApiDocument.paths as Record<string, Record<string, Operation>>;
  for (const [path, item] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(item)) {
      const params = op.parameters ?? [];
      const objectSchema = (where: "query" | "path"): ValidateFunction => {
        const list = params.filter((p) => p.in === where);
        return paramAjv.compile({
          type: "object",
          additionalProperties: false,
          properties: Object.fromEntries(list.map((p) => [p.name, absolutize(p.schema)])),
          required: list.filter((p) => p.required === true).map((p) => p.name),
        });
      };
      const query = objectSchema("query");
      const pathParams = objectSchema("path");
      const jsonBody = op.requestBody?.content["application/json"]?.schema;
      const body =
        jsonBody === undefined ? undefined : bodyAjv.compile(absolutize(jsonBody) as object);
      compiled.set(`${method.toUpperCase()} ${path}`, (req) => {
        const q: Record<string, unknown> = { ...(req.query as Record<string, unknown>) };
        const p: Record<string, unknown> = { ...req.params };
        const errors = [];
        if (!query(q)) errors.push(...describe("query", query.errors ?? []));
        if (!pathParams(p)) errors.push(...describe("path", pathParams.errors ?? []));
        if (body !== undefined && errors.length === 0 && !body(req.body)) {
          errors.push(...describe("body", body.errors ?? []));
        }
        if (errors.length > 0) {
          throw new ApiProblem(
            "invalid-request",
            `${errors.length} problem(s) with the request; see errors[] and ${path} in /api/v1/openapi.json`,
            { extensions: { errors: errors.slice(0, 20) } },
          );
        }
        return { query: q, params: p, body: req.body as unknown };
      });
    }
  }
  return (key) => {
    const v = compiled.get(key);
    if (v === undefined)
      throw new InvariantError(`no documented operation "${key}" in openapi.ts`, {
        code: "api.openapi.undocumented",
      });
    return v;
  };
}

import type { Router } from "express";
import { openApiDocument } from "../openapi.ts";
import { documentedRouter, type Validators } from "./documented.ts";

/** `GET /api/v1/openapi.json`: the document every route is validated against. */
export function openApiDocumentRoutes(validators: Validators): Router {
  const { router, route } = documentedRouter(validators);
  route("get", "/api/v1/openapi.json", (_req, res) => {
    res.setHeader("Cache-Control", "public, max-age=300");
    res.json(openApiDocument);
  });
  return router;
}

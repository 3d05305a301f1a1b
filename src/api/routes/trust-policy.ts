/**
 * `GET /trust-policy.txt`: the trust policy (c2sp.org/tlog-policy, docs/spec/trust-policy-v1.md)
 * this site's ledger log is witnessed under — the log key, the witnesses, the quorum — for the
 * portal's offline check of log bundles and for `shafaf verify --policy`. Served as given at
 * start; a client that trusts it trusts this site to name the witnesses (README "Offline receipts").
 */
import express, { type Router } from "express";

/**
 * @example
 * app.use(trustPolicyRoute(await readFile("trust-policy.txt", "utf8")));
 */
export function trustPolicyRoute(policyText: string): Router {
  const router = express.Router();
  router.get("/trust-policy.txt", (_req, res) => {
    res.status(200).type("text/plain; charset=utf-8");
    res.setHeader("Cache-Control", "public, max-age=300");
    res.send(policyText);
  });
  return router;
}

import type { Router } from "express";
import type { ChainInfo, IndexReader } from "../app-deps.ts";
import { ApiProblem } from "../problem.ts";
import type { Readiness } from "../readiness.ts";
import { documentedRouter, type Validators } from "./documented.ts";

export interface ChainRoutesDeps {
  index: Pick<IndexReader, "getChainInfo">;
  readiness: Pick<Readiness, "observe">;
  /** An alarm raised outside the index; while set, the head check reads `mismatch` with it. */
  chainAlarm: (() => string | undefined) | undefined;
  rpcUrlForBrowsers: string | undefined;
  accountNames: Readonly<Record<string, { fa: string; en: string }>> | undefined;
}

/** The head check as served: documented members only, overridden by an outside alarm. */
export function headCheckView(
  headCheck: ChainInfo["headCheck"],
  alarm: string | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = { status: headCheck.status };
  for (const k of ["onChain", "recomputed", "atBlock", "detail"] as const)
    if (headCheck[k] !== undefined) out[k] = headCheck[k];
  if (alarm !== undefined) {
    out.status = "mismatch";
    out.detail = alarm;
  }
  return out;
}

/** `GET /api/v1/chain`: the chain, contract and indexer progress a verifier pins. */
export function chainRoutes(validators: Validators, deps: ChainRoutesDeps): Router {
  const { router, route, validate } = documentedRouter(validators);
  const names = deps.accountNames;
  route("get", "/api/v1/chain", async (req, res) => {
    validate("GET", "/api/v1/chain")(req);
    const info = await deps.index.getChainInfo();
    if (info === undefined)
      throw new ApiProblem("not-ready", "the indexer has written nothing yet; retry shortly", {
        headers: { "Retry-After": "5" },
      });
    const caughtUp = deps.readiness.observe(info);
    res.setHeader("Cache-Control", "no-store");
    res.json({
      chainId: info.chainId,
      contract: info.contract,
      genesisHash: info.genesisHash,
      deployBlock: info.deployBlock,
      headBlock: info.headBlock,
      lastIndexedBlock: info.lastIndexedBlock,
      lastIndexedHash: info.lastIndexedHash,
      lag: Math.max(0, info.headBlock - info.lastIndexedBlock),
      confirmations: info.confirmations,
      batchCount: info.batchCount,
      paused: info.paused,
      caughtUp,
      headCheck: headCheckView(info.headCheck, deps.chainAlarm?.()),
      ...(deps.rpcUrlForBrowsers === undefined ? {} : { rpcUrl: deps.rpcUrlForBrowsers }),
      ...(names === undefined || Object.keys(names).length === 0 ? {} : { names }),
    });
  });
  return router;
}

import { keccak256 } from "ethers";
import type { Router } from "express";
import type { Findings } from "../../core/public-views.ts";
import type { ApiLog, IndexReader } from "../app-deps.ts";
import { AUDIT_FINDINGS_FORMAT, auditFindings } from "../audit-findings.ts";
import { ApiProblem } from "../problem.ts";
import { batchOr404 } from "./batches.ts";
import { documentedRouter, type Validators } from "./documented.ts";

export interface AuditReports {
  read(reportHash: string): Promise<Uint8Array | undefined>;
}

/**
 * The published report of an attestation, or undefined when absent, unreadable or not the
 * attested bytes: only the bytes whose keccak256 the auditor attested on-chain are the report.
 */
export async function attestedReport(
  reports: AuditReports | undefined,
  reportHash: string,
  log: ApiLog,
  where: { batchId: number; attestation: number },
): Promise<Uint8Array | undefined> {
  let bytes: Uint8Array | undefined;
  try {
    bytes = await reports?.read(reportHash);
  } catch (error) {
    log.warn("audit-report-unreadable", { batchId: where.batchId, error: (error as Error).name });
    return undefined;
  }
  if (bytes !== undefined && keccak256(bytes) !== reportHash.toLowerCase()) {
    log.warn("audit-report-mismatch", where);
    return undefined;
  }
  return bytes;
}

/** `GET /api/v1/batches/{id}/attestations/{index}/findings`: an auditor's findings, if published. */
export function findingsRoutes(
  validators: Validators,
  deps: {
    index: Pick<IndexReader, "getBatch">;
    auditReports: AuditReports | undefined;
    log: ApiLog;
  },
): Router {
  const { router, route, validate } = documentedRouter(validators);
  const openApiPath = "/api/v1/batches/{id}/attestations/{index}/findings";
  route("get", openApiPath, async (req, res) => {
    const { params } = validate("GET", openApiPath)(req);
    const batch = await batchOr404(deps.index, params.id);
    const position = params.index as number;
    const attestation = batch.attestations[position];
    if (attestation === undefined) {
      throw new ApiProblem(
        "attestation-not-found",
        `batch ${batch.batchId} has ${batch.attestations.length} attestation(s); number them from 0`,
      );
    }
    const bytes = await attestedReport(deps.auditReports, attestation.reportHash, deps.log, {
      batchId: batch.batchId,
      attestation: position,
    });
    const findings = bytes === undefined ? undefined : auditFindings(bytes);
    res.setHeader("Cache-Control", "public, max-age=60");
    res.json({
      format: AUDIT_FINDINGS_FORMAT,
      batchId: batch.batchId,
      index: position,
      auditor: attestation.auditor,
      verdict: attestation.verdict,
      reportHash: attestation.reportHash,
      report:
        bytes === undefined ? "unpublished" : findings === undefined ? "unreadable" : "published",
      ...(findings === undefined ? {} : { findings }),
    } satisfies Findings);
  });
  return router;
}

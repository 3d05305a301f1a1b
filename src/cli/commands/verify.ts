/**
 * `shafaf verify <file.json | code> [--policy FILE] [--rpc URL ...] [--root HEX [--vrf-key HEX]] [--api URL | --data-dir DIR] [--json]`:
 * a citizen's or an inspector's check of one receipt (`shafaf-receipt/1` or `/2`) or person
 * proof (`shafaf-person-proof/1`), trusting neither Shafaf's server nor its store when given the
 * file. With `--policy` alone it uses no network at all: the document's log bundle
 * (docs/spec/log-bundle-v1.md) is checked against the trust policy's log key and witnesses.
 * Exit 0 verified, 1 failed, 2 inconclusive, 64 usage error.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { CliCommand } from "../command.ts";
import { parseCommandLine } from "../parse-command-line.ts";
import { UsageError, reportError } from "../command-support.ts";
import { verifyReceiptOnNodes } from "../../audit/verify-receipt-on-nodes.ts";
import { parseReceiptCode } from "../../core/receipt-code.ts";
import { InvalidInputError } from "../../core/errors.ts";
import { parseTrustPolicy, type TrustPolicy } from "../../core/tlog-policy.ts";
import { offlineTrust, verifyDocument } from "../../core/verify-document.ts";
import {
  combineVerifications,
  verifyDocumentWithPolicy,
  type LogWitness,
} from "../../core/verify-document-with-policy.ts";
import type { VerifyReceiptResult } from "../../core/verify-receipt.ts";
import { openLedgerStore } from "../../store/ledger-store.ts";
import { openDataKeyOption } from "../data-key-option.ts";

const USAGE = `usage: shafaf verify <receipt.json | person-proof.json | receipt code> [options]

  Verifies a receipt (shafaf-receipt/1 or shafaf-receipt/2) or a person proof
  (shafaf-person-proof/1: all of a person's records in a batch, or their absence).

  --policy FILE    verify with no network: the document's log bundle (its batch's log entry and
                   the checkpoint cosigned by witnesses) against this trust policy
                   (c2sp.org/tlog-policy: the log key, the witnesses, the quorum); with --rpc,
                   the chain is checked as well
  --rpc URL        a node's JSON-RPC endpoint; repeat it to ask several nodes (they must all agree)
  --contract ADDR  the official ledger contract (default: the one the receipt names)
  --root HEX       verify offline against a root you trust (no chain read)
  --vrf-key HEX    the organization's VRF public key (32 bytes) a person proof must be made
                   with (with --root, or with --rpc until the chain registers the key); without
                   a trusted key a person proof is at best inconclusive
  --chain-id N     with --root: the chain id the receipt must name
  --api URL        fetch the receipt of a code from a Shafaf API (GET /api/v1/receipts/{code})
  --data-dir DIR   fetch the receipt of a code from the local store
  --data-key FILE  with --data-dir: the data-encryption keystore of an encrypted data directory
  --json           print one JSON result
  --timeout-ms N   per-request timeout (default 10000)

Exit status: 0 verified, 1 failed (the check that failed is named), 2 inconclusive, 64 usage error.`;

const EXIT = { verified: 0, failed: 1, inconclusive: 2 } as const;

async function fetchReceipt(
  target: string,
  values: {
    api?: string | undefined;
    "data-dir"?: string | undefined;
    "data-key"?: string | undefined;
  },
): Promise<{ receipt: unknown } | { status: "failed" | "inconclusive"; detail: string }> {
  if (target.endsWith(".json") || existsSync(target)) {
    let text: string;
    try {
      text = await readFile(target, "utf8");
    } catch {
      throw new UsageError(`cannot read ${target}`);
    }
    try {
      return { receipt: JSON.parse(text) as unknown };
    } catch {
      return { status: "failed", detail: `${target} is not JSON: not a receipt` };
    }
  }
  const code = parseReceiptCode(target);
  if (!code.ok)
    throw new UsageError(
      `${target} is neither a receipt file nor a receipt code (${code.problem})`,
    );
  if (values.api !== undefined) {
    const base = values.api.replace(/\/+$/, "").replace(/\/api\/v1$/, "");
    let res: Response;
    try {
      res = await fetch(`${base}/api/v1/receipts/${encodeURIComponent(code.code)}`, {
        signal: AbortSignal.timeout(15_000),
        headers: { accept: "application/json" },
      });
    } catch {
      return { status: "inconclusive", detail: `the API at ${base} could not be reached` };
    }
    if (res.status === 404)
      return { status: "failed", detail: "the API has no receipt with this code" };
    if (!res.ok) return { status: "inconclusive", detail: `the API answered HTTP ${res.status}` };
    try {
      return { receipt: (await res.json()) as unknown };
    } catch {
      return { status: "inconclusive", detail: "the API's answer is not JSON" };
    }
  }
  if (values["data-dir"] !== undefined) {
    const store = await openLedgerStore(values["data-dir"], {
      dataKey: await openDataKeyOption(values["data-key"]),
    });
    try {
      const r = await store.getReceiptByCode(code.code);
      if (r === undefined)
        return { status: "failed", detail: "the store has no receipt with this code" };
      return { receipt: r };
    } finally {
      await store.close();
    }
  }
  throw new UsageError("a receipt code needs --api URL or --data-dir DIR to fetch its receipt");
}

/** "cosigned by a, b, c (3 of 4 required), checkpoint of 2026-01-01 00:00:10 UTC". */
export function witnessedText(log: LogWitness): string {
  const names = log.cosigners.map((c) => c.name).join(", ");
  const when =
    log.checkpointTime === undefined
      ? ""
      : `, checkpoint of ${new Date(log.checkpointTime * 1000)
          .toISOString()
          .replace("T", " ")
          .replace(/\.\d+Z$/, " UTC")}`;
  return `cosigned by ${names} (${log.quorum.required} of ${log.quorum.of} required)${when}`;
}

async function readPolicy(file: string): Promise<TrustPolicy> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new InvalidInputError(`cannot read the trust policy ${file}`, {
      details:
        (error as { code?: string }).code === "ENOENT" ? "the file does not exist" : String(error),
      code: "cli.verify.policy",
    });
  }
  return parseTrustPolicy(text, file);
}

function print(
  result: VerifyReceiptResult & { nodes?: unknown; person?: { type: string }; log?: LogWitness },
  json: boolean,
): void {
  if (json) {
    process.stdout.write(JSON.stringify(result, null, 2) + "\n");
    return;
  }
  const mark = { pass: "✓", fail: "✗", inconclusive: "?" } as const;
  for (const c of result.checks) {
    process.stdout.write(`${mark[c.outcome]} ${c.name}: ${c.detail}\n`);
    if (c.outcome === "fail") {
      if (c.expected !== undefined) process.stdout.write(`    expected  ${c.expected}\n`);
      if (c.computed !== undefined) process.stdout.write(`    computed  ${c.computed}\n`);
    }
  }
  const words = {
    verified:
      result.person === undefined
        ? "VERIFIED: this record is in the anchored batch"
        : result.person.type === "absence"
          ? "VERIFIED: this person has no record in the anchored batch"
          : "VERIFIED: these are all of this person's records in the anchored batch",
    failed: "FAILED: the document does not check out",
    inconclusive: "INCONCLUSIVE: nothing failed, but it could not be established",
  };
  const witnessed =
    result.status === "verified" && result.log !== undefined
      ? `: ${witnessedText(result.log)}`
      : "";
  process.stdout.write(`${words[result.status]}${witnessed}\n`);
}

export const command: CliCommand = {
  summary: "verify a receipt against the chain (or a trusted root), with no server in between",
  async run(argv) {
    const parsed = parseCommandLine("verify", USAGE, argv, {
      rpc: { type: "string", multiple: true },
      policy: { type: "string" },
      contract: { type: "string" },
      root: { type: "string" },
      "vrf-key": { type: "string" },
      "chain-id": { type: "string" },
      api: { type: "string" },
      "data-dir": { type: "string" },
      "data-key": { type: "string" },
      json: { type: "boolean" },
      "timeout-ms": { type: "string" },
    });
    if (typeof parsed === "number") return parsed;
    const { values, positionals } = parsed;
    try {
      if (positionals.length !== 1) throw new UsageError("give exactly one receipt file or code");
      const rpcs = values.rpc ?? [];
      if (values.root !== undefined && rpcs.length > 0)
        throw new UsageError("give --root (offline) or --rpc (chain), not both");
      if (values.root !== undefined && values.policy !== undefined)
        throw new UsageError(
          "give --root (a root you trust) or --policy (a trust policy), not both",
        );
      if (values.root === undefined && rpcs.length === 0 && values.policy === undefined)
        throw new UsageError(
          "give --policy FILE (offline, by the log bundle), --rpc URL (one or more nodes) or --root HEX",
        );
      if (values.contract !== undefined && !/^0x[0-9a-fA-F]{40}$/.test(values.contract))
        throw new UsageError("--contract must be 0x followed by 40 hex digits");
      const timeoutMs = values["timeout-ms"] === undefined ? 10_000 : Number(values["timeout-ms"]);
      if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0)
        throw new UsageError("--timeout-ms must be a positive integer");
      const chainText = values["chain-id"];
      if (
        chainText !== undefined &&
        (values.root === undefined || !/^[1-9]\d{0,15}$/.test(chainText))
      )
        throw new UsageError("--chain-id N (a positive integer) goes with --root");
      const chainId = chainText === undefined ? undefined : Number(chainText);
      const vrfText = values["vrf-key"];
      if (vrfText !== undefined && !/^(0x)?[0-9a-fA-F]{64}$/.test(vrfText))
        throw new UsageError("--vrf-key must be 64 hex digits (the 32-byte VRF public key)");
      const vrfKey = vrfText === undefined ? undefined : `0x${vrfText.replace(/^0x/, "")}`;
      const policy = values.policy === undefined ? undefined : await readPolicy(values.policy);
      const fetched = await fetchReceipt(positionals[0]!, values);
      if ("status" in fetched) {
        const result: VerifyReceiptResult = {
          status: fetched.status,
          checks: [
            {
              name: "receipt-fetch",
              ok: false,
              outcome: fetched.status === "failed" ? "fail" : "inconclusive",
              detail: fetched.detail,
            },
          ],
        };
        print(result, values.json === true);
        return EXIT[result.status];
      }
      // With --rpc too, a document without a bundle is verified on the chain alone (the policy
      // has nothing to check); with --policy alone it is inconclusive at log-bundle.
      const bundled =
        typeof fetched.receipt === "object" && fetched.receipt !== null && "log" in fetched.receipt;
      const offline =
        policy === undefined || (!bundled && rpcs.length > 0)
          ? undefined
          : await verifyDocumentWithPolicy(fetched.receipt, {
              policy,
              ...(vrfKey === undefined ? {} : { vrfPublicKey: vrfKey }),
            });
      const onChain =
        offline !== undefined && rpcs.length === 0
          ? undefined
          : values.root !== undefined
            ? await verifyDocument(
                fetched.receipt,
                offlineTrust({ root: values.root, vrfKey, chainId, contract: values.contract }),
              )
            : await verifyReceiptOnNodes({
                receipt: fetched.receipt,
                rpcUrls: rpcs,
                contract: values.contract,
                timeoutMs,
                verify: (doc, trust) =>
                  verifyDocument(
                    doc,
                    vrfKey === undefined || !("readBatch" in trust)
                      ? trust
                      : {
                          readBatch: async (id) => {
                            const b = await trust.readBatch(id);
                            return b === undefined ? b : { ...b, vrfPublicKey: vrfKey };
                          },
                        },
                  ),
              });
      const result =
        offline === undefined
          ? onChain!
          : onChain === undefined
            ? offline
            : combineVerifications(offline, onChain);
      print(result, values.json === true);
      return EXIT[result.status];
    } catch (error) {
      if (error instanceof UsageError) {
        process.stderr.write(`shafaf verify: ${error.message}\n${USAGE}\n`);
        return 64;
      }
      const status = reportError("verify", error);
      return status === 64 ? 64 : 2;
    }
  },
};

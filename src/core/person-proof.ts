import type { SumTree } from "./build-sum-tree.ts";
import { InvalidInputError, InvariantError } from "./errors.ts";
import { bytesToHex, type Hex } from "./hex.ts";
import { batchPersonKey, personVrfInput, type BatchContext } from "./person-key.ts";
import { parsePersonId } from "./person-id.ts";
import { recordToJson, type ReceiptRecord } from "./receipt.ts";
import type { LedgerRecord, RecordKind } from "./record.ts";
import { sumTreeRecordFields } from "./sum-tree-record.ts";
import type { SumTreeProof } from "./sum-tree-proof.ts";
import { verifyDocumentOffline } from "./verify-document.ts";
import { vrfProofToHash, vrfProve, type VrfSecretKey } from "./vrf.ts";

export const PERSON_PROOF_FORMAT = "shafaf-person-proof/1";

/** The batch context of k_b as JSON (person-key-v1 §4). */
export type PersonProofContext = { kind: RecordKind; period: string } | { batchId: number };

/**
 * A `shafaf-person-proof/1` (docs/spec/person-proof-v1.md, schemas/person-proof-1.schema.json):
 * "these are all my records in batch N" (a range proof with every record opened) or "I am not
 * in batch N" (an absence proof). It names the person in full (`personId`): the file is the
 * person's, and showing it to an inspector is meant to tell the inspector whose records these
 * are. The VRF proof ties `personId` to beta under the organization's published key, and beta
 * to the batch key k_b the tree proof is about.
 */
export interface PersonProof {
  format: typeof PERSON_PROOF_FORMAT;
  chainId: number;
  contract: Hex;
  batchId: number;
  /** The canonical person-id-v1 string. */
  personId: string;
  /** The organization's VRF public key (32 bytes) and pi = ECVRF_prove(sk, alpha(personId)) (80 bytes). */
  vrf: { publicKey: Hex; proof: Hex };
  /** What k_b is bound to. */
  context: PersonProofContext;
  /** The person's records in the batch with their salts, in the proof's leaf order; empty for absence. */
  records: { record: ReceiptRecord; salt: Hex }[];
  /** The `shafaf-tree/2` range or absence proof for k_b. */
  proof: SumTreeProof;
}

export interface BuildPersonProofParams {
  chainId: number;
  contract: string;
  batchId: number;
  tree: SumTree;
  vrfKey: VrfSecretKey;
  context: PersonProofContext;
  personId: string;
  /** Records of the batch with their salts: at least every record of the person (others are ignored). */
  records: readonly { record: LedgerRecord; salt: Uint8Array }[];
}

/**
 * Builds the person proof of one person in one batch and verifies it (against `tree.root` and
 * the VRF key's public key) before it is returned.
 *
 * @throws {InvalidInputError} `core.person-proof.person-id` for an identifier that is not canonical.
 * @throws {InvariantError} `core.person-proof.opening` when a leaf of the person's key has no
 * record among `records`, `core.person-proof.unverified` when the proof does not verify.
 * @example
 * const doc = buildPersonProof({ chainId, contract, batchId: 7, tree, vrfKey, context: { kind: "premium", period: "1403-07" }, personId: "0012345679", records });
 */
export function buildPersonProof(p: BuildPersonProofParams): PersonProof {
  if (parsePersonId(p.personId) === undefined)
    throw new InvalidInputError("not a canonical person identifier", {
      details: "give the person-id-v1 string: 10 digits, foreign:<12 digits> or insured:<no>:<ISO>",
      code: "core.person-proof.person-id",
      field: "personId",
    });
  const pi = vrfProve(p.vrfKey, personVrfInput(p.personId));
  const beta = vrfProofToHash(pi);
  const ctx: BatchContext = p.context;
  const key = batchPersonKey(beta, ctx);
  const proof = p.tree.personProof(key, p.batchId);
  const byCommitment = new Map<string, { record: LedgerRecord; salt: Uint8Array }>();
  for (const r of p.records)
    if (r.record.nationalId === p.personId)
      byCommitment.set(bytesToHex(sumTreeRecordFields(r.record, r.salt).commitment), r);
  const keyHex = bytesToHex(key);
  const records: PersonProof["records"] = [];
  for (const w of proof.windows)
    for (const leaf of w.leaves) {
      if (leaf.key !== keyHex) continue;
      const r = byCommitment.get(leaf.commitment);
      if (r === undefined)
        throw new InvariantError("a leaf of the person's key has no record among those given", {
          details: `batch ${p.batchId}, province ${w.province}`,
          code: "core.person-proof.opening",
        });
      records.push({ record: recordToJson(r.record), salt: bytesToHex(r.salt) });
    }
  const doc: PersonProof = {
    format: PERSON_PROOF_FORMAT,
    chainId: p.chainId,
    contract: p.contract.toLowerCase() as Hex,
    batchId: p.batchId,
    personId: p.personId,
    vrf: { publicKey: bytesToHex(p.vrfKey.publicKey), proof: bytesToHex(pi) },
    context: p.context,
    records,
    proof,
  };
  const r = verifyDocumentOffline(doc, {
    root: p.tree.root,
    vrfPublicKey: bytesToHex(p.vrfKey.publicKey),
  });
  if (r.status !== "verified")
    throw new InvariantError("a person proof built from the tree does not verify", {
      details: `batch ${p.batchId}: ${r.checks
        .filter((c) => !c.ok)
        .map((c) => c.name)
        .join(", ")}`,
      code: "core.person-proof.unverified",
    });
  return doc;
}

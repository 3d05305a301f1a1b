/**
 * `shafaf person prove`'s work: the `shafaf-person-proof/1` of one person in one anchored
 * `shafaf-tree/2` batch — the VRF proof of the person's key, and either every record of the
 * person in the batch with their range proof, or an absence proof. Staff only: it needs the VRF
 * secret key and the batch's artifact.
 */
import { bytesToHex, hexToBytes } from "../core/hex.ts";
import { InvalidInputError } from "../core/errors.ts";
import { keccak256 } from "../core/keccak.ts";
import { normalizeDigits } from "../core/digits.ts";
import { batchPersonKey, personVrfInput } from "../core/person-key.ts";
import { parsePersonId, personIdString } from "../core/person-id.ts";
import { buildPersonProof, type PersonProof } from "../core/person-proof.ts";
import { recordFromJson } from "../core/receipt.ts";
import type { LedgerRecord } from "../core/record.ts";
import { vrfProofToHash, vrfProve, vrfSecretKey } from "../core/vrf.ts";
import path from "node:path";
import { readBatchArtifact } from "../store/batch-artifact.ts";
import type { LedgerStore } from "../store/ledger-store.ts";
import { openRecordLines, openTiledBatch } from "../store/tiled-batch.ts";

export interface ProvePersonParams {
  store: LedgerStore;
  batchId: number;
  /** A person-id-v1 string: a national ID (Persian digits accepted), foreign:…, insured:…:… */
  personId: string;
  /** The VRF seed (from the VRF keystore). */
  vrfSeed: Uint8Array;
}

/**
 * @throws {InvalidInputError} `anchor.person.id` for an identifier that is not a person-id-v1,
 * `anchor.person.batch` for a batch this data directory did not anchor or a v1 batch,
 * `anchor.person.vrf-key` when the VRF key is not the batch's; the store's errors for a damaged artifact.
 * @example
 * const proof = await provePerson({ store, batchId: 7, personId: "0012345679", vrfSeed });
 */
export async function provePerson(p: ProvePersonParams): Promise<PersonProof> {
  const parsed = parsePersonId(normalizeDigits(p.personId.trim()));
  if (parsed === undefined)
    throw new InvalidInputError("not a valid person identifier", {
      details:
        "give a 10-digit national ID with its check digit, foreign:<12 digits> or insured:<insurance no>:<ISO alpha-3>",
      code: "anchor.person.id",
      field: "national-id",
    });
  const personId = personIdString(parsed);
  const batch = await p.store.getBatch(p.batchId);
  if (batch === undefined)
    throw new InvalidInputError(`batch ${p.batchId} was not anchored from this data directory`, {
      details:
        "give the --data-dir the batch was anchored from (`shafaf jobs list` lists its batches)",
      code: "anchor.person.batch",
    });
  if (batch.scheme !== "shafaf-tree/2")
    throw new InvalidInputError(`batch ${p.batchId} is a shafaf-tree/1 batch`, {
      details:
        "person proofs (all my records, absence) exist for shafaf-tree/2 batches only; a v1 batch proves each record with its receipt",
      code: "anchor.person.batch",
    });
  const artifact = await readBatchArtifact(path.join(p.store.batchesDir, batch.jobId), {
    dataKey: p.store.dataKey,
  });
  if (artifact === undefined)
    throw new InvalidInputError(`the artifact of batch ${p.batchId} is missing`, {
      details: `restore ${path.join(p.store.batchesDir, batch.jobId)} from the data directory's backup`,
      code: "anchor.person.batch",
    });
  const vrfKey = vrfSecretKey(p.vrfSeed);
  if (bytesToHex(keccak256(vrfKey.publicKey)) !== artifact.descriptor.vrfKeyId?.toLowerCase())
    throw new InvalidInputError(`the VRF key is not the one batch ${p.batchId} was anchored with`, {
      details: `the batch names VRF key ${artifact.descriptor.vrfKeyId ?? "(none)"}; give that key's keystore`,
      code: "anchor.person.vrf-key",
    });
  const context = { kind: batch.kind, period: batch.period };
  const key = batchPersonKey(vrfProofToHash(vrfProve(vrfKey, personVrfInput(personId))), context);
  // From the batch's tiles (written from the artifact once if it has none): the person's leaves
  // by a binary search, their records by line; no whole tree is recomputed.
  const lines = await openRecordLines(artifact);
  try {
    const tiled = await openTiledBatch(artifact, lines);
    try {
      const records: { record: LedgerRecord; salt: Uint8Array }[] = [];
      for (const i of tiled.tree.indicesOf(key)) {
        const line = lines.line(tiled.tiles.leafLine(i));
        const record = recordFromJson(line.record);
        if (record !== undefined) records.push({ record, salt: hexToBytes(line.salt) });
      }
      return buildPersonProof({
        chainId: batch.chainId,
        contract: batch.contract,
        batchId: p.batchId,
        tree: tiled.tree,
        vrfKey,
        context,
        personId,
        records,
      });
    } finally {
      tiled.close();
    }
  } finally {
    lines.close();
  }
}

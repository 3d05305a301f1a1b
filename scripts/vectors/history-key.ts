/**
 * `npm run vectors` (after scripts/generate-vectors.ts) writes test/vectors/history-key-1.json (docs/spec/history-key-v1.md) and
 * test/vectors/certificate-qr-1.json (docs/spec/certificate-qr-v1.md);
 * `--check` regenerates them in memory and exits 1 when the committed files differ.
 *
 *     node --import tsx scripts/vectors/history-key.ts [--check]
 *
 * The history keys are built from person-key-1.json's test VRF key and proofs, the grouping and
 * corruptions written here independently of core's encoder (only core's checksum rule is
 * shared: SHA-256 with the spec's domain). The certificates are person-proof-1.json's documents.
 */
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

const dir = path.resolve(import.meta.dirname, "../../test/vectors");
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

interface PersonKeyCase {
  personId: string;
  pi: string;
}
const personKeys = JSON.parse(readFileSync(path.join(dir, "person-key-1.json"), "utf8")) as {
  vrfPublicKey: string;
  cases: PersonKeyCase[];
};
const personProofs = JSON.parse(readFileSync(path.join(dir, "person-proof-1.json"), "utf8")) as {
  cases: { name: string; document: unknown }[];
};

function identifierBytes(personId: string): Buffer {
  if (personId.startsWith("foreign:"))
    return Buffer.concat([Buffer.from([2]), Buffer.from(personId.slice(8), "ascii")]);
  if (personId.startsWith("insured:"))
    return Buffer.concat([Buffer.from([3]), Buffer.from(personId.slice(8), "ascii")]);
  return Buffer.concat([Buffer.from([1]), Buffer.from(personId, "ascii")]);
}

function payload(version: number, pi: Buffer, identifier: Buffer, breakSum = false): Buffer {
  const body = Buffer.concat([Buffer.from([version]), pi, identifier]);
  const sum = createHash("sha256")
    .update(Buffer.from("shafaf/history-key/v1\0", "ascii"))
    .update(body)
    .digest()
    .subarray(0, 4);
  if (breakSum) sum[0]! ^= 0x01;
  return Buffer.concat([body, sum]);
}

/** Big-endian 5-bit values; with `dirtyPad`, the last unused bit is 1 instead of 0. */
function base32Values(bytes: Buffer, dirtyPad = false): number[] {
  let bits = "";
  for (const b of bytes) bits += b.toString(2).padStart(8, "0");
  const pad = (5 - (bits.length % 5)) % 5;
  if (pad > 0) bits += "0".repeat(pad - 1) + (dirtyPad ? "1" : "0");
  const out: number[] = [];
  for (let i = 0; i < bits.length; i += 5) out.push(parseInt(bits.slice(i, i + 5), 2));
  return out;
}

function luhn32(seq: number[]): number {
  let sum = 0;
  for (let i = 0; i < seq.length; i++) {
    const factor = i % 2 === 0 ? 2 : 1; // from the right
    const v = seq[seq.length - 1 - i]! * factor;
    sum += Math.floor(v / 32) + (v % 32);
  }
  return (32 - (sum % 32)) % 32;
}

function grouped(values: number[]): string[] {
  const groups: string[] = [];
  for (let i = 0; i < values.length; i += 4) {
    const data = values.slice(i, i + 4);
    const g = i / 4 + 1;
    groups.push([...data, luhn32([g % 32, ...data])].map((v) => ALPHABET[v]).join(""));
  }
  return groups;
}

const text = (bytes: Buffer, dirtyPad = false) => grouped(base32Values(bytes, dirtyPad)).join("-");

function historyKeyVectors() {
  const cases = personKeys.cases
    .filter((c) => /^[0-9a-z:A-Z]+$/.test(c.personId))
    .map((c) => ({
      personId: c.personId,
      pi: c.pi,
      payload: payload(1, Buffer.from(c.pi, "hex"), identifierBytes(c.personId)).toString("hex"),
      text: text(payload(1, Buffer.from(c.pi, "hex"), identifierBytes(c.personId))),
    }));
  const base = cases[0]!;
  const groups = base.text.split("-");
  const swapChar = (s: string, i: number, c: string) => s.slice(0, i) + c + s.slice(i + 1);
  const typo = groups.map((g, i) => (i === 6 ? swapChar(g, 1, g[1] === "7" ? "8" : "7") : g));
  const transposed = groups.map((g, i) => (i === 11 ? g[1]! + g[0]! + g.slice(2) : g));
  const spellings = [
    { name: "lower case, spaces", text: base.text.toLowerCase().replace(/-/g, " ") },
    { name: "no separators", text: base.text.replace(/-/g, "") },
    {
      name: "Persian digits, line breaks",
      text: groups
        .map((g) => g.replace(/[0-9]/g, (d) => String.fromCharCode(0x06f0 + Number(d))))
        .join("\n"),
    },
    {
      name: "O for 0 and l for 1",
      text: base.text.replace(/0/g, "O").replace(/1/g, "l"),
    },
  ];
  const badId = Buffer.concat([Buffer.from([1]), Buffer.from("0012345678", "ascii")]);
  const pi = Buffer.from(base.pi, "hex");
  const invalid = [
    { name: "empty", text: "  ", problem: "empty" },
    {
      name: "a letter Crockford does not use (U) in group 3",
      text: groups.map((g, i) => (i === 2 ? swapChar(g, 2, "U") : g)).join("-"),
      problem: "character",
      group: 3,
    },
    { name: "one character mistyped in group 7", text: typo.join("-"), problem: "group", group: 7 },
    {
      name: "two neighbouring characters swapped in group 12",
      text: transposed.join("-"),
      problem: transposed[11] === groups[11] ? "none" : "group",
      group: 12,
    },
    {
      name: "a character left out of group 20",
      text: groups.map((g, i) => (i === 19 ? g.slice(1) : g)).join("-"),
      problem: "group",
      group: 20,
    },
    {
      name: "groups 5 and 6 swapped",
      text: groups.map((g, i) => (i === 4 ? groups[5] : i === 5 ? groups[4] : g)).join("-"),
      problem: "group",
      group: 5,
    },
    {
      name: "the last group left out",
      text: groups.slice(0, -1).join("-"),
      problem: "length",
      group: groups.length - 1,
    },
    {
      name: "the last group cut to one character",
      text: [...groups.slice(0, -1), groups.at(-1).slice(0, 1)].join("-"),
      problem: "length",
      group: groups.length,
    },
    {
      name: "checksum byte flipped (every group well formed)",
      text: text(payload(1, pi, identifierBytes(base.personId), true)),
      problem: "checksum",
    },
    {
      name: "padding bits not zero",
      text: text(payload(1, pi, identifierBytes(base.personId)), true),
      problem: "padding",
      group: groups.length,
    },
    {
      name: "version 2",
      text: text(payload(2, pi, identifierBytes(base.personId))),
      problem: "version",
    },
    {
      name: "a national ID with a wrong check digit",
      text: text(payload(1, pi, badId)),
      problem: "identifier",
    },
    {
      name: "identifier kind 4",
      text: text(payload(1, pi, Buffer.concat([Buffer.from([4]), Buffer.from("0012345679")]))),
      problem: "identifier",
    },
  ];
  return {
    format: "shafaf-vectors/1",
    spec: "docs/spec/history-key-v1.md",
    description:
      "History keys (shafaf-history-key/1): the payload (version ‖ pi ‖ identifier kind ‖ identifier ‖ checksum) and its printed text, for person-key-1.json's test VRF key and proofs. `spellings`: other ways of typing the first case that MUST read as it. `invalid`: texts a parser MUST refuse, with the problem and the 1-based group it names (where it names one). Generated by scripts/vectors/history-key.ts.",
    vrfPublicKey: personKeys.vrfPublicKey,
    cases,
    spellings,
    invalid,
  };
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v !== null && typeof v === "object")
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(v);
}

function certificateQrVectors() {
  const names = ["valid-range", "valid-absence", "record-changed"];
  const cases = names.map((name) => {
    const doc = personProofs.cases.find((c) => c.name === name)!.document as {
      batchId: number;
      context: { kind: string; period: string };
      proof: { type: string };
    };
    const json = canonical(doc);
    const digest = createHash("sha256").update(json, "utf8").digest();
    const digest32 = base32Values(digest)
      .map((v) => ALPHABET[v])
      .join("");
    return {
      personProofCase: name,
      canonicalSha256: digest.toString("hex"),
      qr: [
        "SHAFAF-CERT/1",
        doc.batchId,
        doc.context.kind.toUpperCase(),
        doc.context.period,
        doc.proof.type.toUpperCase(),
        digest32,
      ].join(":"),
    };
  });
  const qr = cases[1]!.qr;
  const parts = qr.split(":");
  const replace = (i: number, v: string) => parts.map((p, j) => (j === i ? v : p)).join(":");
  const invalid = [
    { name: "another format", text: replace(0, "SHAFAF-CERT/2"), field: "prefix" },
    { name: "a field missing", text: parts.slice(0, 5).join(":"), field: "prefix" },
    { name: "batch with a leading zero", text: replace(1, "07"), field: "batch" },
    { name: "an unknown kind", text: replace(2, "WAGES"), field: "kind" },
    { name: "month 13", text: replace(3, "1403-13"), field: "period" },
    { name: "an unknown type", text: replace(4, "PRESENCE"), field: "type" },
    { name: "digest one character short", text: replace(5, parts[5]!.slice(1)), field: "digest" },
    {
      name: "digest padding bits not zero",
      text: replace(5, parts[5]!.slice(0, -1) + (parts[5]!.endsWith("0") ? "1" : "H")),
      field: "digest",
    },
    { name: "digest in lower case", text: replace(5, parts[5]!.toLowerCase()), field: "digest" },
  ];
  return {
    format: "shafaf-vectors/1",
    spec: "docs/spec/certificate-qr-v1.md",
    description:
      "Certificate QR codes (shafaf-certificate-qr/1): for person-proof-1.json's documents, the SHA-256 of the canonical JSON and the QR text. `record-changed` (a changed record) has another digest than `valid-range`. `invalid`: QR texts a parser MUST refuse, with the field it names. Generated by scripts/vectors/history-key.ts.",
    cases,
    invalid,
  };
}

const files = {
  "history-key-1.json": historyKeyVectors(),
  "certificate-qr-1.json": certificateQrVectors(),
};
let differ = false;
for (const [name, value] of Object.entries(files)) {
  const textOut = JSON.stringify(value, null, 2) + "\n";
  const file = path.join(dir, name);
  if (process.argv.includes("--check")) {
    let old: string;
    try {
      old = readFileSync(file, "utf8");
    } catch {
      old = "";
    }
    if (old !== textOut) {
      console.error(`${name} differs from what scripts/vectors/history-key.ts generates`);
      differ = true;
    }
  } else writeFileSync(file, textOut);
}
if (differ) process.exit(1);
console.log(
  `${process.argv.includes("--check") ? "up to date" : "wrote"}: ${Object.keys(files).join(", ")}`,
);

/**
 * The trust policy's identity on the ledger (docs/spec/trust-policy-v1.md "On the ledger"):
 * SHA-256 of the file's exact bytes, computed only for bytes that are a valid policy.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { PolicyFormatError, trustPolicyHash } from "../../src/core/tlog-policy.ts";

const spec = readFileSync(
  path.resolve(import.meta.dirname, "../../docs/spec/trust-policy-v1.md"),
  "utf8",
);
/** The spec's example file: its first fenced block. */
const example = /```\n([\s\S]*?)```/.exec(spec)![1]!;
const bytes = new TextEncoder().encode(example);

function refused(input: Uint8Array, line: number): void {
  try {
    trustPolicyHash(input, "p.txt");
    expect.fail("accepted");
  } catch (error) {
    expect(error).to.be.instanceOf(PolicyFormatError);
    expect((error as Error).message).to.match(new RegExp(`^p\\.txt:${line}: `));
  }
}

describe("trustPolicyHash", function () {
  it("is the SHA-256 of the exact bytes, as the spec's example states", function () {
    const hash = trustPolicyHash(bytes);
    expect(hash).to.equal("0x" + createHash("sha256").update(bytes).digest("hex"));
    expect(spec).to.contain(hash); // the spec names the example's hash
  });

  it("changes with any byte, comments included (the file governance approved)", function () {
    const commented = new TextEncoder().encode(example + "# approved by the council\n");
    expect(trustPolicyHash(commented)).to.not.equal(trustPolicyHash(bytes));
  });

  it("refuses bytes that are not a valid policy: CR line ends, a BOM, bad UTF-8, a bad line", function () {
    refused(new TextEncoder().encode(example.replace("\n", "\r\n")), 1);
    refused(new Uint8Array([0xef, 0xbb, 0xbf, ...bytes]), 1);
    refused(new Uint8Array([...new TextEncoder().encode("# ok\n# still ok\n# "), 0xff]), 3);
    refused(new TextEncoder().encode("# a policy\nquorum nobody-defined\n"), 2);
  });
});

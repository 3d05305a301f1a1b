import { expect } from "chai";
import fc from "fast-check";
import { memoText } from "../../src/core/memo-text.ts";
import { checkRials } from "../../src/core/money.ts";

describe("memoText", function () {
  it("computes each text once, remembers undefined results, and empties itself when full", function () {
    const calls: string[] = [];
    const f = memoText((t: string) => {
      calls.push(t);
      return t === "none" ? undefined : t.length;
    }, 3);
    expect([f("ab"), f("ab"), f("none"), f("none"), f("abc")]).to.deep.equal([
      2,
      2,
      undefined,
      undefined,
      3,
    ]);
    expect(calls).to.deep.equal(["ab", "none", "abc"]);
    f("d"); // full: emptied, then "d" kept
    f("ab");
    expect(calls).to.deep.equal(["ab", "none", "abc", "d", "ab"]);
  });
});

describe("checkRials's ASCII fast path", function () {
  it("gives what the general path gives (property: the same digits with a space go the long way)", function () {
    const digits = fc.stringMatching(/^[0-9]{0,45}$/);
    const max = fc.option(fc.bigInt({ min: 0n, max: 1n << 130n }), { nil: undefined });
    fc.assert(
      fc.property(digits, max, (text, m) => {
        const options = m === undefined ? {} : { max: m };
        expect(checkRials(text, options)).to.deep.equal(checkRials(` ${text} `, options));
      }),
      { numRuns: 2000 },
    );
  });
});

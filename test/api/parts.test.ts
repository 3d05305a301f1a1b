import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import fc from "fast-check";
import {
  API_KEYS_FORMAT,
  ApiKeysFileError,
  createApiKey,
  findApiKey,
  hashApiKey,
  parseApiKeysFile,
} from "../../src/api/api-keys.ts";
import { ifNoneMatchMatches } from "../../src/api/http-cache.ts";
import { createRateLimiter } from "../../src/api/rate-limit.ts";
import { contentSecurityPolicy } from "../../src/api/security-headers.ts";
import {
  suppressBreakdown,
  suppressionMask,
  suppressStats,
} from "../../src/api/suppress-small-cells.ts";

const golden = (name: string) => path.resolve(import.meta.dirname, "../golden/api", name);

describe("suppressionMask", function () {
  it("suppresses cells under 10 and the smallest other cell with a lone one", function () {
    expect(suppressionMask([{ count: 3 }, { count: 40 }, { count: 12 }])).to.deep.equal([
      true,
      false,
      true,
    ]);
    expect(suppressionMask([{ count: 30 }, { count: 40 }])).to.deep.equal([false, false]);
    expect(
      suppressionMask([{ count: 3 }, { count: 2 }, { count: 50 }, { count: 60 }]),
    ).to.deep.equal([true, true, true, false]);
    expect(suppressionMask([{ count: 9 }])).to.deep.equal([true]);
    expect(suppressionMask([])).to.deep.equal([]);
  });

  it("never leaves a small cell recoverable by subtraction from the row total (property)", function () {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 32 }),
        (counts) => {
          const mask = suppressionMask(counts.map((count) => ({ count })));
          const hidden = counts.filter((_, i) => mask[i]);
          // every published cell covers ≥ 10 people
          counts.forEach((c, i) => {
            if (!mask[i]) expect(c).to.be.at.least(10);
          });
          if (hidden.length > 0 && hidden.length < counts.length) {
            // the row total minus the published cells is a sum of ≥ 2 cells covering ≥ 10 people
            expect(hidden.length).to.be.at.least(2);
            expect(hidden.reduce((a, b) => a + b, 0)).to.be.at.least(10);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("suppressBreakdown / suppressStats", function () {
  it("drops the figures of suppressed cells and keeps the rest exactly", function () {
    expect(
      suppressBreakdown({
        "IR-01": { count: 2, total: "5" },
        "IR-02": { count: 11, total: "70" },
        "IR-03": { count: 90, total: "900" },
      }),
    ).to.deep.equal({
      "IR-01": { suppressed: true },
      "IR-02": { suppressed: true },
      "IR-03": { count: 90, total: "900" },
    });
  });

  it("suppresses a whole row under 10 people, by `people` when the index states it", function () {
    const out = suppressStats({
      periods: [
        {
          period: "1403-01",
          kind: "pension",
          batches: 1,
          recordCount: 40,
          people: 9,
          total: "10",
          corrections: 0,
        },
        {
          period: "1403-02",
          kind: "pension",
          batches: 1,
          recordCount: 8,
          total: "10",
          corrections: 0,
        },
        {
          period: "1403-03",
          kind: "pension",
          batches: 1,
          recordCount: 30,
          total: "10",
          corrections: 0,
        },
      ],
      provinces: [
        { period: "1403-01", kind: "pension", province: "IR-01", count: 40, total: "10" },
        { period: "1403-03", kind: "pension", province: "IR-01", count: 30, total: "10" },
      ],
    });
    expect(out.periods.map((p) => "suppressed" in p)).to.deep.equal([true, true, false]);
    expect(out.provinces).to.deep.equal([
      { period: "1403-01", kind: "pension", province: "IR-01", suppressed: true },
      { period: "1403-03", kind: "pension", province: "IR-01", count: 30, total: "10" },
    ]);
  });
});

describe("createRateLimiter", function () {
  it("allows a burst, then refills at the set rate, per client", function () {
    const l = createRateLimiter({ capacity: 2, refillPerSecond: 1 });
    expect(l.take("a", 0).ok).to.equal(true);
    expect(l.take("a", 0).ok).to.equal(true);
    expect(l.take("a", 0)).to.deep.equal({ ok: false, retryAfterSeconds: 1 });
    expect(l.take("b", 0).ok, "another client has its own bucket").to.equal(true);
    expect(l.take("a", 999).ok).to.equal(false);
    expect(l.take("a", 1_000).ok).to.equal(true);
  });

  it("tracks at most maxClients, forgetting the least recently seen", function () {
    const l = createRateLimiter({ capacity: 1, refillPerSecond: 0.001, maxClients: 3 });
    for (const c of ["a", "b", "c"]) l.take(c, 0);
    l.take("a", 1); // a is now the most recent
    l.take("d", 2); // evicts b
    expect(l.size).to.equal(3);
    expect(l.take("a", 3).ok, "a is still limited").to.equal(false);
    expect(l.take("b", 3).ok, "b was forgotten: a full bucket").to.equal(true);
  });

  it("refuses nonsense options", function () {
    expect(() => createRateLimiter({ capacity: 0 })).to.throw(RangeError);
    expect(() => createRateLimiter({ refillPerSecond: 0 })).to.throw(RangeError);
  });
});

describe("API keys", function () {
  it("reads the golden keys file", function () {
    const entries = parseApiKeysFile(
      readFileSync(golden("api-keys-1.json"), "utf8"),
      "api-keys-1.json",
    );
    expect(entries.map((e) => [e.id, e.scopes])).to.deep.equal([
      ["payroll", ["anchor"]],
      ["helpdesk", ["subjects:read"]],
    ]);
    expect(findApiKey(entries, "shafaf_sk_golden-payroll-key")?.id).to.equal("payroll");
    expect(findApiKey(entries, "shafaf_sk_golden-helpdesk-key")?.id).to.equal("helpdesk");
    expect(findApiKey(entries, "shafaf_sk_golden-payroll-keY")).to.equal(undefined);
    expect(findApiKey(entries, "")).to.equal(undefined);
  });

  it("creates 256-bit keys whose file entry holds only the hash", function () {
    const { token, entry } = createApiKey("ops", ["anchor", "subjects:read"]);
    expect(token).to.match(/^shafaf_sk_[A-Za-z0-9_-]{43}$/);
    expect(entry).to.deep.equal({
      id: "ops",
      scopes: ["anchor", "subjects:read"],
      sha256: hashApiKey(token),
    });
    expect(JSON.stringify(entry)).not.to.include(token.slice(10));
    expect(createApiKey("ops", ["anchor"]).token).not.to.equal(token);
  });

  const bad: [string, unknown, RegExp][] = [
    ["not JSON", "{", /not JSON/],
    ["wrong format", { format: "x", keys: [] }, /expected \{"format": "shafaf-api-keys\/1"/],
    [
      "unknown scope",
      { format: API_KEYS_FORMAT, keys: [{ id: "a", scopes: ["anchr"], sha256: "0".repeat(64) }] },
      /keys\[0\]\.scopes\[0\]: unknown scope "anchr"/,
    ],
    [
      "plain key instead of a hash",
      { format: API_KEYS_FORMAT, keys: [{ id: "a", scopes: ["anchor"], sha256: "secret" }] },
      /keys\[0\]\.sha256: 64 lower-case hex/,
    ],
    [
      "duplicate id",
      {
        format: API_KEYS_FORMAT,
        keys: [
          { id: "a", scopes: ["anchor"], sha256: "0".repeat(64) },
          { id: "a", scopes: ["anchor"], sha256: "1".repeat(64) },
        ],
      },
      /keys\[1\]\.id: duplicate id "a"/,
    ],
    [
      "unknown field",
      {
        format: API_KEYS_FORMAT,
        keys: [{ id: "a", scopes: ["anchor"], sha256: "0".repeat(64), key: "x" }],
      },
      /keys\[0\]: unknown field\(s\) key/,
    ],
    [
      "no scopes",
      { format: API_KEYS_FORMAT, keys: [{ id: "a", scopes: [], sha256: "0".repeat(64) }] },
      /keys\[0\]\.scopes: a non-empty list/,
    ],
  ];
  for (const [what, doc, message] of bad) {
    it(`refuses a keys file with ${what}, naming where`, function () {
      const text = typeof doc === "string" ? doc : JSON.stringify(doc);
      expect(() => parseApiKeysFile(text, "keys.json")).to.throw(ApiKeysFileError, message);
      expect(() => parseApiKeysFile(text, "keys.json")).to.throw(/^keys\.json/);
    });
  }
});

describe("small helpers", function () {
  it("ifNoneMatchMatches handles lists, weak tags and *", function () {
    expect(ifNoneMatchMatches('"a", W/"b"', '"b"')).to.equal(true);
    expect(ifNoneMatchMatches("*", '"b"')).to.equal(true);
    expect(ifNoneMatchMatches('"a"', '"b"')).to.equal(false);
    expect(ifNoneMatchMatches(undefined, '"b"')).to.equal(false);
  });

  it("contentSecurityPolicy adds only the RPC origin to connect-src", function () {
    expect(contentSecurityPolicy()).to.include("connect-src 'self';");
    expect(contentSecurityPolicy("http://127.0.0.1:8545/rpc?k=v")).to.include(
      "connect-src 'self' http://127.0.0.1:8545;",
    );
  });
});

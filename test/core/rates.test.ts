import { expect } from "chai";
import fc from "fast-check";
import {
  applyBasisPoints,
  DEFAULT_RATE_TABLE,
  premiumShares,
  ratesForYear,
  type RateTable,
} from "../../src/core/rates.ts";

describe("premiumShares", function () {
  it("applies 7 % worker, 20 % employer, 3 % unemployment, 4 % hazardous — not the government's 3 %", function () {
    expect(
      premiumShares(100_000_000n, 1403, { unemployment: true, hazardous: true }),
    ).to.deep.equal({
      worker: 7_000_000n,
      employer: 20_000_000n,
      unemployment: 3_000_000n,
      hazard: 4_000_000n,
      total: 34_000_000n,
    });
    expect(
      premiumShares(100_000_000n, 1403, { unemployment: false, hazardous: false }).total,
    ).to.equal(27_000_000n);
  });
  it("rounds half up to the Rial by default and follows the table's rule otherwise", function () {
    // 7 % of 50 = 3.5; 7 % of 49 = 3.43; 20 % of 1 = 0.2
    expect(premiumShares(50n, 1403, { unemployment: false, hazardous: false }).worker).to.equal(4n);
    expect(premiumShares(49n, 1403, { unemployment: false, hazardous: false }).worker).to.equal(3n);
    const floor: RateTable = { ...DEFAULT_RATE_TABLE, rounding: "floor" };
    expect(
      premiumShares(50n, 1403, { unemployment: false, hazardous: false }, floor).worker,
    ).to.equal(3n);
    expect(applyBasisPoints(50n, 700, "half-even")).to.equal(4n); // 3.5 → 4
    expect(applyBasisPoints(150n, 700, "half-even")).to.equal(10n); // 10.5 → 10
    expect(applyBasisPoints(1n, 2000, "ceil")).to.equal(1n);
  });
  it("keeps total equal to the sum of shares and each share within a Rial of the exact value (property)", function () {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 15n }),
        fc.boolean(),
        fc.boolean(),
        (w, u, h) => {
          const s = premiumShares(w, 1403, { unemployment: u, hazardous: h });
          expect(s.total).to.equal(s.worker + s.employer + s.unemployment + s.hazard);
          const exact = (bp: bigint) => w * bp;
          expect(s.worker * 10000n - exact(700n)).to.be.within(-5000n, 5000n);
          expect(s.employer * 10000n - exact(2000n)).to.be.within(-5000n, 5000n);
        },
      ),
    );
  });
  it("uses the latest row at or before the year and refuses years before the table", function () {
    expect(ratesForYear(1403).minMonthlyWage).to.equal(71_661_840n);
    expect(ratesForYear(1410).fromYear).to.equal(1404);
    expect(ratesForYear(1380).minMonthlyWage).to.equal(undefined);
    expect(() => ratesForYear(1300)).to.throw(RangeError, /no premium rates/);
    expect(
      DEFAULT_RATE_TABLE.years.every((y) => y.verified === false && y.governmentBp === 300),
    ).to.equal(true);
  });
  it("rejects a negative wage base", function () {
    expect(() => premiumShares(-1n, 1403, { unemployment: false, hazardous: false })).to.throw(
      RangeError,
    );
  });
});

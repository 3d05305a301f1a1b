import { expect } from "chai";
import {
  createPopulation,
  createRng,
  monthTexture,
  pensionMonth,
  workshopMonth,
} from "../../src/demo/synthetic.ts";

/** A year of the demo's figures at a small scale, as `writeDemoInputs` builds them. */
function year(seed: number) {
  const population = createPopulation({ seed, workshops: 300, pensionCases: 200, year: 1403 });
  const rng = createRng(seed ^ 0x5eed);
  return Array.from({ length: 12 }, (_, i) => {
    const m = i + 1;
    const texture = monthTexture(m);
    const workshops = population.workshops.slice(
      0,
      Math.max(31, Math.ceil(population.workshops.length * texture.workshopsActive)),
    );
    const cases = population.pensionCases.slice(
      0,
      Math.ceil(population.pensionCases.length * texture.pensionCasesActive),
    );
    const period = `1403-${String(m).padStart(2, "0")}`;
    const lists = workshops.map((w) =>
      workshopMonth(
        w,
        period,
        rng,
        w.hazardous ? texture.hazardousFullMonthChance : texture.fullMonthChance,
      ),
    );
    const payments = pensionMonth(cases, period, rng, texture.lateRate, texture.pensionFactorBp);
    return {
      premiumBase: lists.reduce((a, l) => a + l.rows.reduce((b, r) => b + r.insurable, 0n), 0n),
      workers: lists.reduce((a, l) => a + l.rows.length, 0),
      pensions: payments.reduce((a, p) => a + p.gross, 0n),
      late: payments.filter((p) => p.paidOn > p.dueOn).length / payments.length,
    };
  });
}

describe("the demo year's texture", function () {
  const months = year(1403);

  it("pension totals differ month to month: no two months alike", function () {
    expect(new Set(months.map((m) => m.pensions)).size).to.equal(12);
  });

  it("grows: more pensioners and more insured workers at the year's end than at its start", function () {
    expect(months[10]!.pensions).to.be.greaterThan(months[1]!.pensions);
    expect(months[11]!.workers).to.be.greaterThan(months[1]!.workers);
  });

  it("has seasons: Nowruz (Farvardin) and winter lower the insurable wages; Esfand pays the New-Year bonus", function () {
    expect(months[0]!.premiumBase).to.be.lessThan(months[1]!.premiumBase);
    expect(months[10]!.premiumBase).to.be.lessThan(months[8]!.premiumBase);
    expect(months[11]!.pensions).to.be.greaterThan(months[10]!.pensions);
    expect(months[2]!.pensions).to.be.greaterThan(months[3]!.pensions); // Khordad: the raise's arrears
  });

  it("has one late month (Azar)", function () {
    const worst = months.reduce((w, m, i) => (m.late > months[w]!.late ? i : w), 0);
    expect(worst).to.equal(8);
    expect(months[8]!.late).to.be.greaterThan(0.25);
    for (const [i, m] of months.entries()) if (i !== 8) expect(m.late).to.be.lessThan(0.1);
  });

  it("is reproducible from its seed", function () {
    expect(year(1403)).to.deep.equal(months);
    expect(year(7)).to.not.deep.equal(months);
  });
});

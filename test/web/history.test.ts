/**
 * "My insurance history" in headless Chromium on a demo-like stack (test/web/history-stack.ts:
 * real chain, `shafaf-tree/2` batches from the real pipeline, indexer, API and portal): the demo
 * sign-in; every month of a worker with a complete half-year verified ✓ in the browser (the
 * corrected month says so); a worker with two missing months sees them ✗ proven, downloads the
 * certificate of one, and the real `shafaf verify FILE --rpc URL` verifies it, as does
 * `shafaf verify FILE --policy P --vrf-key K` with no network (the certificate carries its log bundle). Persian and
 * English, axe-core clean, no sideways scrolling at 360 px.
 */
import { expect } from "chai";
import { readFile } from "node:fs/promises";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { runCli } from "../anchor/helpers.ts";
import { bytesToHex } from "../../src/core/hex.ts";
import {
  DEMO_CODE,
  EARLIER_PERIOD,
  FOREIGN_CODE,
  SURVIVORS,
  HISTORY_PERIODS,
  MISSING_PERIODS,
  PENSION_PERIODS,
  startHistoryStack,
  type HistoryStack,
} from "./history-stack.ts";
import {
  collectErrors,
  launchChromium,
  runAxe,
  SCREENSHOT_DIR,
  sidewaysOverflow,
  type PortalServer,
} from "./portal-server.ts";

describe("My insurance history (Chromium, demo-like v2 stack)", function () {
  this.timeout(300_000);
  let stack: HistoryStack;
  let server: PortalServer;
  let browser: Browser;
  let context: BrowserContext;
  const out = mkdtempSync(path.join(tmpdir(), "shafaf-history-web-"));

  before(async function () {
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    stack = await startHistoryStack();
    server = await stack.serve();
    browser = await launchChromium();
    context = await browser.newContext({
      viewport: { width: 360, height: 740 },
      acceptDownloads: true,
    });
  });
  after(async function () {
    await context?.close();
    await browser?.close();
    await server?.close();
    await stack?.stop();
    rmSync(out, { recursive: true, force: true });
  });

  /** Signs in; with `throttle`, the CPU is slowed that many times (Chromium's emulation). */
  async function signIn(lang: "fa" | "en", personId: string, code = DEMO_CODE, throttle = 1) {
    const page = await context.newPage();
    const errors = collectErrors(page);
    await page.addInitScript((l) => localStorage.setItem("shafaf.lang", l), lang);
    await page.goto(`${server.url}/#/history`);
    await page.waitForSelector("main h1");
    if (throttle > 1)
      await (
        await context.newCDPSession(page)
      ).send("Emulation.setCPUThrottlingRate", {
        rate: throttle,
      });
    await page.fill('input[name="personId"]', personId);
    await page.fill('input[name="code"]', code);
    await page.click('form.history-login button[type="submit"]');
    return { page, errors };
  }

  const statuses = (page: Page) =>
    page.$$eval("li.history-month", (items) =>
      items.map((li) => [
        (li as HTMLElement).dataset["period"],
        (li as HTMLElement).dataset["status"],
      ]),
    );

  it("measures: the half-year checked in the browser, and with the CPU slowed 4× (phone class)", async function () {
    for (const throttle of [1, 4]) {
      const { page } = await signIn("en", stack.persons.complete, DEMO_CODE, throttle);
      const started = Date.now();
      await page.waitForSelector(".history-summary", { timeout: 60_000 });
      const ms = Date.now() - started;
      console.log(
        `      ${HISTORY_PERIODS.length} months (sign-in, VRF, ${stack.batches.size - 1 + stack.pensionBatches.size + 1} batches of the latest year read from the chain, proofs fetched and verified), CPU ×${throttle}: ${ms} ms`,
      );
      await page.close();
    }
  });

  it("a pensioner: each pension payment recorded ✓ with its amount and dates, no premium section", async function () {
    const { page, errors } = await signIn("en", stack.persons.pensioner);
    await page.waitForSelector(".history-summary", { timeout: 60_000 });
    expect(await statuses(page)).to.deep.equal(PENSION_PERIODS.map((p) => [p, "recorded"]));
    expect(
      await page.$$eval("li.history-month", (l) =>
        l.map((x) => (x as HTMLElement).dataset["kind"]),
      ),
    ).to.deep.equal(["pension", "pension"]);
    const first = (await page.textContent("li.history-month")) ?? "";
    expect(first).to.include("Net pension 145,000,000 Rials");
    expect(first).to.match(/due 1 Farvardin 1403 · paid 3 Farvardin 1403/);
    expect(await page.textContent("main")).to.include("Pension payments");
    // Both payments were made on the 3rd, due on the 1st: late, and the page says so.
    expect(await page.textContent(".history-on-time")).to.equal(
      "Paid on time (by the due date): 0 of 2 payments (0 %)",
    );
    expect(errors).to.deep.equal([]);
    await page.close();
  });

  it("years load lazily: the latest year is checked on open, the earlier one only when opened with the keyboard, then shows its summary", async function () {
    const { page, errors } = await signIn("en", stack.persons.complete);
    // Every batch asked for, over the year's requests (one request a year: persons/proofs).
    const proofs: number[] = [];
    const requests: string[] = [];
    page.on("request", (r) => {
      if (!r.url().includes("/api/v1/persons/proof")) return;
      requests.push(r.url());
      for (const item of (JSON.parse(r.postData() ?? "{}") as { items: { batchId: number }[] })
        .items)
        proofs.push(item.batchId);
    });
    await page.waitForSelector('.history-year[data-year="1403"][data-state="checked"]', {
      timeout: 60_000,
    });
    // The timeline, latest year first; only the latest year's current batches were asked for.
    expect(
      await page.$$eval(".history-year", (l) => l.map((x) => (x as HTMLElement).dataset["year"])),
    ).to.deep.equal(["1403", "1402"]);
    expect(proofs).to.have.length(HISTORY_PERIODS.length + PENSION_PERIODS.length);
    expect(requests).to.have.length(1);
    expect(proofs).not.to.include(stack.batches.get(EARLIER_PERIOD));
    expect(proofs).not.to.include(stack.corrected.original);
    const earlier = '.history-year[data-year="1402"]';
    const toggle = `${earlier} .history-year-toggle`;
    expect(await page.getAttribute(toggle, "aria-expanded")).to.equal("false");
    expect(await page.getAttribute(`${earlier}`, "data-state")).to.equal("closed");
    expect(await page.textContent(`${earlier} .history-year-status`)).to.equal(
      "Not checked yet: open the year to check it.",
    );
    expect(await page.$(`${earlier} li.history-month`)).to.equal(null);
    // The button names its year and is reached and pressed with the keyboard.
    expect(await page.getAttribute(toggle, "aria-controls")).to.match(/^history-year-1402/);
    await page.focus(toggle);
    await page.keyboard.press("Enter");
    await page.waitForSelector(`${earlier}[data-state="checked"]`, { timeout: 60_000 });
    expect(await page.getAttribute(toggle, "aria-expanded")).to.equal("true");
    expect(await page.evaluate(() => document.activeElement?.className)).to.equal(
      "history-year-toggle",
    );
    expect(await statuses(page)).to.deep.equal([
      ...HISTORY_PERIODS.map((p) => [p, "recorded"]),
      [EARLIER_PERIOD, "recorded"],
    ]);
    expect(await page.textContent(`${earlier} .history-summary`)).to.equal(
      "1 months checked: 1 recorded, 0 not recorded, 0 could not be checked.",
    );
    expect(proofs).to.have.length(HISTORY_PERIODS.length + PENSION_PERIODS.length + 1);
    expect(proofs.at(-1)).to.equal(stack.batches.get(EARLIER_PERIOD));
    expect(requests).to.have.length(2);
    expect((await runAxe(page)).map((v) => `${v.id}: ${v.help}`)).to.deep.equal([]);
    // Closed again with Space: hidden, nothing asked again; the summary stays.
    await page.keyboard.press("Space");
    expect(await page.getAttribute(toggle, "aria-expanded")).to.equal("false");
    expect(await page.isVisible(`${earlier} li.history-month`)).to.equal(false);
    expect(await page.textContent(`${earlier} .history-summary`)).to.include("1 recorded");
    expect(proofs).to.have.length(HISTORY_PERIODS.length + PENSION_PERIODS.length + 1);
    // Another language redraws the same years from memory: nothing is asked again.
    await page.keyboard.press("Space");
    await page.click("#lang-switch");
    await page.waitForSelector(`${earlier} .history-summary`);
    expect(await page.textContent(`${earlier} .history-summary`)).to.equal(
      "۱ ماه بررسی شد: ۱ ثبت شده، ۰ ثبت نشده، ۰ بررسی نشد.",
    );
    expect(await page.getAttribute(toggle, "aria-expanded")).to.equal("true");
    expect(await page.textContent(toggle)).to.equal("۱۴۰۲");
    expect(proofs).to.have.length(HISTORY_PERIODS.length + PENSION_PERIODS.length + 1);
    expect(errors).to.deep.equal([]);
    await page.close();
  });

  it("the proofs are fetched and verified in a Web Worker (history-worker.js), not on the page's thread", async function () {
    const { page, errors } = await signIn("en", stack.persons.complete);
    await page.waitForSelector('.history-year[data-year="1403"][data-state="checked"]', {
      timeout: 60_000,
    });
    expect(await page.getAttribute('.history-year[data-year="1403"]', "data-verified-in")).to.equal(
      "worker",
    );
    const workers = page.workers().map((w) => new URL(w.url()).pathname);
    expect(workers.length).to.be.greaterThan(0);
    expect(workers.every((w) => w === "/history-worker.js")).to.equal(true);
    expect(await statuses(page)).to.deep.equal(HISTORY_PERIODS.map((p) => [p, "recorded"]));
    expect(errors).to.deep.equal([]);
    await page.close();
  });

  for (const [why, setUp] of [
    [
      "the site's policy forbids workers (worker-src 'none')",
      // A policy of the page's own (a document intercepted by the test would lose its loopback
      // address space, and with it the chain node): the served one plus `worker-src 'none'`.
      async (page: Page) =>
        page.addInitScript(() =>
          document.addEventListener("DOMContentLoaded", () => {
            const meta = document.createElement("meta");
            meta.httpEquiv = "Content-Security-Policy";
            meta.content = "worker-src 'none'";
            document.head.append(meta);
          }),
        ),
    ],
    [
      "the worker's script cannot be loaded",
      async (page: Page) =>
        page.route(`${server.url}/history-worker.js`, (route) =>
          route.fulfill({ status: 404, body: "" }),
        ),
    ],
    [
      "the browser has no Worker",
      async (page: Page) => page.addInitScript(() => Reflect.deleteProperty(globalThis, "Worker")),
    ],
  ] as const) {
    it(`when no worker can start (${why}), the page verifies every year itself, with the same result`, async function () {
      const page = await context.newPage();
      const errors = collectErrors(page);
      await setUp(page);
      await page.addInitScript(() => localStorage.setItem("shafaf.lang", "en"));
      await page.goto(`${server.url}/#/history`);
      await page.fill('input[name="personId"]', stack.persons.missing);
      await page.fill('input[name="code"]', DEMO_CODE);
      await page.click('form.history-login button[type="submit"]');
      await page.waitForSelector('.history-year[data-year="1403"][data-state="checked"]', {
        timeout: 60_000,
      });
      await page.click('.history-year[data-year="1402"] .history-year-toggle');
      await page.waitForSelector('.history-year[data-year="1402"][data-state="checked"]', {
        timeout: 60_000,
      });
      expect(
        await page.$$eval(".history-year", (l) =>
          l.map((x) => (x as HTMLElement).dataset["verifiedIn"]),
        ),
      ).to.deep.equal(["page", "page"]);
      expect(await statuses(page)).to.deep.equal([
        ...HISTORY_PERIODS.map((p) => [p, MISSING_PERIODS.includes(p) ? "absent" : "recorded"]),
        [EARLIER_PERIOD, "recorded"],
      ]);
      // Only the refusal itself is reported (the policy's violation, the missing script).
      expect(
        errors.filter((e) => !/worker-src|history-worker|status of 404/.test(e)),
      ).to.deep.equal([]);
      await page.close();
    });
  }

  it("a survivors' pension with three beneficiaries: each sees their own share of the file, never another's", async function () {
    const fmt = (v: bigint) => `Net pension ${v.toLocaleString("en-US")} Rials`;
    for (const [k, personId] of stack.persons.survivors.entries()) {
      const { page, errors } = await signIn("en", personId);
      await page.waitForSelector(".history-summary", { timeout: 60_000 });
      expect(await statuses(page)).to.deep.equal(PENSION_PERIODS.map((p) => [p, "recorded"]));
      for (const period of PENSION_PERIODS) {
        const month = `li.history-month[data-period="${period}"]`;
        // One payment a month: their own record of the shared file, nobody else's.
        expect(await page.$$eval(`${month} ul li`, (l) => l.length)).to.equal(1);
        const text = (await page.textContent(month)) ?? "";
        expect(text).to.include(fmt(SURVIVORS.nets[k]!));
        expect(text).to.include(`Survivors pension file ${SURVIVORS.pensionFile}`);
        for (const [j, other] of SURVIVORS.nets.entries())
          if (j !== k) expect(text).not.to.include(fmt(other));
      }
      // Paid on the due day: on time.
      expect(await page.textContent(".history-on-time")).to.equal(
        "Paid on time (by the due date): 2 of 2 payments (100 %)",
      );
      // Their certificate holds their record only.
      const [download] = await Promise.all([
        page.waitForEvent("download"),
        page.click(`li.history-month[data-period="${PENSION_PERIODS[0]}"] button`),
      ]);
      const file = path.join(out, `survivor-${k}-${download.suggestedFilename()}`);
      await download.saveAs(file);
      const cert = JSON.parse(await readFile(file, "utf8")) as {
        personId: string;
        records: { record: { nationalId: string; net: string; pensionFile: string } }[];
      };
      expect(cert.personId).to.equal(personId);
      expect(cert.records.map((r) => [r.record.nationalId, r.record.pensionFile])).to.deep.equal([
        [personId, SURVIVORS.pensionFile],
      ]);
      expect(errors).to.deep.equal([]);
      await page.close();
    }
  });

  it("a foreign worker signs in with their 12-digit foreign national code (Persian digits typed) and sees it in Persian digits, right to left, every month ✓, axe clean", async function () {
    const persian = FOREIGN_CODE.replace(/[0-9]/g, (d) => String.fromCharCode(0x06f0 + Number(d)));
    const { page, errors } = await signIn("fa", persian);
    await page.waitForSelector(".history-summary", { timeout: 60_000 });
    expect(await statuses(page)).to.deep.equal(HISTORY_PERIODS.map((p) => [p, "recorded"]));
    const line = (await page.textContent(".history-for")) ?? "";
    // Unprefixed, under its own name, in Persian digits, isolated left to right.
    expect(line).to.equal(`سوابق کد فراگیر اتباع \u2066${persian}\u2069`);
    expect(line).not.to.include("foreign");
    expect(line).not.to.match(/[0-9]/);
    expect(await page.getAttribute("html", "dir")).to.equal("rtl");
    expect(await page.$eval(".history-for", (e) => getComputedStyle(e).direction)).to.equal("rtl");
    const month = (await page.textContent(`li.history-month[data-period="1403-01"]`)) ?? "";
    expect(month).to.include("۳۰ روز");
    expect(await sidewaysOverflow(page)).to.be.at.most(0);
    await page.screenshot({
      path: path.join(SCREENSHOT_DIR, "history-foreign-fa-360.png"),
      fullPage: true,
    });
    expect((await runAxe(page)).map((v) => `${v.id}: ${v.help}`)).to.deep.equal([]);
    expect(errors).to.deep.equal([]);
    await page.close();
  });

  it("a wrong one-time code is refused in words, and nothing is shown", async function () {
    const { page, errors } = await signIn("en", stack.persons.complete, "111111");
    await page.waitForSelector(".history-login .error-text:not([hidden])");
    expect(await page.textContent(".history-login .error-text")).to.include(
      "one-time code is wrong",
    );
    expect(await page.$("li.history-month")).to.equal(null);
    // The 401 is the expected answer; nothing else went wrong.
    expect(errors.filter((e) => !e.includes("401"))).to.deep.equal([]);
    await page.close();
  });

  it("a worker with a complete half-year: every month recorded ✓, verified in the browser, in Persian, at 360 px, axe clean", async function () {
    const { page, errors } = await signIn("fa", stack.persons.complete);
    await page.waitForSelector(".history-summary", { timeout: 60_000 });
    expect(await statuses(page)).to.deep.equal(HISTORY_PERIODS.map((p) => [p, "recorded"]));
    const summary = (await page.textContent(".history-summary")) ?? "";
    expect(summary).to.match(/[۰-۹]/); // Persian digits
    expect(summary).to.include("۶ ماه");
    // The corrected month names the correction.
    const corrected = await page.textContent(
      `li.history-month[data-period="${stack.corrected.period}"]`,
    );
    expect(corrected).to.include("اصلاح");
    expect(corrected).to.include("۲۹ روز"); // the corrected record's days
    expect(await page.getAttribute("html", "dir")).to.equal("rtl");
    expect(await sidewaysOverflow(page)).to.be.at.most(0);
    await page.screenshot({
      path: path.join(SCREENSHOT_DIR, "history-fa-360.png"),
      fullPage: true,
    });
    const violations = await runAxe(page);
    expect(violations.map((v) => `${v.id}: ${v.help}`)).to.deep.equal([]);
    expect(errors).to.deep.equal([]);
    await page.close();
  });

  it("a month whose served record was changed is 'could not be checked' (with why), never recorded or proven", async function () {
    const bent = stack.batches.get("1403-02")!;
    const lying = await stack.serve({
      tamper: (batchId, m) =>
        batchId !== bent
          ? m
          : {
              ...m,
              records: m.records.map((r) => ({
                ...r,
                record: {
                  ...r.record,
                  days: Number((r.record as { days?: number }).days) - 1,
                } as typeof r.record,
              })),
            },
    });
    const page = await context.newPage();
    try {
      await page.addInitScript(() => localStorage.setItem("shafaf.lang", "en"));
      await page.goto(`${lying.url}/#/history`);
      await page.fill('input[name="personId"]', stack.persons.complete);
      await page.fill('input[name="code"]', DEMO_CODE);
      await page.click('form.history-login button[type="submit"]');
      await page.waitForSelector(".history-summary", { timeout: 60_000 });
      const shown = Object.fromEntries(await statuses(page));
      expect(shown["1403-02"]).to.equal("unchecked");
      expect(Object.values(shown).filter((v) => v === "recorded")).to.have.length(
        HISTORY_PERIODS.length - 1,
      );
      const text = (await page.textContent('li.history-month[data-period="1403-02"]')) ?? "";
      expect(text).to.include("Could not be checked");
      expect(text).to.match(/Why: .*(commitment|amounts)/);
    } finally {
      await page.close();
      await lying.close();
    }
  });

  it("a worker with two missing months: both ✗ proven; the certificate downloads and `shafaf verify --rpc` verifies it", async function () {
    const { page, errors } = await signIn("en", stack.persons.missing);
    await page.waitForSelector(".history-summary", { timeout: 60_000 });
    expect(await statuses(page)).to.deep.equal(
      HISTORY_PERIODS.map((p) => [p, MISSING_PERIODS.includes(p) ? "absent" : "recorded"]),
    );
    const missing = `li.history-month[data-period="${MISSING_PERIODS[0]}"]`;
    expect(await page.textContent(missing)).to.include(
      `Proven against batch ${stack.batches.get(MISSING_PERIODS[0]!)}`,
    );
    // As of that batch and when it was anchored: the Jalali year of today, Tehran time.
    const jalaliYear = new Intl.DateTimeFormat("en-u-ca-persian-nu-latn", {
      year: "numeric",
      timeZone: "Asia/Tehran",
    })
      .formatToParts(new Date())
      .find((p) => p.type === "year")!.value;
    expect(await page.textContent(missing)).to.match(
      new RegExp(`, anchored [^:]*${jalaliYear}.*\\(Tehran time\\): this month holds no record`),
    );
    expect(await runAxe(page)).to.deep.equal([]);
    await page.screenshot({
      path: path.join(SCREENSHOT_DIR, "history-en-360.png"),
      fullPage: true,
    });
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.click(`${missing} button`),
    ]);
    const file = path.join(out, download.suggestedFilename());
    await download.saveAs(file);
    const cert = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
    expect(cert.format).to.equal("shafaf-person-proof/1");
    expect(cert.personId).to.equal(stack.persons.missing);
    expect(cert.records).to.deep.equal([]);
    expect((cert.proof as { type: string }).type).to.equal("absence");

    const verified = await runCli(["verify", file, "--rpc", stack.chain.url]);
    expect(verified.code, verified.stdout + verified.stderr).to.equal(0);
    // It carries its batch's log bundle: verified with no network at all, against the policy.
    expect(cert.log).to.have.property("format", "shafaf-log-bundle/1");
    const offline = await runCli([
      "verify",
      file,
      "--policy",
      stack.policyFile,
      "--vrf-key",
      bytesToHex(stack.vrfPublicKey),
    ]);
    expect(offline.code, offline.stdout + offline.stderr).to.equal(0);
    // The same file with one byte of the proof changed fails.
    const tampered = path.join(out, "tampered.json");
    const bad = structuredClone(cert) as { vrf: { proof: string } };
    bad.vrf.proof = bad.vrf.proof.slice(0, -2) + (bad.vrf.proof.endsWith("00") ? "01" : "00");
    await (await import("node:fs/promises")).writeFile(tampered, JSON.stringify(bad));
    const refused = await runCli(["verify", tampered, "--rpc", stack.chain.url]);
    expect(refused.code).to.equal(1);

    // A recorded month: the certificate of what was recorded (all of it, a range proof).
    const recorded = `li.history-month[data-status="recorded"]`;
    const [kept] = await Promise.all([
      page.waitForEvent("download"),
      page.click(`${recorded} button`),
    ]);
    const recordFile = path.join(out, `recorded-${kept.suggestedFilename()}`);
    await kept.saveAs(recordFile);
    const recordCert = JSON.parse(await readFile(recordFile, "utf8")) as {
      proof: { type: string };
      records: unknown[];
    };
    expect(recordCert.proof.type).to.equal("range");
    expect(recordCert.records.length).to.be.greaterThan(0);
    const shown = await runCli(["verify", recordFile, "--rpc", stack.chain.url]);
    expect(shown.code, shown.stdout + shown.stderr).to.equal(0);
    expect(shown.stdout).to.match(/VERIFIED: these are all of this person's records/);
    expect(errors).to.deep.equal([]);
    await page.close();
  });
});

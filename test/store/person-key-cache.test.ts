import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { enrolPersons } from "../../src/anchor/enrol-persons.ts";
import { createPersonKeyWorkers } from "../../src/anchor/person-key-workers.ts";
import type { ShafafError } from "../../src/core/errors.ts";
import { InvalidInputError } from "../../src/core/errors.ts";
import { personVrfInput } from "../../src/core/person-key.ts";
import { vrfHash, vrfSecretKey } from "../../src/core/vrf.ts";
import {
  openPersonKeyCache,
  PersonKeyCacheBusyError,
  personKeyCacheKey,
} from "../../src/store/person-key-cache.ts";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const seed = new Uint8Array(32).fill(7);
const otherSeed = new Uint8Array(32).fill(8);
const key = vrfSecretKey(seed);
const people: string[] = ["0012345679", "1234567891", "foreign:123456789012"];

describe("person-key-cache", () => {
  let dir: string;
  beforeEach(async () => {
    dir = path.join(await mkdtemp(path.join(tmpdir(), "shafaf-pkc-")), "person-keys");
  });
  afterEach(async () => {
    await rm(path.dirname(dir), { recursive: true, force: true });
  });

  const open = (s = seed) =>
    openPersonKeyCache(dir, {
      cacheKey: personKeyCacheKey(s),
      vrfPublicKey: vrfSecretKey(s).publicKey,
    });

  it("stores betas under an HMAC of alpha and reads them back after a reopen", async () => {
    const alphas = people.map((p) => personVrfInput(p));
    let cache = await open();
    expect(await cache.getMany(alphas)).to.deep.equal([undefined, undefined, undefined]);
    await cache.putMany(alphas.slice(0, 2).map((alpha) => ({ alpha, beta: vrfHash(key, alpha) })));
    await cache.close();
    cache = await open();
    const got = await cache.getMany(alphas);
    expect(got.map((b) => (b === undefined ? undefined : hex(b)))).to.deep.equal([
      hex(vrfHash(key, alphas[0]!)),
      hex(vrfHash(key, alphas[1]!)),
      undefined,
    ]);
    await cache.close();
    // No identifier in any file, in ASCII or as alpha.
    for (const f of await readdir(dir)) {
      const text = (await readFile(path.join(dir, f))).toString("latin1");
      expect(text).not.to.contain("0012345679");
      expect(text).not.to.contain("1234567891");
    }
  });

  it("keeps its directory 0700 and its files 0600", async () => {
    const cache = await open();
    await cache.putMany([{ alpha: new Uint8Array([1]), beta: new Uint8Array(64) }]);
    await cache.close();
    expect((await stat(dir)).mode & 0o777).to.equal(0o700);
    const files = await readdir(dir);
    expect(files.length).to.be.greaterThan(0);
    for (const f of files) expect((await stat(path.join(dir, f))).mode & 0o777).to.equal(0o600);
  });

  it("refuses to open a cache made for another VRF key", async () => {
    await (await open()).close();
    let error: unknown;
    try {
      await open(otherSeed);
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(InvalidInputError);
    expect((error as ShafafError).code).to.equal("store.person-key-cache.key");
  });

  it("refuses a beta that is not 64 bytes", async () => {
    const cache = await open();
    try {
      let error: unknown;
      try {
        await cache.putMany([{ alpha: new Uint8Array([1]), beta: new Uint8Array(32) }]);
      } catch (e) {
        error = e;
      }
      expect((error as ShafafError).code).to.equal("store.person-key-cache.beta");
    } finally {
      await cache.close();
    }
  });

  describe("enrolPersons", () => {
    it("computes the missing betas once (cold), then reads them all (warm)", async () => {
      const cache = await open();
      const workers = await createPersonKeyWorkers({ seed, threads: 1 });
      try {
        const first = await enrolPersons(people.slice(0, 2), { cache, workers, batch: 1 });
        expect([first.cached, first.computed]).to.deep.equal([0, 2]);
        const second = await enrolPersons(people, { cache, workers });
        expect([second.cached, second.computed]).to.deep.equal([2, 1]);
        const third = await enrolPersons(people, { cache, workers });
        expect([third.cached, third.computed]).to.deep.equal([3, 0]);
        people.forEach((p, i) =>
          expect(hex(third.betas.subarray(i * 64, i * 64 + 64))).to.equal(
            hex(vrfHash(key, personVrfInput(p))),
          ),
        );
        expect(hex(second.betas)).to.equal(hex(third.betas));
      } finally {
        await workers.close();
        await cache.close();
      }
    });

    it("fails on a bad identifier before computing or storing anything", async () => {
      const cache = await open();
      const workers = await createPersonKeyWorkers({ seed, threads: 1 });
      try {
        let error: unknown;
        try {
          await enrolPersons([people[0]!, "0012345678"], {
            cache,
            workers,
          });
        } catch (e) {
          error = e;
        }
        expect((error as ShafafError).code).to.equal("core.person-key.identifier");
        expect(await cache.getMany([personVrfInput(people[0]!)])).to.deep.equal([undefined]);
      } finally {
        await workers.close();
        await cache.close();
      }
    });
  });

  it("names the folder and the fix when another process holds the cache (not LevelDB's bare lock error)", async function () {
    this.timeout(30_000);
    // A second process holds the cache, as a running `shafaf serve --vrf-key` with a signer does.
    const holder = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "-e",
        `const { openPersonKeyCache, personKeyCacheKey } = await import(${JSON.stringify(
          path.resolve(import.meta.dirname, "../../src/store/person-key-cache.ts"),
        )});
        const { vrfSecretKey } = await import(${JSON.stringify(
          path.resolve(import.meta.dirname, "../../src/core/vrf.ts"),
        )});
        const seed = new Uint8Array(32).fill(7);
        await openPersonKeyCache(${JSON.stringify(dir)}, { cacheKey: personKeyCacheKey(seed), vrfPublicKey: vrfSecretKey(seed).publicKey });
        process.stdout.write("held\\n");
        setInterval(() => {}, 1000);`,
      ],
      { cwd: path.resolve(import.meta.dirname, "../.."), stdio: ["ignore", "pipe", "inherit"] },
    );
    try {
      const [chunk] = (await once(holder.stdout, "data")) as [Buffer];
      expect(chunk.toString()).to.equal("held\n");
      let error: unknown;
      try {
        await open();
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(PersonKeyCacheBusyError);
      const e = error as PersonKeyCacheBusyError;
      expect(e.code).to.equal("store.person-key-cache.busy");
      expect(e.shortMessage).to.include(dir);
      expect(e.details).to.include("another --data-dir");
      expect(e.message).to.not.include("LOCK");
    } finally {
      holder.kill("SIGKILL");
      await once(holder, "exit");
    }
    // Once the other process is gone, the cache opens.
    await (await open()).close();
  });
});

import { expect } from "chai";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { readWorkshopRegister } from "../../src/ingest/read-workshop-register.ts";

async function register(text: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "shafaf-register-"));
  const file = path.join(dir, "workshops.csv");
  await writeFile(file, text);
  return file;
}

describe("readWorkshopRegister", function () {
  it("maps workshop codes to ISO province codes, accepting Persian names, digits and a BOM", async function () {
    const file = await register(
      "\uFEFFworkshop_code,province\r\n1234567890,IR-23\r\n۱۱۱۱۱۱۱۱۱۲,تهران\r\n\r\n",
    );
    const map = await readWorkshopRegister(file);
    expect([...map]).to.deep.equal([
      ["1234567890", "IR-23"],
      ["1111111112", "IR-23"],
    ]);
  });

  it("reports every bad line with file:line, all at once", async function () {
    const file = await register(
      "workshop_code,province\n12345,IR-23\n1234567890,Atlantis\n1234567891,IR-01,x\n1234567891,IR-01\n1234567891,IR-02\n",
    );
    let error: (Error & { details?: string }) | undefined;
    try {
      await readWorkshopRegister(file);
    } catch (e) {
      error = e as Error & { details?: string };
    }
    expect((error as { shortMessage?: string }).shortMessage).to.equal(
      "the workshop register has 4 bad line(s)",
    );
    expect(error?.details).to.include(`${file}:2: workshop_code must be 10 digits`);
    expect(error?.details).to.include(`${file}:3: province "Atlantis"`);
    expect(error?.details).to.include(`${file}:4: more than two columns`);
    expect(error?.details).to.include(
      `${file}:6: workshop 1234567891 is already listed with IR-01`,
    );
  });

  it("refuses a file without the header, and a missing file", async function () {
    const file = await register("1234567890,IR-23\n");
    let message = "";
    try {
      await readWorkshopRegister(file);
    } catch (e) {
      message = (e as { shortMessage: string }).shortMessage;
    }
    expect(message).to.equal(
      `${file}:1: the workshop register's header must be workshop_code,province`,
    );
    try {
      await readWorkshopRegister(file + ".missing");
      expect.fail("a missing register was read");
    } catch (e) {
      expect((e as Error).message).to.include("cannot be read");
    }
  });
});

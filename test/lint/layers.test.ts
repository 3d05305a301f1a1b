import { expect } from "chai";
import { ESLint } from "eslint";
import tseslint from "typescript-eslint";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");

/** Lints `code` as if it were the file `file`, with only the layer rules of eslint.config.js. */
async function layerErrors(file: string, code: string): Promise<string[]> {
  const { layerRules } = (await import(path.join(root, "eslint.config.js"))) as {
    layerRules: object[];
  };
  const eslint = new ESLint({
    cwd: root,
    overrideConfigFile: true,
    overrideConfig: [
      { files: ["**/*.ts"], languageOptions: { parser: tseslint.parser } },
      ...layerRules,
    ],
  });
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return (result?.messages ?? []).map((m) => m.message);
}

describe("the layer allow-list (eslint.config.js)", function () {
  this.timeout(60_000);

  it("refuses what docs/DESIGN.md's graph does not allow, at any depth", async function () {
    expect(
      await layerErrors("src/api/x.ts", 'import { loadKeystore } from "../chain/keystore.ts";'),
    ).to.have.length(1);
    expect(
      await layerErrors(
        "src/web/pages/x.ts",
        'import type { A } from "../../store/index-store.ts";',
      ),
    ).to.have.length(1);
    expect(
      await layerErrors("src/core/x.ts", 'import { readFile } from "node:fs/promises";'),
    ).to.have.length(1);
    expect(
      await layerErrors("src/audit/x.ts", 'import { x } from "../anchor/run-anchor-job.ts";'),
    ).to.have.length(1);
    expect(
      (await layerErrors("src/api/x.ts", 'import { x } from "../chain/keystore.ts";'))[0],
    ).to.match(/src\/api may import only src\/core, src\/store/);
  });

  it("allows what the graph allows", async function () {
    expect(
      await layerErrors("src/api/x.ts", 'import { x } from "../store/index-store.ts";'),
    ).to.deep.equal([]);
    expect(
      await layerErrors("src/web/pages/x.ts", 'import { x } from "../../core/jalali.ts";'),
    ).to.deep.equal([]);
    expect(
      await layerErrors(
        "src/cli/commands/x.ts",
        'import { x } from "../../anchor/run-anchor-job.ts";',
      ),
    ).to.deep.equal([]);
    expect(await layerErrors("src/core/x.ts", 'import { x } from "./keccak.ts";')).to.deep.equal(
      [],
    );
  });
});

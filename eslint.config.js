// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

import { readdirSync } from "node:fs";

/**
 * The layer graph of docs/DESIGN.md, as an allow-list: each folder of src/ names the folders of
 * src/ it may import. Everything else is refused, and a new folder must be added here (the config
 * refuses to load otherwise), so the house keeps its documented shape.
 */
const LAYERS = {
  core: {
    may: [],
    why: "src/core is pure and browser-safe: it imports nothing of ours outside src/core and no node: modules",
  },
  ingest: { may: ["core"], why: "readers turn files into records with core's rules" },
  chain: {
    may: ["core"],
    why: "the contract client knows core's formats and nothing else of ours",
  },
  store: { may: ["core"], why: "persistence knows core's formats and nothing else of ours" },
  anchor: {
    may: ["core", "ingest", "chain", "store"],
    why: "the pipeline composes the lower layers, never the auditors, the indexer or the API",
  },
  indexer: { may: ["core", "chain", "store"], why: "the indexer reads the chain into the store" },
  audit: {
    may: ["core", "ingest", "chain", "store"],
    why: "the auditors recompute with the lower layers, independently of the finance pipeline",
  },
  api: {
    may: ["core", "store"],
    why: "the API reads the store; it never drives the indexer, anchors or signs (inject a function from src/cli instead)",
  },
  web: { may: ["core"], why: "the browser portal imports only src/core" },
  network: { may: ["core", "chain"], why: "the Besu kit builds on core and the chain client" },
  demo: {
    may: ["core", "ingest"],
    why: "demo data generators write inputs with the ingest writers",
  },
  log: {
    may: ["core"],
    why: "the ledger log (tiles, checkpoints, proofs) builds on core only; the CLI wires keys and servers to it",
  },
  witness: {
    may: ["core"],
    why: "a witness checks and cosigns with core's rules only; the CLI wires keys and servers to it",
  },
  monitor: {
    may: ["core", "chain", "log"],
    why: "the monitor reads logs, witnesses and the chain with core's verifiers; the CLI wires it",
  },
  mirror: {
    may: ["core"],
    why: "the static mirror reads the site through an injected source and checks it with core's verifiers; the CLI wires the API to it",
  },
  cli: { may: "*", why: "src/cli is the composition root" },
};
const folders = readdirSync(new URL("./src/", import.meta.url), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);
for (const f of folders) {
  if (!(f in LAYERS))
    throw new Error(`eslint.config.js: add src/${f} to LAYERS (which folders may it import?)`);
}
export const layerRules = folders
  .filter((f) => LAYERS[f].may !== "*")
  .map((f) => {
    const refused = folders.filter((g) => g !== f && !LAYERS[f].may.includes(g));
    const group = refused.flatMap((g) => [`../${g}/**`, `../../${g}/**`, `../../../${g}/**`]);
    if (f === "core" || f === "web") group.push("node:*");
    return {
      files: [`src/${f}/**/*.ts`],
      rules: {
        "no-restricted-imports": [
          "error",
          {
            patterns: [
              {
                group,
                message: `src/${f} may import only ${LAYERS[f].may.map((g) => `src/${g}`).join(", ") || "itself"}: ${LAYERS[f].why}`,
              },
            ],
          },
        ],
      },
    };
  });

export default tseslint.config(
  {
    ignores: [
      "node_modules/**",
      "artifacts/**",
      "cache/**",
      "coverage/**",
      "types/**",
      "test-output/**",
      "bench-output/**",
      "src/web/dist/**",
      "src/core/keccak-wasm.ts",
      "**/*.js",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-floating-promises": "error",
    },
  },
  {
    files: ["test/**/*.ts", "scripts/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unused-expressions": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
    },
  },
  ...layerRules,
);

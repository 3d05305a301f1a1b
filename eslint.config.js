// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/** One-way imports (STYLE.md): core imports nothing of ours; web imports only core; api never drives the indexer or signs. */
const layer = (files, forbidden, message) => ({
  files,
  rules: {
    "no-restricted-imports": [
      "error",
      { patterns: forbidden.map((group) => ({ group: [group], message })) },
    ],
  },
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
  layer(
    ["src/core/**/*.ts"],
    ["node:*", "../*", "!./*"],
    "src/core is browser-safe and imports nothing of ours outside src/core, and no node: modules",
  ),
  layer(
    ["src/web/**/*.ts"],
    [
      "node:*",
      "../api/*",
      "../store/*",
      "../indexer/*",
      "../anchor/*",
      "../chain/*",
      "../cli/*",
      "../ingest/*",
      "../audit/*",
    ],
    "src/web imports only src/core",
  ),
  layer(
    ["src/log/**/*.ts", "src/witness/**/*.ts"],
    [
      "../api/*",
      "../indexer/*",
      "../anchor/*",
      "../chain/*",
      "../cli/*",
      "../ingest/*",
      "../audit/*",
      "../web/*",
      "../store/*",
    ],
    "src/log and src/witness build on src/core only; the CLI wires keys and servers to them",
  ),
  layer(
    ["src/api/**/*.ts"],
    ["../indexer/*", "../anchor/*", "../cli/*"],
    "src/api reads the store; it never drives the indexer or signs transactions (inject a pipeline function instead)",
  ),
  layer(
    ["src/{ingest,chain,store,anchor,indexer,audit,network}/**/*.ts"],
    ["../cli/*"],
    "only src/cli is the composition root",
  ),
);

#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so that `npx shafaf …` works without a build step.
import { register } from "tsx/esm/api";
register();
const { main } = await import("../src/cli/main.ts");
const { endOnClosedPipe } = await import("../src/cli/end-on-closed-pipe.ts");
endOnClosedPipe();
process.exitCode = await main(process.argv.slice(2));

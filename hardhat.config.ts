import { createRequire } from "node:module";
import { defineConfig } from "hardhat/config";
import hardhatEthers from "@nomicfoundation/hardhat-ethers";
import hardhatMocha from "@nomicfoundation/hardhat-mocha";
import hardhatNetworkHelpers from "@nomicfoundation/hardhat-network-helpers";
import hardhatEthersChaiMatchers from "@nomicfoundation/hardhat-ethers-chai-matchers";

const require = createRequire(import.meta.url);

/**
 * solc compiles offline: the npm `solc` package (pinned in package.json to the same version)
 * ships soljson.js, and Hardhat never downloads a compiler.
 * EVM target `cancun`: supported by Hyperledger Besu (cancunTime in the QBFT genesis) and by EDR.
 */
export const SOLC_VERSION = "0.8.28";
export const EVM_VERSION = "cancun";

export default defineConfig({
  plugins: [hardhatEthers, hardhatMocha, hardhatNetworkHelpers, hardhatEthersChaiMatchers],
  solidity: {
    version: SOLC_VERSION,
    path: require.resolve("solc/soljson.js"),
    settings: {
      optimizer: { enabled: true, runs: 1000 },
      evmVersion: EVM_VERSION,
    },
  },
  paths: {
    tests: {
      mocha: "./test",
      solidity: "./test",
    },
  },
  test: {
    mocha: {
      timeout: 120_000,
    },
  },
});

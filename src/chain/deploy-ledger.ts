/**
 * Deploys the TransparencyLedger with its initial roles in the constructor, so that no account —
 * not even the deployer — holds a role it was not given.
 */
import {
  Contract,
  ContractFactory,
  getAddress,
  isAddress,
  type ContractTransactionResponse,
  type Signer,
} from "ethers";
import { InvalidInputError, ShafafError } from "../core/errors.ts";
import { loadLedgerArtifact, type LoadArtifactOptions } from "./artifact.ts";

export interface DeployLedgerOptions {
  /** Pays for and sends the deployment. Holds no role unless listed below. */
  signer: Signer;
  /** DEFAULT_ADMIN_ROLE: the governance TimelockController in production; the deployer only if it is named here. */
  admin: string;
  /** Seconds a default-admin handover must wait (AccessControlDefaultAdminRules), < 2^48. */
  adminDelaySeconds: number;
  anchorers?: readonly string[];
  auditors?: readonly string[];
  pausers?: readonly string[];
  /**
   * VRF_KEY_ROLE (registers the person-key VRF key). Not a constructor role: granted right after
   * deployment by the signer, which must then be the admin.
   */
  vrfRegistrars?: readonly string[];
  /** Where to find `artifacts/` (default: this repository). */
  artifacts?: LoadArtifactOptions;
}

export interface DeployLedgerResult {
  address: string;
  chainId: number;
  txHash: string;
  blockNumber: number;
}

/**
 * Deploys the ledger and waits for the deployment to be mined.
 *
 * @example
 * const { address } = await deployLedger({ signer, admin: timelock, adminDelaySeconds: 86_400,
 *   anchorers: [finance], auditors: [court], pausers: [court, ministry] });
 */
export async function deployLedger(options: DeployLedgerOptions): Promise<DeployLedgerResult> {
  const admin = checkAddress("admin", options.admin);
  if (admin === "0x0000000000000000000000000000000000000000") {
    throw new InvalidInputError("admin is the zero address", {
      details: "name the governance timelock (or, for a trial, the deployer) as admin",
      field: "admin",
      code: "chain.deploy.admin",
    });
  }
  if (
    !Number.isSafeInteger(options.adminDelaySeconds) ||
    options.adminDelaySeconds < 0 ||
    options.adminDelaySeconds >= 2 ** 48
  ) {
    throw new InvalidInputError(`adminDelaySeconds ${options.adminDelaySeconds} is not valid`, {
      details: "give a whole number of seconds from 0 to 2^48 - 1",
      field: "adminDelaySeconds",
      code: "chain.deploy.delay",
    });
  }
  const anchorers = checkAddresses("anchorers", options.anchorers ?? []);
  const auditors = checkAddresses("auditors", options.auditors ?? []);
  const pausers = checkAddresses("pausers", options.pausers ?? []);
  const vrfRegistrars = checkAddresses("vrfRegistrars", options.vrfRegistrars ?? []);
  if (
    vrfRegistrars.length > 0 &&
    getAddress(await options.signer.getAddress()) !== getAddress(admin)
  ) {
    throw new InvalidInputError("only the admin can grant VRF_KEY_ROLE at deployment", {
      details:
        "deploy without vrfRegistrars and let governance grant vrf_key (shafaf roles propose --grant vrf_key:ADDR)",
      field: "vrfRegistrars",
      code: "chain.deploy.vrf-registrar",
    });
  }

  const { abi, bytecode } = await loadLedgerArtifact(options.artifacts);
  const provider = options.signer.provider;
  if (provider === null) {
    throw new InvalidInputError("the signer is not connected to a chain", {
      details: "connect it to a provider (signer.connect(provider)) before deploying",
      code: "chain.deploy.provider",
    });
  }
  const factory = new ContractFactory(abi, bytecode, options.signer);
  const contract = await factory.deploy(
    admin,
    options.adminDelaySeconds,
    anchorers,
    auditors,
    pausers,
  );
  const tx = contract.deploymentTransaction();
  const receipt = tx === null ? null : await tx.wait();
  if (tx === null || receipt === null || receipt.status !== 1 || receipt.contractAddress === null) {
    throw new ShafafError("the ledger deployment failed", {
      details: `transaction ${tx?.hash ?? "(none)"} did not create the contract`,
      code: "chain.deploy.failed",
    });
  }
  if (vrfRegistrars.length > 0) {
    const ledger = new Contract(receipt.contractAddress, abi, options.signer);
    const role = (await ledger.getFunction("VRF_KEY_ROLE")()) as string;
    for (const account of vrfRegistrars) {
      const granted = (await ledger.getFunction("grantRole")(
        role,
        account,
      )) as ContractTransactionResponse;
      await granted.wait();
    }
  }
  const network = await provider.getNetwork();
  return {
    address: getAddress(receipt.contractAddress),
    chainId: Number(network.chainId),
    txHash: receipt.hash,
    blockNumber: receipt.blockNumber,
  };
}

function checkAddress(field: string, value: string): string {
  if (typeof value !== "string" || !isAddress(value)) {
    throw new InvalidInputError(`${field}: ${JSON.stringify(value)} is not an address`, {
      details: "give a 0x-prefixed 20-byte hex account address",
      field,
      code: "chain.deploy.address",
    });
  }
  return getAddress(value);
}

function checkAddresses(field: string, values: readonly string[]): string[] {
  const seen = new Set<string>();
  return values.map((value, i) => {
    const address = checkAddress(`${field}[${i}]`, value);
    if (seen.has(address)) {
      throw new InvalidInputError(`${field}[${i}]: ${address} is listed twice`, {
        details: "list each account once",
        field: `${field}[${i}]`,
        code: "chain.deploy.duplicate",
      });
    }
    seen.add(address);
    return address;
  });
}

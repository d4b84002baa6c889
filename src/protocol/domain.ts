/**
 * The domain that separates every protocol hash: the EIP-712 domain separator of the PoTStages
 * contract (version 2; version 1 was the single PoTLedger's). It binds a hash to one chain and one deployment, so nothing signed or committed on
 * one ledger (or chain) can be replayed on another. Being the standard EIP-712 separator, it is
 * also what OpenZeppelin's `EIP712` computes on-chain and what wallets sign attestations under.
 */
import { encodeAbiParameters, keccak256, toBytes, type Address, type Hex } from "viem";
import { assertAddress, assertUint } from "./bytes";

/** EIP-712 domain name and version of PoTStages. Changing either is a hard fork. */
export const DOMAIN_NAME = "ProofOfTraining";
export const DOMAIN_VERSION = "2";

export const EIP712_DOMAIN_TYPEHASH = keccak256(
  toBytes("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
);

/** Where a hash is valid: a chain and the PoTStages contract on it (the verifying contract). */
export interface Domain {
  chainId: bigint;
  verifyingContract: Address;
}

/** The EIP-712 domain in the shape viem's `signTypedData` expects. */
export function eip712Domain(domain: Domain) {
  return {
    name: DOMAIN_NAME,
    version: DOMAIN_VERSION,
    chainId: domain.chainId,
    verifyingContract: domain.verifyingContract,
  } as const;
}

/**
 * keccak256(abi.encode(EIP712_DOMAIN_TYPEHASH, keccak256(name), keccak256(version), chainId,
 * verifyingContract)).
 */
export function domainSeparator(domain: Domain): Hex {
  const chainId = assertUint("domain.chainId", domain.chainId);
  const verifyingContract = assertAddress("domain.verifyingContract", domain.verifyingContract);
  return keccak256(
    encodeAbiParameters(
      [
        { type: "bytes32" },
        { type: "bytes32" },
        { type: "bytes32" },
        { type: "uint256" },
        { type: "address" },
      ],
      [
        EIP712_DOMAIN_TYPEHASH,
        keccak256(toBytes(DOMAIN_NAME)),
        keccak256(toBytes(DOMAIN_VERSION)),
        chainId,
        verifyingContract,
      ],
    ),
  );
}

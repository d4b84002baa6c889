/**
 * Amounts and addresses of the `pot` command: parsing what users type, and printing wei for people (always
 * with the unit: ETH for the native coin, POT for the token; JSON output keeps wei).
 */
import type { Address } from "viem";
import { CliUsageError } from "./errors";
import { viem } from "./lazy";

/** `1234.5 POT` (18 decimals, trailing zeros dropped). */
export function formatPot(wei: bigint): string {
  return `${viem().formatUnits(wei, 18)} POT`;
}

/** `0.01 ETH` (18 decimals, trailing zeros dropped). */
export function formatEth(wei: bigint): string {
  return `${viem().formatEther(wei)} ETH`;
}

/** Parses a positive POT amount with up to 18 decimals ("100", "0.5") into wei. */
export function parsePotAmount(text: string): bigint {
  if (!/^\d+(\.\d{1,18})?$/.test(text.trim())) {
    throw new CliUsageError(
      `Invalid amount "${text}"`,
      "Give POT as a decimal number with at most 18 decimals, e.g. 100 or 0.5",
    );
  }
  const wei = viem().parseUnits(text.trim(), 18);
  if (wei === 0n) throw new CliUsageError(`Invalid amount "${text}"`, "Give an amount above zero");
  return wei;
}

/** Parses a 0x address (any case; a mixed-case address must have a valid checksum). */
export function parseAddress(text: string): Address {
  const { getAddress, isAddress } = viem();
  if (!isAddress(text, { strict: false }) || (/[a-f]/.test(text) && /[A-F]/.test(text) && !isAddress(text))) {
    throw new CliUsageError(`Invalid address "${text}"`, "Give a 0x-prefixed 20-byte hex address");
  }
  return getAddress(text);
}

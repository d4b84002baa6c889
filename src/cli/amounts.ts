/** Parsing of user-given amounts and addresses for the `pot` command. */
import { getAddress, isAddress, parseUnits, type Address } from "viem";
import { CliUsageError } from "./errors";

/** Parses a positive POT amount with up to 18 decimals ("100", "0.5") into wei. */
export function parsePotAmount(text: string): bigint {
  if (!/^\d+(\.\d{1,18})?$/.test(text.trim())) {
    throw new CliUsageError(
      `Invalid amount "${text}"`,
      "Give POT as a decimal number with at most 18 decimals, e.g. 100 or 0.5",
    );
  }
  const wei = parseUnits(text.trim(), 18);
  if (wei === 0n) throw new CliUsageError(`Invalid amount "${text}"`, "Give an amount above zero");
  return wei;
}

/** Parses a 0x address (any case; a mixed-case address must have a valid checksum). */
export function parseAddress(text: string): Address {
  if (!isAddress(text, { strict: false }) || (/[a-f]/.test(text) && /[A-F]/.test(text) && !isAddress(text))) {
    throw new CliUsageError(`Invalid address "${text}"`, "Give a 0x-prefixed 20-byte hex address");
  }
  return getAddress(text);
}

/**
 * Validation of the primitive values every encoding is built from. Encoders call these first, so a
 * wrong length or range fails loudly here instead of producing a hash nobody else can reproduce.
 */
import { getAddress, isAddress, type Address, type Hex } from "viem";
import { InvalidArgumentError } from "./errors";

const BYTES32 = /^0x[0-9a-fA-F]{64}$/;
const HEX = /^0x([0-9a-fA-F]{2})*$/;

export const MAX_UINT32 = (1n << 32n) - 1n;
export const MAX_UINT64 = (1n << 64n) - 1n;
export const MAX_UINT256 = (1n << 256n) - 1n;

/** Asserts a 0x-prefixed 32-byte hex string; returns it lower-cased. */
export function assertBytes32(field: string, value: unknown): Hex {
  if (typeof value !== "string" || !BYTES32.test(value)) {
    throw new InvalidArgumentError(field, `expected 32 bytes as 0x + 64 hex digits, got ${describe(value)}`);
  }
  return value.toLowerCase() as Hex;
}

/** Asserts a 0x-prefixed hex string of whole bytes (any length). */
export function assertHexBytes(field: string, value: unknown): Hex {
  if (typeof value !== "string" || !HEX.test(value)) {
    throw new InvalidArgumentError(field, `expected 0x-prefixed hex bytes, got ${describe(value)}`);
  }
  return value.toLowerCase() as Hex;
}

/** Asserts a 20-byte address (any letter case); returns it checksummed. */
export function assertAddress(field: string, value: unknown): Address {
  if (typeof value !== "string" || !isAddress(value, { strict: false })) {
    throw new InvalidArgumentError(field, `expected a 20-byte 0x address, got ${describe(value)}`);
  }
  return getAddress(value.toLowerCase());
}

/** Asserts an unsigned integer in [0, max]; accepts bigint or a safe integer number. */
export function assertUint(field: string, value: unknown, max: bigint = MAX_UINT256): bigint {
  let v: bigint;
  if (typeof value === "bigint") v = value;
  else if (typeof value === "number" && Number.isSafeInteger(value)) v = BigInt(value);
  else throw new InvalidArgumentError(field, `expected an unsigned integer, got ${describe(value)}`);
  if (v < 0n || v > max) throw new InvalidArgumentError(field, `must be between 0 and ${max}, got ${v}`);
  return v;
}

/** Asserts a safe integer in [min, max] (a count or index that fits a JS number). */
export function assertCount(
  field: string,
  value: unknown,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(
      field,
      `expected an integer between ${min} and ${max}, got ${describe(value)}`,
    );
  }
  return value;
}

/** Asserts a finite number > 0. */
export function assertPositive(field: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError(field, `expected a finite number above 0, got ${describe(value)}`);
  }
  return value;
}

function describe(value: unknown): string {
  if (typeof value === "string") return value.length > 80 ? `"${value.slice(0, 77)}..."` : `"${value}"`;
  if (typeof value === "bigint") return `${value}n`;
  return String(value);
}

/**
 * Accounts for signing: from a private key or an encrypted JSON keystore (Web3 Secret Storage, read and
 * written with ethers), turned into a viem local account. Keys never leave the process.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { createInterface } from "node:readline";
import { ReadStream, WriteStream } from "node:tty";
import { Wallet, getAddress as ethersGetAddress } from "ethers";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import type { WalletSource } from "../config/types";
import { WalletError } from "./errors";

/** How to get a keystore password when it is needed. */
export interface PasswordOptions {
  /** Environment to read `POT_KEYSTORE_PASSWORD` from (default process.env). */
  env?: Record<string, string | undefined>;
  /**
   * Ask on the terminal when the variable is unset (default: whenever a terminal is attached: stdin and
   * stderr, or else the controlling terminal /dev/tty, as under `pot ... | tee log`).
   */
  interactive?: boolean;
}

/** The account of a configured wallet source. Throws `WalletError` with what to do. */
export async function loadAccount(
  source: WalletSource,
  options: PasswordOptions = {},
): Promise<PrivateKeyAccount> {
  return privateKeyToAccount(await loadPrivateKey(source, options));
}

/** The private key of a configured wallet source (decrypting a keystore). Throws `WalletError`. */
export async function loadPrivateKey(
  source: WalletSource,
  options: PasswordOptions = {},
): Promise<`0x${string}`> {
  switch (source.kind) {
    case "none":
      throw new WalletError(
        "This command needs an account",
        "Pass --keystore <file> (create one with pot wallet new) or --private-key (or set POT_KEYSTORE / POT_PRIVATE_KEY)",
      );
    case "private-key":
      return source.privateKey;
    case "keystore": {
      const json = readKeystore(source.path);
      const password = await keystorePassword(`Password of ${source.path}: `, options);
      let wallet: { privateKey: string };
      try {
        wallet = await Wallet.fromEncryptedJson(json, password);
      } catch {
        throw new WalletError(
          `Cannot decrypt the keystore ${source.path}`,
          "Check the password (POT_KEYSTORE_PASSWORD) and that the file is a keystore made by pot wallet new",
        );
      }
      return wallet.privateKey as `0x${string}`;
    }
  }
}

/** The address stored in a keystore file, without decrypting it. */
export function keystoreAddress(path: string): `0x${string}` {
  const json = readKeystore(path);
  try {
    const address = (JSON.parse(json) as { address?: unknown }).address;
    if (typeof address !== "string") throw new Error("no address");
    return ethersGetAddress(address.startsWith("0x") ? address : `0x${address}`) as `0x${string}`;
  } catch {
    throw new WalletError(
      `The keystore ${path} has no readable address`,
      "Use a keystore made by pot wallet new",
    );
  }
}

/**
 * Creates a new random account and writes it to `path` as an encrypted keystore (mode 0600). Refuses to
 * overwrite an existing file. Returns the address.
 */
export async function createKeystore(path: string, password: string): Promise<`0x${string}`> {
  if (existsSync(path)) {
    throw new WalletError(
      `${path} already exists`,
      "Choose another --out path; an existing keystore is never overwritten",
    );
  }
  if (password.length < 8) {
    throw new WalletError("The keystore password is shorter than 8 characters", "Choose a longer password");
  }
  const wallet = Wallet.createRandom();
  const json = await wallet.encrypt(password);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, json, { mode: 0o600, flag: "wx" });
  return wallet.address as `0x${string}`;
}

function readKeystore(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    throw new WalletError(
      `Cannot read the keystore ${path}${missing ? ": no such file" : ""}`,
      "Check --keystore / POT_KEYSTORE, or create one with pot wallet new",
    );
  }
}

/**
 * The keystore password: `POT_KEYSTORE_PASSWORD`, or a hidden prompt on the terminal (stdin/stderr when
 * both are terminals, else /dev/tty). Throws `WalletError` when neither is available.
 */
export async function keystorePassword(question: string, options: PasswordOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  const fromEnv = env.POT_KEYSTORE_PASSWORD;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  const terminal = options.interactive === false ? undefined : openTerminal();
  if (terminal === undefined) {
    throw new WalletError(
      "No keystore password and no terminal to ask for it",
      "Set POT_KEYSTORE_PASSWORD, or run on a terminal to be prompted for it",
    );
  }
  try {
    return await promptHidden(question, terminal);
  } finally {
    terminal.close();
  }
}

/** Where a prompt reads and writes. */
interface Terminal {
  readonly input: NodeJS.ReadableStream;
  readonly output: NodeJS.WritableStream;
  close(): void;
}

/** stdin + stderr when both are terminals, else the controlling terminal, else undefined. */
function openTerminal(): Terminal | undefined {
  if (process.stdin.isTTY === true && process.stderr.isTTY === true)
    return { input: process.stdin, output: process.stderr, close: () => {} };
  let inFd: number | undefined;
  let outFd: number | undefined;
  try {
    inFd = openSync("/dev/tty", "r");
    outFd = openSync("/dev/tty", "w");
  } catch {
    for (const fd of [inFd, outFd]) if (fd !== undefined) closeSync(fd);
    return undefined; // no controlling terminal (a service, CI)
  }
  const input = new ReadStream(inFd);
  const output = new WriteStream(outFd);
  return {
    input,
    output,
    close: () => {
      input.destroy();
      output.destroy();
    },
  };
}

/** Reads a line from the terminal without echoing it. */
function promptHidden(question: string, terminal: Terminal): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: terminal.input, output: terminal.output, terminal: true });
    let prompted = false;
    // readline echoes through its (undocumented) _writeToOutput: replaced to print the prompt only
    Reflect.set(rl, "_writeToOutput", (s: string) => {
      if (!prompted) {
        terminal.output.write(s);
        prompted = true;
      }
    });
    rl.question(question, (answer) => {
      terminal.output.write("\n");
      rl.close();
      resolve(answer);
    });
    rl.on("SIGINT", () => {
      rl.close();
      reject(new WalletError("Password prompt interrupted", "Run the command again"));
    });
  });
}

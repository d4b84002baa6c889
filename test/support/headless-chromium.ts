/**
 * Debian's `chromium` in headless mode, for tests of web pages: find it, dump a page's DOM after its
 * scripts ran, take a screenshot. Each call is its own browser process with a throw-away profile.
 */
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The chromium executable on PATH, or undefined. */
export function findChromium(): string | undefined {
  for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
    const found = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
    if (found.status === 0 && found.stdout.trim().length > 0) return found.stdout.trim();
  }
  return undefined;
}

/** Options of one headless run. */
export interface HeadlessOptions {
  readonly width?: number;
  readonly height?: number;
  /** Virtual time the page's scripts get before the dump or screenshot (ms, default 4,000). */
  readonly settleMs?: number;
  /** Kill the browser after this long (ms, default 60,000). */
  readonly timeoutMs?: number;
}

function runHeadless(chromium: string, url: string, action: string[], o: HeadlessOptions): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), "pot-chromium-"));
  const args = [
    "--headless",
    "--no-sandbox", // tests run as root in CI containers
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--hide-scrollbars",
    `--user-data-dir=${profile}`,
    `--window-size=${o.width ?? 1400},${o.height ?? 1000}`,
    `--virtual-time-budget=${o.settleMs ?? 4_000}`,
    ...action,
    url,
  ];
  return new Promise<string>((resolve, reject) => {
    execFile(
      chromium,
      args,
      { timeout: o.timeoutMs ?? 60_000, maxBuffer: 32 * 1024 * 1024, encoding: "utf8" },
      (error, stdout, stderr) => {
        rmSync(profile, { recursive: true, force: true });
        if (error)
          reject(new Error(`chromium ${action.join(" ")} failed: ${error.message}\n${stderr.slice(-2000)}`));
        else resolve(stdout);
      },
    );
  });
}

/** The page's DOM as serialized HTML after its scripts ran for `settleMs` of virtual time. */
export function dumpDom(chromium: string, url: string, o: HeadlessOptions = {}): Promise<string> {
  return runHeadless(chromium, url, ["--dump-dom"], o);
}

/** Writes a PNG screenshot of the page to `file`. */
export async function screenshot(
  chromium: string,
  url: string,
  file: string,
  o: HeadlessOptions = {},
): Promise<void> {
  await runHeadless(chromium, url, [`--screenshot=${file}`], o);
}

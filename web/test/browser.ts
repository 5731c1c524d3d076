// Headless Chromium (Debian's, driven by playwright-core) for the console's
// end-to-end tests: a fresh profile per run, every page checked by axe-core
// (0 violations) and saved as a PNG in web/test/screenshots/, and any
// console error (a CSP violation is one) collected for the test to assert.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";

export const screenshots = resolve(import.meta.dirname, "screenshots");

const chromiumPath = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));

export interface Browser {
  page: Page;
  /** Console errors and uncaught exceptions seen so far. */
  errors: string[];
  /** Waits for the console to finish rendering, runs axe and saves a screenshot. */
  check(name: string): Promise<void>;
  close(): Promise<void>;
}

let shot = 0;

export async function openBrowser(baseUrl: string): Promise<Browser> {
  assert.ok(chromiumPath, "chromium is not installed (apt-get install chromium)");
  await mkdir(screenshots, { recursive: true });
  const profile = await mkdtemp(join(tmpdir(), "arrs-chromium-"));
  const context: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    baseURL: baseUrl,
    viewport: { width: 1024, height: 800 },
    acceptDownloads: true,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`${page.url()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`${page.url()}: ${e.message}`));
  const axeSource = await readFile(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

  return {
    page,
    errors,
    async check(name) {
      await page.waitForSelector("#main-content:not([aria-busy])");
      await page.waitForLoadState("networkidle");
      // Evaluated over the DevTools protocol, so the page's CSP (which
      // forbids inline script) does not apply to axe itself.
      if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(axeSource);
      const result = (await page.evaluate(() =>
        (window as unknown as { axe: { run: (o: unknown) => Promise<unknown> } }).axe.run({ runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] } }),
      )) as { violations: { id: string; help: string; nodes: { target: string[] }[] }[] };
      const file = join(screenshots, `${String(++shot).padStart(2, "0")}-${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      assert.deepEqual(
        result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`),
        [],
        `axe on ${name} (${page.url()})`,
      );
    },
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Signs in as a demo user (signing out first if someone is signed in). */
export async function signInAs(b: Browser, who: string): Promise<void> {
  const { page } = b;
  if (await page.getByRole("button", { name: "Sign out" }).isVisible().catch(() => false)) {
    await page.getByRole("button", { name: "Sign out" }).click();
  } else {
    await page.goto("/");
  }
  await page.getByRole("heading", { name: "Choose a demo user" }).waitFor();
  await page.getByLabel(who).check();
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

/** "£5,123.84" → 512384n. */
export function pence(text: string): bigint {
  const m = /(−|-)?£([\d,]+)\.(\d{2})/.exec(text);
  assert.ok(m, `no amount in ${JSON.stringify(text)}`);
  const v = BigInt(m[2]!.replace(/,/g, "")) * 100n + BigInt(m[3]!);
  return m[1] ? -v : v;
}

// The pictures across PCNs in the console, against a real arrsd with the
// demo data: NHS England sees every PCN's budget position and the
// workforce statistics, sorts, and downloads both as CSV; a commissioner's
// approver sees its own. Every page is checked by axe and saved as a PNG.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";

import { signInAs } from "./browser.js";
import { consoleUnderTest } from "./session.js";

const b = consoleUnderTest();

async function download(button: string): Promise<string> {
  const { page } = b;
  const [file] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: button }).click()]);
  return readFile(await file.path(), "utf8");
}

test("NHS England and a commissioner read the position and the workforce", async () => {
  const { page } = b;
  await signInAs(b, "Alice, NHS England");
  await page.getByRole("link", { name: "PCNs", exact: true }).click();
  await page.getByRole("heading", { name: /^PCNs in/ }).waitFor();
  await page.getByText("England", { exact: true }).waitFor();
  await b.check("national-position");
  // Sorted by the server: the most forecast underspend first.
  await page.getByRole("link", { name: /^Forecast underspend/ }).click();
  await page.locator("th[aria-sort=ascending]", { hasText: "Forecast underspend" }).waitFor();
  await page.getByRole("link", { name: /^Forecast underspend/ }).click();
  await page.locator("th[aria-sort=descending]", { hasText: "Forecast underspend" }).waitFor();
  const csv = await download("Download as CSV");
  const lines = csv.trim().split(/\r?\n/);
  assert.match(lines[0] ?? "", /^pcn,display_name,commissioner,entitlement_pence/);
  assert.match(lines.at(-1) ?? "", /^TOTAL,All PCNs,/);
  const rows = await page.locator("tbody tr").count();
  assert.equal(lines.length, rows + 1, "the CSV has a header, each PCN and the total, as the table has the PCNs and the total");

  await page.getByRole("link", { name: "Workforce", exact: true }).click();
  await page.getByRole("heading", { name: /^Workforce in/ }).waitFor();
  await b.check("national-workforce");
  const stats = await download("Download as CSV");
  assert.match(stats, /^month,commissioner,role,headcount,fte,spend_pence,pending_headcount,pending_fte,pending_spend_pence/);
  assert.equal(stats.trim().split(/\r?\n/).length - 1, await page.locator("tbody tr").count());

  await signInAs(b, "Bob, NHS Frimley ICB");
  await page.getByRole("link", { name: "Workforce", exact: true }).click();
  await page.getByRole("heading", { name: /^Workforce in/ }).waitFor();
  await b.check("commissioner-workforce");
  assert.equal(await page.getByRole("columnheader", { name: "Commissioner" }).count(), 0, "a commissioner sees only its own");
  assert.deepEqual(b.errors, []);
});

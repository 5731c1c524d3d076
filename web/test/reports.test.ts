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
  assert.match(lines[0] ?? "", /^pcn,display_name,commissioner,sub_icb_location,entitlement_pence/);
  await page.getByRole("columnheader", { name: /^Sub-ICB location/ }).waitFor();
  await page.getByRole("cell", { name: /East Berkshire \(15D\)/ }).waitFor();
  assert.match(lines.at(-1) ?? "", /^TOTAL,All PCNs,/);
  const rows = await page.locator("tbody tr").count();
  assert.equal(lines.length, rows + 1, "the CSV has a header, each PCN and the total, as the table has the PCNs and the total");

  await page.getByRole("link", { name: "Workforce", exact: true }).click();
  await page.getByRole("heading", { name: /^Workforce in/ }).waitFor();
  await b.check("national-workforce");
  const stats = await download("Download as CSV");
  assert.match(stats, /^month,commissioner,sub_icb_location,role,headcount,fte,spend_pence,pending_headcount,pending_fte,pending_spend_pence/);
  assert.equal(stats.trim().split(/\r?\n/).length - 1, await page.locator("tbody tr").count());

  // NHS England's list of sub-ICB locations, with the PCNs in each.
  await page.getByRole("link", { name: "Sub-ICB locations", exact: true }).click();
  await page.getByRole("heading", { name: "Sub-ICB locations" }).waitFor();
  await b.check("national-sub-icb-locations");
  const listed = await page.locator("tbody tr").allInnerTexts();
  assert.equal(listed.length, 2, listed.join("\n"));
  assert.match(listed[0] ?? "", /QNQ\s+15D\s+East Berkshire\s+1/);
  assert.match(listed[1] ?? "", /QNQ\s+99M\s+North East Hampshire and Farnham\s+2/);

  await signInAs(b, "Bob, NHS Frimley ICB");
  await page.getByRole("link", { name: "Workforce", exact: true }).click();
  await page.getByRole("heading", { name: /^Workforce in/ }).waitFor();
  await b.check("commissioner-workforce");
  assert.equal(await page.getByRole("columnheader", { name: "Commissioner" }).count(), 0, "a commissioner sees only its own");
  const locations = await page.locator("tbody td:nth-child(2)").allInnerTexts();
  const inEach = (code: string) => locations.filter((l) => l.includes(`(${code})`)).length;
  assert.ok(inEach("99M") > 0 && inEach("15D") > 0, `rows of both sub-ICB locations: ${locations.join(", ")}`);

  // One sub-ICB location alone: its rows, and its CSV.
  await page.getByLabel("Sub-ICB location").selectOption({ label: "East Berkshire (15D)" });
  await page.getByRole("button", { name: "Show" }).click();
  await page.getByRole("table", { name: /: East Berkshire \(15D\)$/ }).waitFor();
  await b.check("commissioner-workforce-sub-icb");
  const shown = await page.locator("tbody td:nth-child(2)").allInnerTexts();
  assert.equal(shown.length, inEach("15D"), "the location's rows, as many as it had among all");
  assert.ok(shown.every((l) => l.includes("East Berkshire (15D)")), shown.join(", "));
  const one = (await download("Download as CSV")).trim().split(/\r?\n/).slice(1);
  assert.equal(one.length, shown.length);
  assert.ok(one.every((l) => l.split(",")[2] === "15D"), one.join("\n"));

  // A PCN's home says where it is.
  await signInAs(b, "Pat, Riverside Primary Care Network");
  await page.getByText("North East Hampshire and Farnham (99M)").waitFor();
  await b.check("pcn-home-sub-icb");
  assert.deepEqual(b.errors, []);
});

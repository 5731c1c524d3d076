// A backdated pay award through the console, as the national process pays
// it, against a real arrsd with the demo data (whose 3.3% award, entered
// after Riverside's months were claimed, offered them top-ups): Riverside's
// clinical director reads the award (the most each month can be topped up),
// records the arrears paid to a staff member on the oldest month's top-up,
// is refused a submission without the declaration, declares and submits;
// the commissioner's approver then reads the award and sees the claim
// against the maximum. Every page is checked by axe and saved as a PNG.
import assert from "node:assert/strict";
import { test } from "node:test";

import { pence, signInAs } from "./browser.js";
import { consoleUnderTest } from "./session.js";

const b = consoleUnderTest();

/** The amount in the summary row labelled label. */
async function summaryPence(label: string): Promise<bigint> {
  const row = b.page.locator(".nhsuk-summary-list__row", { has: b.page.getByText(label, { exact: true }) });
  return pence(await row.locator("dd").innerText());
}

/** Today in England, as the day, month and year fields take it. */
function londonToday(): [string, string, string] {
  const [y, m, d] = new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/London", year: "numeric", month: "2-digit", day: "2-digit" })
    .format(new Date())
    .split("-") as [string, string, string];
  return [d, m, y];
}

test("a PCN claims the arrears it paid on a backdated award, declared; its commissioner checks them against the maximum", async () => {
  const { page } = b;
  await signInAs(b, "Pat, Riverside Primary Care Network");
  await page.getByRole("link", { name: "Claims", exact: true }).click();
  await page.getByRole("heading", { name: "Claims", exact: true }).waitFor();
  await page.getByRole("link", { name: /award$/ }).first().click();
  await page.getByRole("heading", { name: /^Backdated pay award/ }).waitFor();
  await b.check("backdated-award-pcn");
  const maximum = await summaryPence("Most the top-ups can claim");
  assert.ok(maximum > 0n, "the award has a maximum");
  assert.equal(await summaryPence("Claimed (submitted, approved or paid)"), 0n);

  // The oldest month's top-up: the demo recorded the pharmacist's and the
  // frailty OT's arrears; the return-to-work OT is not claimed yet.
  await page.getByRole("link", { name: "Claims", exact: true }).click();
  await page.getByRole("link", { name: /\(top-up 1\)$/ }).last().click();
  await page.getByRole("heading", { name: /^Claim for .*top-up 1/ }).waitFor();
  await b.check("top-up-draft");
  const before = await summaryPence("Claimed (for the staff paid arrears)");
  await page.getByRole("link", { name: "Enter arrears paid for ot-return-to-work" }).click();
  await page.getByRole("heading", { name: "Arrears paid to ot-return-to-work" }).waitFor();
  await page.getByLabel("Yes: claim for them").check();
  await page.getByLabel("Gross salary arrears").fill("seventy");
  await page.getByRole("button", { name: "Save arrears" }).click();
  await page.getByRole("heading", { name: "There is a problem" }).waitFor();
  await b.check("arrears-error");
  await page.getByLabel("Gross salary arrears").fill("70.00");
  await page.getByLabel("Employer National Insurance on them").fill("7.00");
  await page.getByLabel("Employer pension contribution on them").fill("10.50");
  const [day, month, year] = londonToday();
  await page.getByLabel("Day", { exact: true }).fill(day);
  await page.getByLabel("Month", { exact: true }).fill(month);
  await page.getByLabel("Year", { exact: true }).fill(year);
  await b.check("arrears-form");
  await page.getByRole("button", { name: "Save arrears" }).click();
  await page.getByRole("heading", { name: /^Claim for .*top-up 1/ }).waitFor();
  const after = await summaryPence("Claimed (for the staff paid arrears)");
  // The return-to-work OT (0.6 WTE) cost 287024p in the demo's months, under
  // even the old cap, so the old rule offered nothing; the £87.50 of
  // arrears paid, under the new cap, is claimed in full.
  assert.equal(after - before, 8750n, `claimed ${before} → ${after}`);

  // Submitting without the declaration is refused, by the server, at the box.
  await page.getByRole("button", { name: "Check and submit claim" }).click();
  await page.getByRole("heading", { name: "Check your answers before submitting the claim" }).waitFor();
  await page.getByRole("button", { name: "Submit claim" }).click();
  await page.getByRole("heading", { name: "There is a problem" }).waitFor();
  await b.check("top-up-undeclared");
  // The refusal's 400 is the one console error Chromium logs.
  assert.equal(b.errors.length, 1, b.errors.join("\n"));
  assert.match(b.errors[0]!, /Failed to load resource: the server responded with a status of 400 \(Bad Request\)$/);
  b.errors.length = 0;
  await page.getByLabel(/^I declare, as clinical director/).check();
  await page.getByRole("button", { name: "Submit claim" }).click();
  await page.getByRole("heading", { name: "Claim submitted" }).waitFor();
  await b.check("top-up-submitted");

  // The commissioner sees the claim against the award's maximum.
  await signInAs(b, "Bob, NHS Frimley ICB");
  await page.getByRole("link", { name: /^U12345, .*top-up 1/ }).click();
  await page.getByRole("heading", { name: /^Review the claim for/ }).waitFor();
  await page.getByRole("link", { name: /award$/ }).click();
  await page.getByRole("heading", { name: /^Backdated pay award/ }).waitFor();
  await b.check("backdated-award-commissioner");
  assert.equal(await summaryPence("Claimed (submitted, approved or paid)"), after);
  assert.equal(await summaryPence("Most the top-ups can claim"), maximum);
  assert.deepEqual(b.errors, []);
});

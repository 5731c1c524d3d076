// The Training Hub CPD ledger in the console, against a real arrsd with the
// demo data: Riverside Surgery's practice manager sees the allocation and a
// stale need, records a need, is refused a request for backfill (with the
// reason) and sends a fundable one; Frimley Training Hub's officer sees the
// needs by topic, part-funds the new request up to what remains, records
// the payment to the provider, and sees the fairness view. Every page is checked by axe and saved as a PNG.
import assert from "node:assert/strict";
import { test } from "node:test";

import { pence, signInAs } from "./browser.js";
import { consoleUnderTest } from "./session.js";

const b = consoleUnderTest();

async function fillDate(id: string, d: Date): Promise<void> {
  const { page } = b;
  await page.locator(`#${id}-day`).fill(String(d.getUTCDate()));
  await page.locator(`#${id}-month`).fill(String(d.getUTCMonth() + 1));
  await page.locator(`#${id}-year`).fill(String(d.getUTCFullYear()));
}

/** A day in the current financial year, so within the demo's single-year scheme. */
function dayInThisYear(): Date {
  const now = new Date();
  const start = now.getUTCMonth() >= 3 ? now.getUTCFullYear() : now.getUTCFullYear() - 1;
  return new Date(Date.UTC(start + 1, 1, 10)); // 10 February, before 31 March
}

test("a practice asks for CPD funding and the Training Hub part-funds it", async () => {
  const { page } = b;
  await signInAs(b, "Priya, Riverside Surgery");
  await page.getByRole("heading", { name: "CPD funding", level: 1 }).waitFor();
  await page.getByText("Over 15 months ago").first().waitFor();
  await b.check("cpd-practice");

  await page.getByRole("link", { name: "Record a CPD need" }).click();
  await page.getByRole("heading", { name: "Record a CPD need" }).waitFor();
  await page.getByLabel("Professional", { exact: true }).fill("Jo Hart (occupational therapist)");
  await page.getByLabel("Allied health professional (including occupational therapists)").check();
  const appraisal = new Date(Date.now() - 20 * 86400_000);
  await fillDate("appraisal", appraisal);
  await page.getByLabel("The need, as the appraisal records it").fill("Cognitive assessment for people off work");
  await page.getByLabel("Topic", { exact: true }).fill("Vocational rehabilitation");
  await b.check("cpd-need-form");
  await page.getByRole("button", { name: "Record need" }).click();
  await page.getByRole("cell", { name: "Cognitive assessment for people off work" }).waitFor();

  await page.getByRole("link", { name: "Request funding", exact: true }).first().click();
  await page.getByRole("heading", { name: "Request CPD funding" }).waitFor();
  await page.getByLabel("The need it meets").selectOption({ label: "Jo Hart (occupational therapist): Vocational rehabilitation" });
  await page.getByLabel("Backfill while the professional trains").check();
  await page.getByLabel("Course or event").fill("Cover for Jo's study days");
  await page.getByLabel("Provider", { exact: true }).fill("Locum agency");
  const day = dayInThisYear();
  await fillDate("start", day);
  await fillDate("end", day);
  await page.getByLabel("Cost", { exact: true }).fill("500");
  await page.getByRole("button", { name: "Send request" }).click();
  // Refused by the server, with the reason, and nothing recorded.
  await page.getByRole("heading", { name: "There is a problem" }).waitFor();
  await page.getByText("CPD funding cannot pay for backfill of staff on training").first().waitFor();
  await b.check("cpd-request-refused");
  // The refusal is the one error the browser logs: the API's 400.
  assert.equal(b.errors.length, 1, b.errors.join("\n"));
  assert.match(b.errors[0]!, /status of 400 \(Bad Request\)$/);
  b.errors.length = 0;

  await page.getByLabel("A course", { exact: true }).check();
  await page.getByLabel("Course or event").fill("Cognitive assessment in primary care");
  await page.getByLabel("Provider", { exact: true }).fill("Royal College of Occupational Therapists");
  await page.getByLabel("Cost", { exact: true }).fill("900");
  await page.getByRole("button", { name: "Send request" }).click();
  await page.getByRole("cell", { name: /Cognitive assessment in primary care/ }).waitFor();

  await signInAs(b, "Hana, Frimley Training Hub");
  await page.getByRole("heading", { name: "CPD ledger", level: 1 }).waitFor();
  await page.getByRole("cell", { name: "Vocational rehabilitation" }).waitFor();
  await b.check("cpd-hub");
  await page.getByRole("link", { name: "Decide on Jo Hart (occupational therapist)'s request" }).click();
  await page.getByRole("heading", { name: /Cognitive assessment in primary care/ }).waitFor();
  const remaining = pence(await page.locator(".nhsuk-summary-list__row", { hasText: "Remaining in the allocation" }).locator("dd").innerText());
  assert.ok(remaining > 0n && remaining < 90000n, `remaining ${remaining}p should be less than the £900 cost`);
  await b.check("cpd-decide");
  // The whole cost is more than remains: refused, then part-funded.
  await page.getByRole("button", { name: "Approve the whole cost" }).click();
  await page.getByRole("heading", { name: "There is a problem" }).waitFor();
  assert.equal(b.errors.length, 1, b.errors.join("\n"));
  assert.match(b.errors[0]!, /status of 400 \(Bad Request\)$/);
  b.errors.length = 0;
  await page.getByRole("button", { name: "Part-fund" }).click();
  await page.getByText("Part-funded.").waitFor();
  const funded = pence(await page.locator(".nhsuk-summary-list__row", { has: page.getByText("Funded", { exact: true }) }).locator("dd").innerText());
  assert.equal(funded, remaining);
  await b.check("cpd-part-funded");
  // The hub pays the provider what it funded: a payment names its day and
  // its remittance reference, or the form says what is missing.
  await page.getByRole("button", { name: /^Record payment of/ }).click();
  await page.getByRole("heading", { name: "There is a problem" }).waitFor();
  await page.getByRole("link", { name: "Enter the payment reference" }).waitFor();
  await b.check("cpd-payment-error");
  const paid = new Date();
  paid.setUTCDate(paid.getUTCDate() - 1);
  const dateField = page.getByRole("group", { name: "Date paid" });
  await dateField.getByLabel("Day", { exact: true }).fill(String(paid.getUTCDate()));
  await dateField.getByLabel("Month", { exact: true }).fill(String(paid.getUTCMonth() + 1));
  await dateField.getByLabel("Year", { exact: true }).fill(String(paid.getUTCFullYear()));
  await page.getByLabel("Payment reference").fill("FTH-REM-0042");
  await page.getByRole("button", { name: /^Record payment of/ }).click();
  await page.getByText("Payment recorded.").waitFor();
  await page.locator(".nhsuk-summary-list__row", { hasText: "Status" }).getByText("Paid").waitFor();
  await page.locator(".nhsuk-summary-list__row", { hasText: "Paid to the provider" }).getByText(/reference FTH-REM-0042$/).waitFor();
  await b.check("cpd-paid");

  await page.getByRole("link", { name: "CPD ledger" }).first().click();
  await page.getByRole("table", { name: "Spend per head by practice" }).waitFor();
  assert.deepEqual(b.errors, [], "console errors");
});

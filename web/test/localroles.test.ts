// Local roles in the console, against a real arrsd with the demo data: NHS
// Frimley ICB's approver lists its local roles, is told what is missing
// when approving one without its details, approves a role and retires it;
// Riverside's clinical director finds the ICB's local roles in the PCN's
// role catalogue beside the national roles, with the 2026/27 figures marked
// illustrative. Every page is checked by axe and saved as a PNG.
import assert from "node:assert/strict";
import { test } from "node:test";

import { signInAs } from "./browser.js";
import { consoleUnderTest } from "./session.js";

const b = consoleUnderTest();

test("a commissioner approves and retires a local role, and its PCN sees it in its catalogue", async () => {
  const { page } = b;
  await signInAs(b, "Bob, NHS Frimley ICB");
  await page.getByRole("link", { name: "Local roles", exact: true }).click();
  await page.getByRole("heading", { name: "Local roles" }).waitFor();
  await page.getByRole("cell", { name: /^Frailty practitioner \(NHS Frimley ICB\)/ }).waitFor();
  await b.check("local-roles");

  await page.getByRole("button", { name: "Approve a local role" }).click();
  await page.getByRole("heading", { name: "Approve a local role" }).waitFor();
  await page.getByRole("button", { name: "Approve local role" }).click();
  await page.getByRole("heading", { name: "There is a problem" }).waitFor();
  await b.check("approve-local-role-error");

  await page.getByLabel("Role name").fill("Dementia care navigator");
  await page.getByLabel("Role identifier").fill("dementia-care-navigator");
  await page.getByLabel("Day", { exact: true }).fill("1");
  await page.getByLabel("Month", { exact: true }).fill("9");
  await page.getByLabel("Year", { exact: true }).fill("2026");
  await page.getByLabel(/^Maximum reimbursable a year/).fill("35,000.00");
  await page.getByLabel("The maximum is provisional (illustrative)").check();
  await b.check("approve-local-role");
  await page.getByRole("button", { name: "Approve local role" }).click();
  await page.getByRole("heading", { name: "Local role approved" }).waitFor();
  await b.check("local-role-approved");

  await page.getByRole("link", { name: "Back to local roles" }).click();
  const row = page.locator("tr", { hasText: "Dementia care navigator" });
  await row.getByText("£35,000.00").waitFor();
  await row.getByText("Illustrative").waitFor();
  await row.getByRole("link", { name: /^Retire/ }).click();
  await page.getByRole("heading", { name: "Retire Dementia care navigator?" }).waitFor();
  await b.check("retire-local-role");
  await page.getByLabel("Day", { exact: true }).fill("31");
  await page.getByLabel("Month", { exact: true }).fill("3");
  await page.getByLabel("Year", { exact: true }).fill("2027");
  await page.getByRole("button", { name: "Retire local role" }).click();
  await page.getByRole("heading", { name: "Local role retired" }).waitFor();
  await b.check("local-role-retired");
  await page.getByRole("link", { name: "Back to local roles" }).click();
  await page.locator("tr", { hasText: "Dementia care navigator" }).getByText("Retired").waitFor();

  await signInAs(b, "Pat, Riverside Primary Care Network");
  await page.getByRole("link", { name: "Roles", exact: true }).click();
  await page.getByRole("heading", { name: "Role catalogue" }).waitFor();
  const frailty = page.locator("tr", { hasText: "Frailty practitioner (NHS Frimley ICB)" });
  await frailty.getByText("Local").waitFor();
  await frailty.getByText("Illustrative").waitFor();
  const gp = page.locator("tr", { hasText: "General practitioner" });
  await gp.getByText(/Within 2 years of CCT/).waitFor();
  await page.locator(".nhsuk-summary-list__row", { hasText: "National pool" }).getByText("Illustrative").waitFor();
  assert.equal(await page.locator("tr", { hasText: "Occupational therapist" }).getByText("National").count(), 1);
  await b.check("pcn-role-catalogue");
  assert.deepEqual(b.errors, []);
});

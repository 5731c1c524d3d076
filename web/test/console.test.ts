// The web console end to end, in headless Chromium against a real arrsd
// with the demo data (served with its CSP): Northfield's clinical director
// drafts last month's claim, enters what was paid and submits it; an
// approver queries it; the PCN, refused a resubmission without a reply,
// replies in the claim's thread; the approver, seeing the claim waiting for
// the PCN in the queue, asks a further question; the PCN replies again,
// changes a line and submits again; the approver approves it with one line
// lowered; finance records
// the payment and downloads the month's CSV; the budget shows the payment.
// NHS England then enters a backdated rate, sees the top-up it would offer
// for that claim before saving it, and the PCN finds the top-up offered.
// Every page is checked by axe (0 violations) and saved as a PNG in
// web/test/screenshots/; the console must log no errors.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";

import { pence, screenshots, signInAs } from "./browser.js";
import { consoleUnderTest } from "./session.js";

const b = consoleUnderTest();

async function budgetPaid(): Promise<bigint> {
  const { page } = b;
  await page.getByRole("link", { name: "Budget", exact: true }).click();
  await page.getByRole("heading", { name: /^Budget for/ }).waitFor();
  const row = page.locator(".nhsuk-summary-list__row", { has: page.getByText("Paid", { exact: true }) });
  return pence(await row.locator("dd").innerText());
}

test("a claim from draft to paid, through the console", async () => {
  const { page } = b;
  await page.goto("/");
  await page.getByRole("heading", { name: "Choose a demo user" }).waitFor();
  await b.check("sign-in");

  // A sign-in without a choice is an error, linked to the field.
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "There is a problem" }).waitFor();
  await b.check("sign-in-error");

  await page.getByLabel("Nia, Northfield and Heath PCN").check();
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Northfield and Heath PCN" }).waitFor();
  await b.check("pcn-home");
  // A care co-ordinator is on no register: not a post missing its number.
  assert.equal(await page.getByRole("heading", { name: "Posts missing a registration number" }).count(), 0);
  const paidBefore = await budgetPaid();
  await b.check("budget-before");
  await page.getByRole("link", { name: "Workforce", exact: true }).click();
  await page.getByRole("heading", { name: "Workforce" }).waitFor();
  await b.check("workforce");

  // Draft last month's claim.
  await page.getByRole("link", { name: "Home", exact: true }).click();
  const start = page.getByRole("button", { name: /^Start claim for/ });
  const month = (await start.innerText()).replace("Start claim for ", "");
  await start.click();
  await page.getByRole("heading", { name: `Claim for ${month}` }).waitFor();
  await b.check("claim-draft");

  // Enter what was paid for every line; a bad amount first.
  const lines = await page.getByRole("link", { name: /^Enter costs/ }).count();
  assert.ok(lines >= 2, `the claim has ${lines} lines`);
  for (let i = 0; i < lines; i++) {
    await page.getByRole("link", { name: /^Enter costs/ }).nth(i).click();
    await page.getByRole("heading", { name: /^What was paid for/ }).waitFor();
    if (i === 0) {
      await page.getByLabel("Gross salary").fill("three thousand");
      await page.getByRole("button", { name: "Save costs" }).click();
      await page.getByRole("heading", { name: "There is a problem" }).waitFor();
      await b.check("line-error");
      await page.getByRole("link", { name: /Gross salary must be an amount/ }).click();
      assert.equal(await page.evaluate(() => document.activeElement?.id), "gross-salary");
    }
    await page.getByLabel("Gross salary").fill("3,000.00");
    await page.getByLabel("Employer National Insurance").fill("350");
    await page.getByLabel("Employer pension contribution").fill("420.50");
    await page.getByLabel("Link to the evidence (optional)").fill(`https://evidence.example.nhs.uk/payslips/${i}.pdf`);
    if (i === 0) await b.check("line-form");
    await page.getByRole("button", { name: "Save costs" }).click();
    await page.getByRole("heading", { name: `Claim for ${month}` }).waitFor();
  }
  await b.check("claim-with-costs");

  // Check your answers, submit.
  await page.getByRole("button", { name: "Check and submit claim" }).click();
  await page.getByRole("heading", { name: "Check your answers before submitting the claim" }).waitFor();
  await b.check("claim-check");
  await page.getByRole("button", { name: "Submit claim" }).click();
  await page.getByRole("heading", { name: "Claim submitted" }).waitFor();
  await b.check("claim-submitted");

  // The approver queries it.
  await signInAs(b, "Bob, NHS Frimley ICB");
  await page.getByRole("heading", { name: "Review queue" }).waitFor();
  await b.check("review-queue");
  await page.getByRole("link", { name: "PCNs", exact: true }).click();
  await page.getByRole("heading", { name: /^PCNs in/ }).waitFor();
  await page.getByRole("link", { name: /^Remaining/ }).click();
  await page.locator("th[aria-sort=ascending]", { hasText: "Remaining" }).waitFor();
  await b.check("dashboard");
  await page.getByRole("link", { name: "Review queue", exact: true }).click();
  await page.getByRole("heading", { name: "Review queue" }).waitFor();
  await page.getByRole("link", { name: `U23456, ${month}` }).click();
  await page.getByRole("heading", { name: `Review the claim for ${month}` }).waitFor();
  await b.check("review-claim");
  await page.getByRole("button", { name: "Ask a question" }).click();
  await page.getByRole("button", { name: "Send question" }).click();
  await page.getByRole("heading", { name: "There is a problem" }).waitFor();
  await b.check("query-error");
  const question = "The first line's salary looks high for the band: please check it against the payslip.";
  await page.getByLabel("Your question").fill(question);
  await page.getByRole("button", { name: "Send question" }).click();
  await page.getByRole("heading", { name: "Claim queried" }).waitFor();
  await b.check("claim-queried");
  // The queue shows it waiting for the PCN, with the days each side held it.
  await page.getByRole("link", { name: "Back to the review queue" }).click();
  await page.getByRole("heading", { name: "Waiting for the PCN's reply" }).waitFor();
  assert.equal(await page.getByRole("link", { name: `U23456, ${month}` }).count(), 1);
  await b.check("review-queue-waiting-for-pcn");

  // The PCN answers: the question is on its home page and the claim.
  await signInAs(b, "Nia, Northfield and Heath PCN");
  await page.getByText(question).first().waitFor();
  await page.getByRole("link", { name: month }).first().click();
  await page.getByRole("heading", { name: "The commissioner has a question" }).waitFor();
  await page.getByRole("heading", { name: "Questions and replies" }).waitFor();
  await b.check("claim-queried-pcn");
  // Resubmitting before replying is refused, with the server's reason.
  await page.getByRole("button", { name: "Check and submit claim" }).click();
  await page.getByRole("button", { name: "Submit claim" }).click();
  await page.getByRole("heading", { name: "There is a problem" }).waitFor();
  await page.getByText(/Reply to the commissioner's question before resubmitting/).waitFor();
  await b.check("resubmit-needs-reply");
  assert.equal(b.errors.length, 1, b.errors.join("\n"));
  assert.match(b.errors[0]!, /Failed to load resource: the server responded with a status of 400 \(Bad Request\)$/);
  b.errors.length = 0;
  await page.getByRole("link", { name: `Claim for ${month}` }).click();
  // A reply needs words; then it joins the thread, with its evidence.
  await page.getByRole("button", { name: "Send reply" }).click();
  await page.getByRole("heading", { name: "There is a problem" }).waitFor();
  await b.check("reply-error");
  await page.getByRole("link", { name: "Enter your reply to the commissioner's question" }).click();
  assert.equal(await page.evaluate(() => document.activeElement?.id), "reply-text");
  const answer = "The first line includes a one-off recruitment bonus; the payslip is linked.";
  await page.getByLabel("Your reply").fill(answer);
  await page.getByLabel("Link to evidence (optional)").fill("https://evidence.example.nhs.uk/payslips/bonus.pdf");
  await page.getByRole("button", { name: "Send reply" }).click();
  await page.getByRole("heading", { name: "Reply from the PCN" }).waitFor();
  await page.getByText(answer).waitFor();
  await b.check("claim-replied-pcn");

  // The approver reads the reply and asks a further question.
  await signInAs(b, "Bob, NHS Frimley ICB");
  await page.getByRole("link", { name: `U23456, ${month}` }).click();
  await page.getByRole("heading", { name: "Reply from the PCN" }).waitFor();
  await b.check("review-claim-replied");
  await page.getByRole("button", { name: "Ask a further question" }).click();
  const further = "Is the bonus within the scheme's rules? Please lower the line if not.";
  await page.getByLabel("Your question").fill(further);
  await page.getByRole("button", { name: "Send question" }).click();
  await page.getByRole("heading", { name: "Claim queried" }).waitFor();

  // The PCN replies again, corrects the line and resubmits.
  await signInAs(b, "Nia, Northfield and Heath PCN");
  await page.getByRole("link", { name: month }).first().click();
  await page.getByText(further).first().waitFor();
  await page.getByLabel("Your reply").fill("It is not: the line is corrected to the salary alone.");
  await page.getByRole("button", { name: "Send reply" }).click();
  await page.getByText("It is not: the line is corrected to the salary alone.").waitFor();
  await page.getByRole("link", { name: /^Enter costs/ }).first().click();
  await page.getByLabel("Gross salary").fill("2,900.00");
  await page.getByRole("button", { name: "Save costs" }).click();
  await page.getByRole("heading", { name: `Claim for ${month}` }).waitFor();
  await page.getByRole("button", { name: "Check and submit claim" }).click();
  await page.getByRole("button", { name: "Submit claim" }).click();
  await page.getByRole("heading", { name: "Claim submitted" }).waitFor();

  // The approver approves, with the first line lowered.
  await signInAs(b, "Bob, NHS Frimley ICB");
  await page.getByRole("link", { name: `U23456, ${month}` }).click();
  await page.getByRole("button", { name: "Approve" }).click();
  await page.getByRole("heading", { name: "Approve the claim" }).waitFor();
  await page.getByLabel("Amount to approve").first().fill("100.00");
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByRole("heading", { name: "There is a problem" }).waitFor();
  await b.check("approve-error");
  await page.getByLabel("Reason for lowering it").first().fill("Overtime not evidenced");
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByRole("heading", { name: "Check your answers before approving the claim" }).waitFor();
  await b.check("approve-check");
  await page.getByRole("button", { name: "Approve claim" }).click();
  await page.getByRole("heading", { name: "Claim approved" }).waitFor();
  const approved = pence(await page.locator(".nhsuk-panel__body").innerText());
  await b.check("claim-approved");

  // Finance records the payment and downloads the month's lines.
  await signInAs(b, "Carol, NHS Frimley ICB");
  await page.getByRole("heading", { name: "Approved claims awaiting payment" }).waitFor();
  await b.check("payments");
  await page.getByRole("link", { name: `Record payment for U23456, ${month}` }).click();
  await page.getByRole("heading", { name: "Record the payment" }).waitFor();
  await page.getByLabel("Payment reference").fill("REM-E2E-0001");
  await b.check("payment-form");
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByRole("heading", { name: "Check your answers before recording the payment" }).waitFor();
  await b.check("payment-check");
  await page.getByRole("button", { name: "Record payment" }).click();
  await page.getByRole("heading", { name: "Payment recorded" }).waitFor();
  await b.check("payment-recorded");
  await page.getByRole("link", { name: "Back to the claims awaiting payment" }).click();
  await page.getByRole("link", { name: /Download a month's claim lines/ }).click();
  await page.getByRole("heading", { name: "Download a month's claim lines" }).waitFor();
  await page.getByLabel("Month").selectOption({ label: month });
  await b.check("export");
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download CSV" }).click()]);
  const csv = await readFile((await download.path())!, "utf8");
  assert.match(csv, /U23456/);
  assert.match(csv, /Overtime not evidenced|REM-E2E-0001|300000/);

  // The budget shows the payment.
  await signInAs(b, "Nia, Northfield and Heath PCN");
  const paidAfter = await budgetPaid();
  assert.equal(paidAfter - paidBefore, approved, "the budget's paid figure went up by what was approved and paid");
  await b.check("budget-after");

  // The claim's story, from the audit trail.
  await page.getByRole("link", { name: "Claims", exact: true }).click();
  await page.getByRole("link", { name: month, exact: true }).click();
  await page.getByRole("link", { name: "History of this claim" }).click();
  await page.getByRole("heading", { name: /^History of the claim/ }).waitFor();
  await b.check("claim-history");

  // Usable at 320 px: nothing wider than the screen.
  await page.setViewportSize({ width: 320, height: 800 });
  await page.getByRole("link", { name: "Budget", exact: true }).click().catch(() => page.goto("/budget"));
  await page.getByRole("heading", { name: /^Budget for/ }).waitFor();
  await b.check("budget-320px");
  assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 320, "the budget page scrolls sideways at 320 px");
  await page.getByRole("link", { name: "Claims", exact: true }).click();
  await page.getByRole("link", { name: month, exact: true }).click();
  await page.getByRole("heading", { name: `Claim for ${month}` }).waitFor();
  await b.check("claim-320px");
  assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 320, "the claim page scrolls sideways at 320 px");
  await page.setViewportSize({ width: 1024, height: 800 });

  assert.deepEqual(b.errors, [], "console errors");
  console.log(`screenshots in ${screenshots}`);
});

/** Presses Tab until the focused element matches selector (and text, if given). */
async function tabTo(selector: string, text?: RegExp): Promise<void> {
  const { page } = b;
  for (let i = 0; i < 80; i++) {
    await page.keyboard.press("Tab");
    const hit = await page.evaluate(
      ([sel, src]) => {
        const el = document.activeElement;
        return !!el && el.matches(sel!) && (!src || new RegExp(src).test((el as HTMLElement).innerText || el.id));
      },
      [selector, text?.source ?? ""] as const,
    );
    if (hit) return;
  }
  assert.fail(`Tab never reached ${selector} ${text ?? ""}`);
}

test("keyboard only: a clinical director checks and submits a draft claim", async () => {
  const { page } = b;
  if (await page.getByRole("button", { name: "Sign out" }).isVisible().catch(() => false)) {
    await page.getByRole("button", { name: "Sign out" }).focus();
    await page.keyboard.press("Enter");
  } else {
    await page.goto("/");
  }
  await page.getByRole("heading", { name: "Choose a demo user" }).waitFor();
  // The radios are one Tab stop; the arrow keys choose within them.
  await tabTo("input[name=user]");
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowDown");
  assert.equal(await page.evaluate(() => (document.activeElement as HTMLInputElement).id), "user-2");
  await tabTo("button", /^Sign in$/);
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Riverside Primary Care Network" }).waitFor();
  await b.check("keyboard-home");

  await tabTo("table a", /^[A-Z][a-z]+ \d{4}$/);
  const month = await page.evaluate(() => (document.activeElement as HTMLElement).innerText);
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: `Claim for ${month}` }).waitFor();
  await tabTo("a.nhsuk-button", /Check and submit claim/);
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Check your answers before submitting the claim" }).waitFor();
  await b.check("keyboard-check");
  await tabTo("button", /^Submit claim$/);
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Claim submitted" }).waitFor();
  await b.check("keyboard-submitted");
  assert.deepEqual(b.errors, [], "console errors");
});

test("a clinical director fills a planned post; the server checks the registration number", async () => {
  const { page } = b;
  await signInAs(b, "Pat, Riverside Primary Care Network");
  await page.getByRole("link", { name: "Workforce", exact: true }).click();
  await page.getByRole("heading", { name: "Workforce" }).waitFor();
  await page.getByRole("link", { name: "Start recruiting to ot-mental-health-plan" }).click();
  await page.getByRole("heading", { name: "Start recruiting to ot-mental-health-plan?" }).waitFor();
  await b.check("recruit-post");
  await page.getByRole("button", { name: "Start recruiting" }).click();
  await page.getByRole("heading", { name: "Recruiting" }).waitFor();
  await page.getByRole("link", { name: "Back to the workforce" }).click();
  await page.getByRole("link", { name: "Fill ot-mental-health-plan" }).click();
  await page.getByRole("heading", { name: "Who has been appointed to ot-mental-health-plan?" }).waitFor();
  await page.getByLabel("Full name").fill("Ada Okoro");
  await page.getByLabel("Registration number").fill("PH12");
  await page.getByRole("button", { name: "Fill post" }).click();
  await page.getByRole("heading", { name: "There is a problem" }).waitFor();
  // The server's violation, next to its field and linked from the summary.
  await page.locator("#registration-error").waitFor();
  await b.check("fill-post-error");
  // Chromium logs the API's 400 as a console error: that one is expected.
  assert.equal(b.errors.length, 1, b.errors.join("\n"));
  assert.match(b.errors[0]!, /Failed to load resource: the server responded with a status of 400 \(Bad Request\)$/);
  b.errors.length = 0;
  await page.getByLabel("Registration number").fill("OT123456");
  await page.getByRole("button", { name: "Fill post" }).click();
  await page.getByRole("heading", { name: "Post filled" }).waitFor();
  await b.check("fill-post-done");
  // And ends it again, on its last day (a date after its start).
  await page.getByRole("link", { name: "Back to the workforce" }).click();
  await page.getByRole("link", { name: "End ot-mental-health-plan" }).click();
  await page.getByRole("heading", { name: "When is the last day in post for ot-mental-health-plan?" }).waitFor();
  await page.getByLabel("Day").fill("31");
  await page.getByLabel("Month").fill("2");
  await page.getByRole("button", { name: "End post" }).click();
  await page.getByRole("heading", { name: "There is a problem" }).waitFor();
  await b.check("end-post-error");
  const [y] = new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/London", year: "numeric" }).format(new Date()).split("-");
  await page.getByLabel("Day").fill("31");
  await page.getByLabel("Month").fill("3");
  await page.getByLabel("Year").fill(String(Number(y) + 2));
  await page.getByRole("button", { name: "End post" }).click();
  await page.getByRole("heading", { name: "Post ended" }).waitFor();
  await b.check("end-post-done");

  // A new post: the server refuses a WTE over 1, next to the field.
  await page.getByRole("link", { name: "Back to the workforce" }).click();
  await page.getByRole("button", { name: "Add a post" }).click();
  await page.getByRole("heading", { name: "Add a post" }).waitFor();
  await page.getByLabel("Role").selectOption({ label: "Clinical pharmacist" });
  await page.getByLabel("Whole-time equivalent").fill("1.5");
  await page.getByLabel("Day").fill("1");
  await page.getByLabel("Month").fill("4");
  await page.getByLabel("Year").fill(String(Number(y) + 1));
  await page.getByRole("button", { name: "Add post" }).click();
  await page.locator("#wte-error").waitFor();
  await b.check("new-post-error");
  assert.equal(b.errors.length, 1, b.errors.join("\n"));
  b.errors.length = 0;
  await page.getByLabel("Whole-time equivalent").fill("0.5");
  await page.getByRole("button", { name: "Add post" }).click();
  await page.getByRole("heading", { name: "Post added" }).waitFor();
  await b.check("new-post-done");

  // A GP starting in 2025-26 must be within 2 years of their CCT (the
  // role's rule): the form asks for the date with that role only, and the
  // server says it is needed.
  await page.getByRole("link", { name: "Back to the workforce" }).click();
  await page.getByRole("button", { name: "Add a post" }).click();
  await page.getByRole("heading", { name: "Add a post" }).waitFor();
  assert.equal(await page.locator("#cct-day").count(), 0, "no CCT date for a role without the rule");
  await page.getByLabel("Role").selectOption({ label: "General practitioner" });
  await page.getByRole("group", { name: "Date of the Certificate of Completion of Training (CCT)" }).waitFor();
  assert.match(await page.locator("#cct-hint").innerText(), /within 2 years of their CCT/);
  await page.getByLabel("Whole-time equivalent").fill("0.6");
  await page.locator("#start-day").fill("1");
  await page.locator("#start-month").fill("6");
  await page.locator("#start-year").fill("2025");
  await page.getByLabel("Staff member's full name (optional)").fill("Dr Sam Hale");
  await page.getByLabel("Registration number (optional)").fill("7234561");
  await page.getByRole("button", { name: "Add post" }).click();
  await page.locator("#cct-error").waitFor();
  await b.check("new-post-cct-error");
  assert.match(await page.locator(".nhsuk-error-summary").innerText(), /CCT/);
  assert.equal(b.errors.length, 1, b.errors.join("\n"));
  b.errors.length = 0;
  await page.locator("#cct-day").fill("1");
  await page.locator("#cct-month").fill("8");
  await page.locator("#cct-year").fill("2024");
  await page.getByRole("button", { name: "Add post" }).click();
  await page.getByRole("heading", { name: "Post added" }).waitFor();
  await page.getByRole("link", { name: "Back to the workforce" }).click();
  await page.getByRole("heading", { name: "Workforce" }).waitFor();
  await page.getByRole("cell", { name: "Dr Sam Hale" }).waitFor();
  assert.deepEqual(b.errors, [], "console errors");
});

test("an approver rejects a claim, saying why", async () => {
  const { page } = b;
  await signInAs(b, "Dee, NHS Frimley ICB");
  await page.getByRole("heading", { name: "Review queue" }).waitFor();
  await page.getByRole("link", { name: /^U34567, / }).first().click();
  await page.getByRole("heading", { name: /^Review the claim for/ }).waitFor();
  await page.getByRole("button", { name: "Reject" }).click();
  await page.getByRole("heading", { name: "Reject the claim" }).waitFor();
  await page.getByLabel("Why the claim is rejected").fill("The new starter's contract does not match the post's WTE.");
  await b.check("reject-form");
  await page.getByRole("button", { name: "Reject claim" }).click();
  await page.getByRole("heading", { name: "Claim rejected" }).waitFor();
  await b.check("claim-rejected");
  assert.deepEqual(b.errors, [], "console errors");
});

test("NHS England checks the audit chain, adds a backdated rate after previewing its top-ups, and reads the years", async () => {
  const { page } = b;
  await signInAs(b, "Alice, NHS England");
  await page.getByRole("heading", { name: "Audit trail" }).waitFor();
  await page.getByRole("button", { name: "Check the audit chain" }).click();
  await page.getByText("The chain is intact.").waitFor();
  await b.check("audit-verified");
  await page.getByRole("link", { name: "Roles and rates", exact: true }).click();
  await page.getByRole("heading", { name: "Roles and rates" }).waitFor();
  await b.check("rates");

  // A backdated award for care co-ordinators, from the first day of the
  // financial year of the month the first test claimed: the preview shows
  // that month of Northfield's (its care co-ordinator was claimed above the
  // old maximum) before anything is saved.
  await page.getByRole("button", { name: "Add a rate" }).click();
  await page.getByRole("heading", { name: "Add a rate" }).waitFor();
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByRole("heading", { name: "There is a problem" }).waitFor();
  await b.check("rate-new-error");
  const [y, m] = new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/London", year: "numeric", month: "2-digit" }).format(new Date()).split("-").map(Number) as [number, number];
  const fyStart = m - 1 >= 4 ? y : y - 1; // the year of last month's financial year
  await page.getByLabel("Role").selectOption({ label: "Care co-ordinator" });
  await page.getByLabel("Day", { exact: true }).fill("1");
  await page.getByLabel("Month", { exact: true }).fill("4");
  await page.getByLabel("Year", { exact: true }).fill(String(fyStart));
  // More than the server allows: its violation, next to the field.
  await page.getByLabel("Maximum a year outside London").fill("2,000,000");
  await page.getByRole("button", { name: "Continue" }).click();
  await page.locator("#national-error", { hasText: "100000000" }).waitFor();
  await b.check("rate-new-server-error");
  assert.equal(b.errors.length, 1, b.errors.join("\n"));
  b.errors.length = 0;
  await page.getByLabel("Maximum a year outside London").fill("34,565.00");
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByRole("heading", { name: "Check the new rate before saving it" }).waitFor();
  const preview = page.locator("table", { has: page.locator("caption", { hasText: /to top up/ }) });
  await preview.getByRole("cell", { name: "U23456" }).first().waitFor();
  await b.check("rate-check");
  // Nothing is saved yet: the role has no rate from that date.
  await page.getByRole("link", { name: "Roles and rates", exact: true }).click();
  await page.getByRole("heading", { name: "Roles and rates" }).waitFor();
  assert.equal(await page.locator("table", { has: page.locator("caption", { hasText: "Care co-ordinator" }) }).getByText(`1 April ${fyStart}`).count(), 0);
  await page.getByRole("button", { name: "Add a rate" }).click();
  await page.getByRole("button", { name: "Continue" }).click();
  await page.getByRole("heading", { name: "Check the new rate before saving it" }).waitFor();
  await page.getByRole("button", { name: "Save rate" }).click();
  await page.getByRole("heading", { name: "Rate saved" }).waitFor();
  await page.getByText(/top-ups? offered to PCNs/).waitFor();
  await b.check("rate-saved");
  await page.getByRole("link", { name: "Financial years", exact: true }).click();
  await page.getByRole("heading", { name: "Financial years" }).waitFor();
  // Rates per weighted patient show their pennies: 2026-27's 27.3 as £27.30.
  await page.getByRole("cell", { name: "£27.30", exact: true }).waitFor();
  await page.getByRole("cell", { name: "£26.631", exact: true }).waitFor();
  await b.check("years");
  await page.getByRole("link", { name: "Entitlements", exact: true }).click();
  await page.getByRole("heading", { name: "Entitlements" }).waitFor();
  await b.check("entitlements");
  assert.deepEqual(b.errors, [], "console errors");

  // Northfield finds the top-up among its claims, as a draft to submit.
  await signInAs(b, "Nia, Northfield and Heath PCN");
  await page.getByRole("link", { name: "Claims", exact: true }).click();
  await page.getByRole("link", { name: /\(top-up 1\)$/ }).first().waitFor();
  await b.check("claims-with-top-up");
  assert.deepEqual(b.errors, [], "console errors");
});

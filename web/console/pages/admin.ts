// NHS England: the audit chain checked, with its result; the roles and
// their rates; the financial years.
import { html } from "../lib/html.js";
import { lastSegment, longDate, pounds, roleName } from "../lib/format.js";
import { api } from "../lib/session.js";
import { button, insetText, summaryList, table, warning } from "../lib/ui.js";
import { page, type Ctx, type PageOut } from "../routes.js";

export async function auditPage(_ctx: Ctx): Promise<PageOut> {
  const stored = sessionStorage.getItem("arrs.verify");
  const result = stored ? (JSON.parse(stored) as { ok?: boolean; eventsChecked?: string; firstBadSeq?: string; problem?: string; message?: string }) : null;
  return {
    title: "Audit trail",
    body: html`<span class="nhsuk-caption-l">NHS England</span><h1>Audit trail</h1>
      <p>Every write is an event whose hash covers the one before. Checking the chain recomputes every hash: an event altered or deleted, even directly in the database, is found.</p>
      ${result
        ? result.ok
          ? insetText(html`<strong>The chain is intact.</strong> ${result.eventsChecked} events checked.`)
          : warning("The chain is broken", summaryList([["First broken event", result.firstBadSeq ?? ""], ["Problem", result.problem ?? result.message ?? ""]]))
        : ""}
      <form id="verify" novalidate>${button("Check the audit chain")}</form>`,
  };
}

/** Roles and their maximum rates, newest first, with their effective dates. */
export const ratesPage = page(async () => {
  const client = api();
  const roles = (await client.GET("/v1/roles", { params: { query: { pageSize: 500 } } })).data?.roles ?? [];
  const rates = (await client.GET("/v1/roles/{role}/rates", { params: { path: { role: "-" }, query: { pageSize: 500 } } })).data?.rates ?? [];
  return {
    title: "Roles and rates",
    body: html`<span class="nhsuk-caption-l">NHS England</span><h1>Roles and rates</h1>
      <p>Each role's maximum reimbursement a year, from the date it takes effect. A rate entered with a past date (a backdated pay award) offers top-ups for the months already approved.</p>
      ${roles.map((r) => {
        const id = lastSegment(r.name);
        const own = rates.filter((x) => (x.name ?? "").startsWith(`${r.name}/`)).sort((a, b) => (b.effectiveDate ?? "").localeCompare(a.effectiveDate ?? ""));
        const london = (p: string | undefined) => (p && p !== "0" ? pounds(p) : "As national");
        if (!own.length) return html`<h2 class="nhsuk-heading-s">${r.displayName || roleName(id)}</h2><p>No rates: not reimbursable.</p>`;
        return table(
          r.displayName || roleName(id),
          ["From", "National", "Outer London", "Inner London", "Source"],
          own.map((x) => [longDate(x.effectiveDate), pounds(x.nationalMaxPence), london(x.outerLondonMaxPence), london(x.innerLondonMaxPence), html`${x.source}${x.illustrative ? html` <strong class="nhsuk-tag nhsuk-tag--yellow">Illustrative</strong>` : ""}`]),
          { numeric: [1, 2, 3] },
        );
      })}`,
  };
});

/** The financial years: dates, claims deadline, rate per weighted patient. */
export const yearsPage = page(async () => {
  const years = (await api().GET("/v1/financialYears", { params: { query: { pageSize: 500 } } })).data?.financialYears ?? [];
  return {
    title: "Financial years",
    body: html`<span class="nhsuk-caption-l">NHS England</span><h1>Financial years</h1>
      ${table(
        "Financial years",
        ["Year", "From", "To", "Claims deadline", "Rate per weighted patient"],
        years.map((y) => [lastSegment(y.name), longDate(y.startDate), longDate(y.endDate), longDate(y.claimsDeadline) || "None", `£${y.ratePerWeightedPatient ?? ""}`]),
        { numeric: [4] },
      )}`,
  };
});

/** Every PCN's entitlement, year by year: weighted population × the year's rate. */
export const entitlementsPage = page(async () => {
  const list = (await api().GET("/v1/pcns/{pcn}/entitlements", { params: { path: { pcn: "-" }, query: { pageSize: 500 } } })).data?.entitlements ?? [];
  const rows = [...list].sort((a, b) => (b.name ?? "").split("/")[3]!.localeCompare((a.name ?? "").split("/")[3]!) || (a.name ?? "").localeCompare(b.name ?? ""));
  return {
    title: "Entitlements",
    body: html`<span class="nhsuk-caption-l">NHS England</span><h1>Entitlements</h1>
      <p>Each PCN's entitlement for a year: its weighted population times the year's rate per weighted patient, rounded to the penny once.</p>
      ${table(
        "Entitlements, newest year first",
        ["PCN", "Year", "Weighted population", "Rate per weighted patient", "Entitlement"],
        rows.map((e) => {
          const [, pcn, , year] = (e.name ?? "").split("/");
          return [pcn ?? "", year ?? "", e.weightedPopulation ?? "", `£${e.ratePerWeightedPatient ?? ""}`, pounds(e.amountPence)];
        }),
        { numeric: [2, 3, 4] },
      )}`,
  };
});

// NHS England: the audit chain checked, with its result; the roles and
// their rates, and a new rate entered with a preview of the top-ups it
// would offer; the financial years.
import type { Resource } from "../../api/client.js";
import { html } from "../lib/html.js";
import { lastSegment, longDate, monthName, parsePounds, pounds, poundsRate, roleName } from "../lib/format.js";
import { randomId } from "../lib/ids.js";
import { api } from "../lib/session.js";
import { apiProblems, backLink, button, dateInput, dateValue, errorSummary, hasProblems, input, insetText, noProblems, panel, summaryList, table, warning, type Problems } from "../lib/ui.js";
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
      <a class="nhsuk-button nhsuk-button--secondary" href="/rates/new" role="button" draggable="false">Add a rate</a>
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

/** The financial years: dates, claims deadline, rate per weighted patient, national pool; provisional years marked. */
export const yearsPage = page(async () => {
  const years = (await api().GET("/v1/financialYears", { params: { query: { pageSize: 500 } } })).data?.financialYears ?? [];
  return {
    title: "Financial years",
    body: html`<span class="nhsuk-caption-l">NHS England</span><h1>Financial years</h1>
      ${table(
        "Financial years",
        ["Year", "From", "To", "Claims deadline", "Rate per weighted patient", "National pool"],
        years.map((y) => [
          html`${lastSegment(y.name)}${y.illustrative ? html` <strong class="nhsuk-tag nhsuk-tag--yellow">Illustrative</strong>` : ""}`,
          longDate(y.startDate),
          longDate(y.endDate),
          longDate(y.claimsDeadline) || "None",
          poundsRate(y.ratePerWeightedPatient),
          y.nationalPoolPence && y.nationalPoolPence !== "0" ? pounds(y.nationalPoolPence) : "Not recorded",
        ]),
        { numeric: [4, 5] },
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
          return [pcn ?? "", year ?? "", e.weightedPopulation ?? "", poundsRate(e.ratePerWeightedPatient), pounds(e.amountPence)];
        }),
        { numeric: [2, 3, 4] },
      )}`,
  };
});

/** The new rate being entered, its preview, and once saved what it offered. */
interface RateDraft {
  values: Record<string, string>;
  problems: Problems;
  preview?: Resource<"v1PreviewRateTopUpsResponse">;
  saved?: boolean;
}
let draft: RateDraft | null = null;

/** The rate the form holds, as the API takes it (pounds entered, pence sent). */
function draftRate(v: Record<string, string>) {
  const optional = (s: string | undefined) => (s ? (parsePounds(s) ?? undefined) : undefined);
  return {
    effectiveDate: dateValue("effective", v) ?? "",
    nationalMaxPence: parsePounds(v["national"] ?? "") ?? "",
    outerLondonMaxPence: optional(v["outer-london"]),
    innerLondonMaxPence: optional(v["inner-london"]),
    source: v["source"] ?? "",
  };
}

/** The server's violations by the form's fields. */
const rateFields = { effectiveDate: "effective-day", nationalMaxPence: "national", outerLondonMaxPence: "outer-london", innerLondonMaxPence: "inner-london", source: "source", parent: "role" };

/**
 * A new rate for a role: the form, then a check-your-answers step showing the
 * top-ups the server says saving it would offer (which PCNs, which months,
 * how much), then the confirmation.
 */
export const newRatePage = page(
  async (ctx) => {
    const step = ctx.params["step"];
    draft ??= { values: {}, problems: noProblems() };
    const d = draft;
    const v = d.values;
    const role = v["role"] ?? "";
    if (step === "saved" && d.saved) {
      const n = d.preview?.topUps?.length ?? 0;
      draft = null;
      return {
        title: "Rate saved",
        body: html`${panel("Rate saved", html`${v["role-name"] || roleName(role)} from ${longDate(dateValue("effective", v) ?? "")}<br><strong>${pounds(parsePounds(v["national"] ?? "") ?? "0")}</strong> a year`)}
          <p>${n ? `${n} top-up${n === 1 ? "" : "s"} offered to PCNs, ${pounds(d.preview?.totalPence)} in all. Each PCN sees its draft top-up on its claims and submits it like any claim.` : "No top-ups were offered."}</p>
          <p><a href="/rates">Back to roles and rates</a></p>`,
      };
    }
    if (step === "check" && d.preview) {
      const topUps = d.preview.topUps ?? [];
      const rate = draftRate(v);
      const london = (p: string | undefined) => (p ? pounds(p) : "As national");
      const change = (label: string, id: string) => html`<a href="/rates/new#${id}">Change<span class="nhsuk-u-visually-hidden"> ${label}</span></a>`;
      return {
        title: "Check the new rate before saving it",
        body: html`${backLink("/rates/new", "Change the rate")}${errorSummary(d.problems)}
          <span class="nhsuk-caption-l">NHS England</span>
          <h1>Check the new rate before saving it</h1>
          <dl class="nhsuk-summary-list">
            ${(
              [
                ["Role", v["role-name"] || roleName(role), "role"],
                ["From", longDate(rate.effectiveDate), "effective-day"],
                ["National maximum a year", pounds(rate.nationalMaxPence), "national"],
                ["Outer London", london(rate.outerLondonMaxPence), "outer-london"],
                ["Inner London", london(rate.innerLondonMaxPence), "inner-london"],
                ["Source", rate.source || "None", "source"],
              ] as const
            ).map(
              ([k, val, id]) => html`<div class="nhsuk-summary-list__row"><dt class="nhsuk-summary-list__key">${k}</dt><dd class="nhsuk-summary-list__value">${val}</dd><dd class="nhsuk-summary-list__actions">${change(k.toLowerCase(), id)}</dd></div>`,
            )}
          </dl>
          <h2>Top-ups saving it will offer</h2>
          ${topUps.length
            ? html`<p>Months already submitted, approved or paid at the old maximum can be topped up to the new cap. Each PCN is offered a draft top-up (a supplementary claim) for the month showing the most each staff member's line can claim; the PCN pays its staff the arrears, records them for the staff it paid and submits it with the clinical director's declaration.</p>
              ${table(
                `${topUps.length} month${topUps.length === 1 ? "" : "s"} to top up, ${pounds(d.preview.totalPence)} in all`,
                ["PCN", "Month", "Posts", "Most it can claim"],
                topUps.map((t) => [lastSegment(t.pcn), monthName(t.month), String(t.lines?.length ?? 0), pounds(t.topUpPence)]),
                { numeric: [2, 3], footer: [html`<strong>Total</strong>`, "", "", pounds(d.preview.totalPence)] },
              )}`
            : insetText("No claim will be offered a top-up: no month claimed from this date has a higher cap at the new rate, or the date is still to come.")}
          <form id="save-rate" novalidate>${button("Save rate")}</form>`,
      };
    }
    if (step) {
      await ctx.navigate("/rates/new", true);
      return null;
    }
    const roles = (await api().GET("/v1/roles", { params: { query: { pageSize: 500 } } })).data?.roles ?? [];
    const roleError = d.problems.fields["role"];
    return {
      title: `${hasProblems(d.problems) ? "Error: " : ""}Add a rate`,
      body: html`${backLink("/rates", "Roles and rates")}${errorSummary(d.problems)}
        <span class="nhsuk-caption-l">NHS England</span>
        <h1>Add a rate</h1>
        <p>A role's maximum reimbursement a year at 1.0 WTE, including employer on-costs. Before it is saved you will see which months of which PCNs it would offer top-ups for.</p>
        <form id="rate" novalidate>
          <div class="nhsuk-form-group ${roleError ? "nhsuk-form-group--error" : ""}">
            <label class="nhsuk-label" for="role">Role</label>
            ${roleError ? html`<span class="nhsuk-error-message" id="role-error"><span class="nhsuk-u-visually-hidden">Error:</span> ${roleError}</span>` : ""}
            <select class="nhsuk-select ${roleError ? "nhsuk-select--error" : ""}" id="role" name="role" ${roleError ? html`aria-describedby="role-error"` : ""}>
              <option value="" ${role ? "" : "selected"}>Choose a role</option>
              ${roles.map((r) => {
                const id = lastSegment(r.name);
                return html`<option value="${id}" ${id === role ? "selected" : ""}>${r.displayName || roleName(id)}</option>`;
              })}
            </select>
          </div>
          ${dateInput({ id: "effective", legend: "The first day it applies", hint: "For example, 1 4 2026. A date in the past is a backdated award.", values: v, error: d.problems.fields["effective-day"] })}
          ${input({ id: "national", label: "Maximum a year outside London", hint: "In pounds, for example 34,565.00", prefix: "£", width: "10", inputmode: "decimal", value: v["national"], error: d.problems.fields["national"] })}
          ${input({ id: "outer-london", label: "Maximum with outer London weighting (optional)", hint: "Leave empty if the national maximum applies", prefix: "£", width: "10", inputmode: "decimal", value: v["outer-london"], error: d.problems.fields["outer-london"] })}
          ${input({ id: "inner-london", label: "Maximum with inner London weighting (optional)", hint: "Leave empty if the national maximum applies", prefix: "£", width: "10", inputmode: "decimal", value: v["inner-london"], error: d.problems.fields["inner-london"] })}
          ${input({ id: "source", label: "Where it was published (optional)", hint: "For example, the NHS England page or letter", value: v["source"], error: d.problems.fields["source"] })}
          ${button("Continue")}
        </form>`,
    };
  },
  (el, ctx) => {
    el.querySelector("#rate")?.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (!draft) return;
      const form = e.target as HTMLFormElement;
      const v = Object.fromEntries([...new FormData(form).entries()].map(([k, x]) => [k, String(x).trim()]));
      // The role's name as the catalogue gives it, for the pages that follow.
      v["role-name"] = form.querySelector<HTMLSelectElement>("#role")?.selectedOptions[0]?.textContent ?? "";
      draft.values = v;
      draft.preview = undefined;
      const p = noProblems();
      if (!v["role"]) p.fields["role"] = "Choose the role the rate is for";
      if (!dateValue("effective", v)) p.fields["effective-day"] = "Enter the first day the rate applies as a real date, like 1 4 2026";
      if (!v["national"]) p.fields["national"] = "Enter the maximum a year outside London";
      for (const [id, label] of [["national", "The maximum outside London"], ["outer-london", "The outer London maximum"], ["inner-london", "The inner London maximum"]] as const) {
        if (v[id] && parsePounds(v[id]) === null) p.fields[id] = `${label} must be an amount in pounds, like 34,565.00`;
      }
      draft.problems = p;
      if (hasProblems(p)) {
        await ctx.rerender();
        return;
      }
      const res = await api().POST("/v1/roles/{role}/rates:previewTopUps", { params: { path: { role: v["role"]! } }, body: draftRate(v) });
      if (res.error) {
        draft.problems = apiProblems(res.error, rateFields, res.response.status);
        await ctx.rerender();
        return;
      }
      draft.preview = res.data;
      await ctx.navigate("/rates/new/check");
    });
    el.querySelector("#save-rate")?.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (!draft) return;
      const res = await api().POST("/v1/roles/{role}/rates", {
        params: { path: { role: draft.values["role"]! }, query: { requestId: randomId() } },
        body: draftRate(draft.values),
      });
      if (res.error) {
        draft.problems = apiProblems(res.error, rateFields, res.response.status);
        draft.preview = undefined;
        await ctx.navigate("/rates/new");
        return;
      }
      draft.problems = noProblems();
      draft.saved = true;
      await ctx.navigate("/rates/new/saved", true);
    });
  },
);

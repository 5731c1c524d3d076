// A PCN's budget for the financial year: the figures the server worked out
// (entitlement, what is submitted, approved and paid, what remains, the
// forecast to 31 March and the underspend), a bar chart of them, and the
// same by role.
import { html } from "../lib/html.js";
import { financialYearOf, longDate, monthName, monthsBefore, pounds, roleName, today } from "../lib/format.js";
import { api } from "../lib/session.js";
import { summaryList, table } from "../lib/ui.js";
import { NotFound } from "../main.js";
import { page } from "../routes.js";

/** A horizontal bar chart in SVG: widths are attributes, so the CSP holds. */
function chart(bars: [string, string, string][], max: bigint) {
  const width = 600;
  const rowH = 36;
  const scale = (p: string) => (max > 0n ? Number((BigInt(p || "0") * BigInt(width - 200)) / max) : 0);
  return html`<figure class="arrs-chart">
    <svg viewBox="0 0 ${width} ${bars.length * rowH}" role="img" aria-labelledby="chart-title" xmlns="http://www.w3.org/2000/svg">
      <title id="chart-title">The year's entitlement against what is claimed, approved, paid and forecast</title>
      ${bars.map(
        ([label, pence, cls], i) => html`<text x="0" y="${i * rowH + 22}" class="arrs-chart__label">${label}</text>
          <rect x="170" y="${i * rowH + 6}" width="${Math.max(scale(pence), 1)}" height="22" class="${cls}"></rect>`,
      )}
    </svg>
    <figcaption class="nhsuk-body-s">Each bar is in proportion to the entitlement. The forecast is dashed: it assumes the posts in post stay to 31 March.</figcaption>
  </figure>`;
}

export const budgetPage = page(async (ctx) => {
  const s = ctx.session!;
  const fy = ctx.query.get("year") ?? financialYearOf(monthsBefore(today(), 1));
  const res = await api().GET("/v1/pcns/{pcn}/budgets/{budget}", { params: { path: { pcn: s.org, budget: fy } } });
  if (res.response.status === 404) throw new NotFound();
  const b = res.data!;
  const max = [b.entitlementPence, b.forecastPence].reduce((m, p) => (BigInt(p || "0") > m ? BigInt(p || "0") : m), 0n);
  return {
    title: `Budget ${fy}`,
    body: html`<span class="nhsuk-caption-l">${s.orgName}</span>
      <h1>Budget for ${fy}</h1>
      ${summaryList([
        ["Entitlement", pounds(b.entitlementPence)],
        ["Draft claims", pounds(b.draftPence)],
        ["Submitted, awaiting review", pounds(b.submittedPence)],
        ["Approved, awaiting payment", pounds(b.approvedPence)],
        ["Paid", pounds(b.paidPence)],
        ["Remaining", html`<strong>${pounds(b.remainingPence)}</strong>`],
        [`Forecast to 31 March${b.forecastFrom ? ` (from ${/^\d{4}-\d{2}$/.test(b.forecastFrom) ? monthName(b.forecastFrom) : longDate(b.forecastFrom)})` : ""}`, pounds(b.forecastPence)],
        ["Forecast underspend", pounds(b.forecastUnderspendPence)],
      ])}
      ${chart(
        [
          ["Entitlement", b.entitlementPence ?? "0", "arrs-bar arrs-bar--entitlement"],
          ["Paid", b.paidPence ?? "0", "arrs-bar arrs-bar--paid"],
          ["Approved", b.approvedPence ?? "0", "arrs-bar arrs-bar--approved"],
          ["Submitted", b.submittedPence ?? "0", "arrs-bar arrs-bar--submitted"],
          ["Forecast", b.forecastPence ?? "0", "arrs-bar arrs-bar--forecast"],
        ],
        max,
      )}
      ${table(
        "By role",
        ["Role", "Submitted", "Approved", "Paid", "Forecast"],
        (b.roles ?? []).map((r) => [roleName(r.role), pounds(r.submittedPence), pounds(r.approvedPence), pounds(r.paidPence), pounds(r.forecastPence)]),
        { numeric: [1, 2, 3, 4] },
      )}`,
  };
});

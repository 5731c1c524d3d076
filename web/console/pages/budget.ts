// A PCN's budget for the financial year: the figures the server worked out
// (entitlement, what is submitted, approved and paid, what remains, the
// forecast to 31 March and the underspend), the year month by month as a
// chart (claimed to date against the entitlement's even pace, the forecast
// dashed) with the same figures as a table, and the budget by role. Every
// figure is the server's; the page only draws them.
import type { Resource } from "../../api/client.js";
import { html, type Html } from "../lib/html.js";
import { financialYearOf, longDate, monthName, monthsBefore, pounds, roleName, today } from "../lib/format.js";
import { api } from "../lib/session.js";
import { summaryList, table } from "../lib/ui.js";
import { NotFound } from "../main.js";
import { page } from "../routes.js";

type Month = Resource<"v1BudgetMonth">;

const shortMonths = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** "2026-04" → "Apr". */
function shortMonth(m: string | undefined): string {
  return shortMonths[Number((m ?? "").slice(5, 7)) - 1] ?? "";
}

/** An axis label: pence as whole thousands of pounds, "£250k". */
function axisPounds(pence: number): string {
  return `£${Math.round(pence / 100_000).toLocaleString("en-GB")}k`;
}

/** A step for the value axis that gives four or five gridlines: 1, 2 or 5 × 10ⁿ pence. */
function niceStep(max: number): number {
  const rough = max / 4;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  return ([1, 2, 5, 10].find((m) => m * magnitude >= rough) ?? 10) * magnitude;
}

/**
 * The year as a line chart in SVG: cumulative claimed (solid, with a point
 * per month claimed), the entitlement's even pace (thin), and from the last
 * claimed month the projection with the forecast (dashed). Coordinates are
 * attributes, so the CSP holds; the title and description say what it shows
 * and the table after it holds every figure.
 */
function chart(b: Resource<"v1Budget">, months: Month[], forecastFrom: number): Html {
  const w = 640;
  const h = 320;
  const left = 64;
  const right = 16;
  const top = 16;
  const bottom = 40;
  const n = (p: string | undefined) => Number(p ?? "0");
  const max = Math.max(1, n(b.entitlementPence), ...months.map((m) => Math.max(n(m.projectedPence), n(m.cumulativeClaimedPence))));
  const step = niceStep(max);
  const ceiling = Math.ceil(max / step) * step;
  // Month k's point sits at the end of the month: the start of April is 0.
  const x = (k: number) => left + ((w - left - right) * k) / months.length;
  const y = (pence: number) => top + (h - top - bottom) * (1 - pence / ceiling);
  const points = (from: number, to: number, value: (m: Month) => string | undefined) => {
    const out = from === 0 ? [`${x(0)},${y(0)}`] : [];
    for (let i = Math.max(from - 1, 0); i < to; i++) out.push(`${x(i + 1).toFixed(1)},${y(n(value(months[i]!))).toFixed(1)}`);
    return out.join(" ");
  };
  const claimedTo = forecastFrom; // months before the forecast are claimed (or not yet claimable)
  const gridlines: number[] = [];
  for (let v = 0; v <= ceiling; v += step) gridlines.push(v);
  const last = months[months.length - 1];
  const claimedNow = claimedTo > 0 ? months[claimedTo - 1] : undefined;
  const desc = `${claimedNow ? `Claimed to the end of ${monthName(claimedNow.month)}: ${pounds(claimedNow.cumulativeClaimedPence)}, against an even pace of ${pounds(claimedNow.entitlementPacePence)}. ` : ""}${
    claimedTo < months.length ? `With the forecast, ${pounds(last?.projectedPence)} by the end of March` : `${pounds(last?.cumulativeClaimedPence)} claimed for the year`
  }, against an entitlement of ${pounds(b.entitlementPence)}.`;
  return html`<figure class="arrs-chart">
    <svg viewBox="0 0 ${w} ${h}" role="img" aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">
      <title id="chart-title">Claimed against the entitlement's pace, month by month</title>
      <desc id="chart-desc">${desc}</desc>
      ${gridlines.map((v) => html`<line x1="${left}" x2="${w - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" class="arrs-chart__grid"></line>
        <text x="${left - 8}" y="${(y(v) + 5).toFixed(1)}" text-anchor="end" class="arrs-chart__label">${axisPounds(v)}</text>`)}
      ${months.map((m, i) => html`<text x="${x(i + 1).toFixed(1)}" y="${h - bottom + 24}" text-anchor="middle" class="arrs-chart__label">${shortMonth(m.month)}</text>`)}
      <polyline points="${points(0, months.length, (m) => m.entitlementPacePence)}" class="arrs-line arrs-line--pace"></polyline>
      ${claimedTo > 0 ? html`<polyline points="${points(0, claimedTo, (m) => m.cumulativeClaimedPence)}" class="arrs-line arrs-line--claimed"></polyline>` : ""}
      ${months.slice(0, claimedTo).map((m, i) => html`<circle cx="${x(i + 1).toFixed(1)}" cy="${y(n(m.cumulativeClaimedPence)).toFixed(1)}" r="4" class="arrs-point--claimed"></circle>`)}
      ${claimedTo < months.length ? html`<polyline points="${points(claimedTo, months.length, (m) => m.projectedPence)}" class="arrs-line arrs-line--forecast"></polyline>` : ""}
    </svg>
    <figcaption>
      <ul class="arrs-legend nhsuk-body-s">
        <li><svg viewBox="0 0 32 12" width="32" height="12" aria-hidden="true" focusable="false"><line x1="0" x2="32" y1="6" y2="6" class="arrs-line arrs-line--claimed"></line><circle cx="16" cy="6" r="4" class="arrs-point--claimed"></circle></svg> Claimed to date (submitted, approved and paid)</li>
        <li><svg viewBox="0 0 32 12" width="32" height="12" aria-hidden="true" focusable="false"><line x1="0" x2="32" y1="6" y2="6" class="arrs-line arrs-line--pace"></line></svg> The entitlement spent evenly, a twelfth a month</li>
        <li><svg viewBox="0 0 32 12" width="32" height="12" aria-hidden="true" focusable="false"><line x1="0" x2="32" y1="6" y2="6" class="arrs-line arrs-line--forecast"></line></svg> Forecast: the posts at their caps to 31 March</li>
      </ul>
    </figcaption>
  </figure>`;
}

export const budgetPage = page(async (ctx) => {
  const s = ctx.session!;
  const fy = ctx.query.get("year") ?? financialYearOf(monthsBefore(today(), 1));
  const res = await api().GET("/v1/pcns/{pcn}/budgets/{budget}", { params: { path: { pcn: s.org, budget: fy } } });
  if (res.response.status === 404) throw new NotFound();
  const b = res.data!;
  const months = b.months ?? [];
  const forecastFrom = months.findIndex((m) => m.month === b.forecastFrom);
  const claimedTo = forecastFrom < 0 ? months.length : forecastFrom;
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
      <h2>Month by month</h2>
      ${months.length ? chart(b, months, claimedTo) : ""}
      ${table(
        "Month by month: claimed, the entitlement's pace and the forecast",
        ["Month", "Claimed", "Claimed to date", "Even pace to date", "Forecast", "Projected to date"],
        months.map((m, i) => [
          monthName(m.month),
          pounds(m.claimedPence),
          pounds(m.cumulativeClaimedPence),
          pounds(m.entitlementPacePence),
          i < claimedTo ? "" : pounds(m.forecastPence),
          pounds(m.projectedPence),
        ]),
        { numeric: [1, 2, 3, 4, 5] },
      )}
      ${table(
        "By role",
        ["Role", "Submitted", "Approved", "Paid", "Forecast"],
        (b.roles ?? []).map((r) => [roleName(r.role), pounds(r.submittedPence), pounds(r.approvedPence), pounds(r.paidPence), pounds(r.forecastPence)]),
        { numeric: [1, 2, 3, 4] },
      )}`,
  };
});

// The commissioner's dashboard: each PCN it commissions, with the year's
// entitlement, what is claimed, what remains and the forecast underspend
// (the server's budget for each), sortable by any column.
import { html } from "../lib/html.js";
import { financialYearOf, lastSegment, monthsBefore, pounds, today } from "../lib/format.js";
import { api } from "../lib/session.js";
import { page } from "../routes.js";

const columns = [
  ["name", "PCN"],
  ["entitlement", "Entitlement"],
  ["claimed", "Claimed"],
  ["remaining", "Remaining"],
  ["underspend", "Forecast underspend"],
] as const;
type Key = (typeof columns)[number][0];

export const dashboardPage = page(async (ctx) => {
  const s = ctx.session!;
  const fy = financialYearOf(monthsBefore(today(), 1));
  const client = api();
  const pcns = (await client.GET("/v1/pcns", { params: { query: { pageSize: 500 } } })).data?.pcns ?? [];
  const rows = await Promise.all(
    pcns.map(async (p) => {
      const code = lastSegment(p.name);
      const b = (await client.GET("/v1/pcns/{pcn}/budgets/{budget}", { params: { path: { pcn: code, budget: fy } } })).data;
      const claimed = (BigInt(b?.submittedPence || "0") + BigInt(b?.approvedPence || "0") + BigInt(b?.paidPence || "0")).toString();
      return { code, name: p.displayName ?? code, entitlement: b?.entitlementPence ?? "0", claimed, remaining: b?.remainingPence ?? "0", underspend: b?.forecastUnderspendPence ?? "0" };
    }),
  );
  const sort = (columns.find(([k]) => k === ctx.query.get("sort"))?.[0] ?? "name") as Key;
  const descending = ctx.query.get("order") === "descending";
  rows.sort((a, b) => {
    const c = sort === "name" ? a.name.localeCompare(b.name) : BigInt(a[sort]) < BigInt(b[sort]) ? -1 : BigInt(a[sort]) > BigInt(b[sort]) ? 1 : 0;
    return descending ? -c : c;
  });
  return {
    title: `PCNs ${fy}`,
    body: html`<span class="nhsuk-caption-l">${s.orgName}</span><h1>PCNs in ${fy}</h1>
      <p>Each PCN's budget for the year. Choose a column heading to sort by it.</p>
      <table class="nhsuk-table-responsive">
        <caption class="nhsuk-table__caption">Budgets of the PCNs you commission, ${fy}</caption>
        <thead class="nhsuk-table__head"><tr class="nhsuk-table__row">${columns.map(([k, label], i) => {
          const current = k === sort;
          const next = current && !descending ? "descending" : "ascending";
          return html`<th class="nhsuk-table__header ${i ? "nhsuk-table__header--numeric" : ""}" scope="col" aria-sort="${current ? (descending ? "descending" : "ascending") : "none"}">
            <a href="/dashboard?sort=${k}&order=${next}">${label}<span class="nhsuk-u-visually-hidden"> (sort ${next})</span></a></th>`;
        })}</tr></thead>
        <tbody class="nhsuk-table__body">${rows.map(
          (r) => html`<tr class="nhsuk-table__row">
            <td class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">PCN </span>${r.name} (${r.code})</td>
            ${(["entitlement", "claimed", "remaining", "underspend"] as const).map(
              (k) => html`<td class="nhsuk-table__cell nhsuk-table__cell--numeric"><span class="nhsuk-table-responsive__heading" aria-hidden="true">${columns.find(([c]) => c === k)?.[1]} </span>${pounds(r[k])}</td>`,
            )}
          </tr>`,
        )}</tbody>
      </table>`,
  };
});

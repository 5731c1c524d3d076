// The picture across PCNs: for a commissioner its PCNs, for NHS England
// every PCN, each with its sub-ICB location, the year's entitlement, what remains, the forecast
// underspend and the claims waiting for review, and the total. One call
// (GetCommissionerPosition) reads it all at one moment and sorts it; the
// CSV is the server's too.
import { html } from "../lib/html.js";
import { financialYearOf, longDate, monthsBefore, pounds, today } from "../lib/format.js";
import { api } from "../lib/session.js";
import { subIcbLabel, subIcbLocations } from "../lib/places.js";
import { apiProblems, errorSummary } from "../lib/ui.js";
import { page } from "../routes.js";

// The columns, each with the PcnPosition field the server sorts by.
const columns = [
  ["display_name", "PCN"],
  ["sub_icb_location", "Sub-ICB location"],
  ["entitlement_pence", "Entitlement"],
  ["remaining_pence", "Remaining"],
  ["forecast_underspend_pence", "Forecast underspend"],
  ["claims_waiting", "Claims waiting"],
] as const;

/** The commissioner whose PCNs a user sees: national staff see England ("-"). */
function commissionerOf(org: string, role: string): string {
  return role === "national-administrator" ? "-" : org;
}

export const dashboardPage = page(
  async (ctx) => {
    const s = ctx.session!;
    const fy = ctx.query.get("year") ?? financialYearOf(monthsBefore(today(), 1));
    const sort = columns.find(([k]) => k === ctx.query.get("sort"))?.[0] ?? "display_name";
    const descending = ctx.query.get("order") === "descending";
    const commissioner = commissionerOf(s.org, s.role);
    const [res, locations] = await Promise.all([
      api().GET("/v1/commissioners/{commissioner}/positions/{position}", {
        params: { path: { commissioner, position: fy }, query: { orderBy: `${sort}${descending ? " desc" : ""}` } },
      }),
      subIcbLocations(commissioner),
    ]);
    const where = commissioner === "-" ? "England" : s.orgName;
    if (!res.data) {
      return { title: `PCNs ${fy}`, body: html`<h1>PCNs in ${fy}</h1>${errorSummary(apiProblems(res.error, {}, res.response.status))}` };
    }
    const pos = res.data;
    const total = pos.total;
    const waiting = (p: typeof total) =>
      p?.claimsWaiting ? html`${p.claimsWaiting} <span class="nhsuk-body-s">(oldest ${p.oldestWaitingDays} days)</span>` : html`0`;
    return {
      title: `PCNs ${fy}`,
      body: html`<span class="nhsuk-caption-l">${where}</span><h1>PCNs in ${fy}</h1>
        <p>Each PCN's budget for the year and the claims waiting for review, as at ${longDate(pos.readTime)}. Choose a column heading to sort by it.</p>
        <p><button type="button" class="nhsuk-button nhsuk-button--secondary" id="download">Download as CSV</button></p>
        <p id="download-status" class="nhsuk-body-s" aria-live="polite"></p>
        <table class="nhsuk-table-responsive">
          <caption class="nhsuk-table__caption">Budgets of ${commissioner === "-" ? "every PCN in England" : "the PCNs you commission"}, ${fy}</caption>
          <thead class="nhsuk-table__head"><tr class="nhsuk-table__row">${columns.map(([k, label], i) => {
            const current = k === sort;
            const next = current && !descending ? "descending" : "ascending";
            return html`<th class="nhsuk-table__header ${i > 1 ? "nhsuk-table__header--numeric" : ""}" scope="col" aria-sort="${current ? (descending ? "descending" : "ascending") : "none"}">
              <a href="/dashboard?sort=${k}&order=${next}&year=${fy}">${label}<span class="nhsuk-u-visually-hidden"> (sort ${next})</span></a></th>`;
          })}</tr></thead>
          <tbody class="nhsuk-table__body">${pos.pcns.map(
            (p) => html`<tr class="nhsuk-table__row">
              <td class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">PCN </span>${p.displayName} (${p.pcn.replace("pcns/", "")})${p.hasEntitlement ? "" : html` <strong class="nhsuk-tag nhsuk-tag--grey">No entitlement</strong>`}</td>
              <td class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">Sub-ICB location </span>${subIcbLabel(p.subIcbLocation, locations)}</td>
              ${cells(p.entitlementPence, p.remainingPence, p.forecastUnderspendPence)}
              <td class="nhsuk-table__cell nhsuk-table__cell--numeric"><span class="nhsuk-table-responsive__heading" aria-hidden="true">Claims waiting </span>${waiting(p)}</td>
            </tr>`,
          )}
          <tr class="nhsuk-table__row arrs-total">
            <td class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">PCN </span><strong>All ${pos.pcns.length} PCNs</strong></td>
            <td class="nhsuk-table__cell"></td>
            ${cells(total.entitlementPence, total.remainingPence, total.forecastUnderspendPence)}
            <td class="nhsuk-table__cell nhsuk-table__cell--numeric"><span class="nhsuk-table-responsive__heading" aria-hidden="true">Claims waiting </span>${waiting(total)}</td>
          </tr></tbody>
        </table>`,
    };
  },
  (el, ctx) => {
    el.querySelector("#download")?.addEventListener("click", async () => {
      const s = ctx.session!;
      const fy = ctx.query.get("year") ?? financialYearOf(monthsBefore(today(), 1));
      const commissioner = commissionerOf(s.org, s.role);
      const res = await api().GET("/v1/commissioners/{commissioner}/positions/{position}", {
        params: { path: { commissioner, position: fy }, query: { includeCsv: true } },
      });
      const status = el.querySelector("#download-status");
      if (!res.data?.csv) {
        if (status) status.textContent = "The download failed; try again.";
        return;
      }
      saveFile(res.data.csv, `arrs-position-${commissioner === "-" ? "ENGLAND" : commissioner}-${fy}.csv`);
      if (status) status.textContent = `Downloaded the position of ${res.data.pcns.length} PCNs.`;
    });
  },
);

function cells(...pence: (string | undefined)[]) {
  const labels = ["Entitlement", "Remaining", "Forecast underspend"];
  return pence.map(
    (p, i) => html`<td class="nhsuk-table__cell nhsuk-table__cell--numeric"><span class="nhsuk-table-responsive__heading" aria-hidden="true">${labels[i]} </span>${pounds(p)}</td>`,
  );
}

/** Saves text as a file the browser downloads. */
export function saveFile(text: string, name: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

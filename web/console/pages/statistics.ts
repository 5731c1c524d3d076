// The workforce the scheme reimburses, live: headcount, FTE and spend by
// month, sub-ICB location and role from approved claims (as the national
// publication counts them), with the claims not yet approved beside them. A
// commissioner sees its own, and may show one of its sub-ICB locations
// alone; NHS England every commissioner's, and any location.
import { html } from "../lib/html.js";
import { financialYearOf, monthName, monthsBefore, pounds, roleName, today } from "../lib/format.js";
import { api } from "../lib/session.js";
import { subIcbLabel, subIcbLocations } from "../lib/places.js";
import { apiProblems, button, errorSummary, table } from "../lib/ui.js";
import { page } from "../routes.js";
import { saveFile } from "./dashboard.js";

type Row = { month: string; commissioner: string; subIcbLocation: string; role: string; headcount: number; fte: string; spendPence: string; pendingHeadcount: number; pendingFte: string; pendingSpendPence: string };

async function allRows(parent: string, year: string, subIcbLocation: string, includeCsv = false): Promise<{ rows: Row[]; csv: string; error?: unknown; status: number }> {
  const rows: Row[] = [];
  let csv = "";
  let pageToken: string | undefined;
  for (;;) {
    const res = await api().GET("/v1/commissioners/{commissioner}/workforceStatistics", {
      params: { path: { commissioner: parent }, query: { financialYear: year, pageSize: 500, pageToken, includeCsv, ...(subIcbLocation ? { subIcbLocation } : {}) } },
    });
    if (!res.data) return { rows, csv, error: res.error, status: res.response.status };
    rows.push(...(res.data.workforceStatistics as Row[]));
    // Every page's CSV has the header: keep the first.
    csv += csv ? res.data.csv.split("\n").slice(1).join("\n") : res.data.csv;
    if (!res.data.nextPageToken) return { rows, csv, status: res.response.status };
    pageToken = res.data.nextPageToken;
  }
}

/** What the page shows: the year, and one sub-ICB location or all ("") of the user's. */
function filters(ctx: { query: URLSearchParams; session: { role: string; org: string } | null }) {
  const s = ctx.session!;
  return {
    fy: ctx.query.get("year") ?? financialYearOf(monthsBefore(today(), 1)),
    national: s.role === "national-administrator",
    parent: s.role === "national-administrator" ? "-" : s.org,
    location: ctx.query.get("subIcbLocation") ?? "",
  };
}

export const statisticsPage = page(
  async (ctx) => {
    const s = ctx.session!;
    const { fy, national, parent, location } = filters(ctx);
    const [got, locations] = await Promise.all([allRows(parent, fy, location), subIcbLocations(parent)]);
    if (got.error !== undefined) {
      return { title: "Workforce", body: html`<h1>Workforce in ${fy}</h1>${errorSummary(apiProblems(got.error, {}, got.status))}` };
    }
    const head = [...(national ? ["Commissioner"] : []), "Month", "Sub-ICB location", "Role", "Headcount", "FTE", "Spend", "Pending approval"];
    const offset = national ? 1 : 0;
    const shown = location ? subIcbLabel(location, locations) : "";
    return {
      title: `Workforce ${fy}${shown ? `, ${shown}` : ""}`,
      body: html`<span class="nhsuk-caption-l">${national ? "England" : s.orgName}</span><h1>Workforce in ${fy}</h1>
        <p>People in post by month, sub-ICB location and role from approved and paid claims, as the national workforce publication counts them;
        claims submitted but not yet approved are shown as pending. A claim counts in the sub-ICB location its PCN was in that month.</p>
        <form id="filter" novalidate>
          <div class="nhsuk-form-group">
            <label class="nhsuk-label" for="sub-icb-location">Sub-ICB location</label>
            <select class="nhsuk-select" id="sub-icb-location" name="subIcbLocation">
              <option value="" ${location ? "" : "selected"}>All sub-ICB locations</option>
              ${locations.map((l) => html`<option value="${l.name}" ${l.name === location ? "selected" : ""}>${national ? `${l.name.split("/")[1]}: ` : ""}${subIcbLabel(l.name, locations)}</option>`)}
            </select>
          </div>
          ${button("Show", { secondary: true })}
        </form>
        <p><button type="button" class="nhsuk-button nhsuk-button--secondary" id="download">Download as CSV</button></p>
        <p id="download-status" class="nhsuk-body-s" aria-live="polite"></p>
        ${got.rows.length === 0
          ? html`<p>No claims have been submitted for ${fy}${shown ? ` in ${shown}` : ""} yet.</p>`
          : table(
              `Headcount, FTE and spend by month, sub-ICB location and role, ${fy}${shown ? `: ${shown}` : ""}`,
              head,
              got.rows.map((r) => [
                ...(national ? [r.commissioner.replace("commissioners/", "")] : []),
                monthName(r.month),
                subIcbLabel(r.subIcbLocation, locations),
                roleName(r.role),
                String(r.headcount),
                r.fte,
                pounds(r.spendPence),
                r.pendingHeadcount ? `${r.pendingHeadcount} (${r.pendingFte} FTE), ${pounds(r.pendingSpendPence)}` : "None",
              ]),
              { numeric: [3, 4, 5, 6].map((i) => i + offset) },
            )}`,
    };
  },
  (el, ctx) => {
    el.querySelector("#filter")?.addEventListener("submit", async (e) => {
      e.preventDefault();
      const chosen = String(new FormData(e.target as HTMLFormElement).get("subIcbLocation") ?? "");
      const q = new URLSearchParams(ctx.query);
      if (chosen) q.set("subIcbLocation", chosen);
      else q.delete("subIcbLocation");
      await ctx.navigate(`/statistics${q.size ? `?${q}` : ""}`);
    });
    el.querySelector("#download")?.addEventListener("click", async () => {
      const { fy, parent, location } = filters(ctx);
      const got = await allRows(parent, fy, location, true);
      const status = el.querySelector("#download-status");
      if (got.error !== undefined) {
        if (status) status.textContent = "The download failed; try again.";
        return;
      }
      const where = `${parent === "-" ? "ENGLAND" : parent}${location ? `-${location.split("/").pop()}` : ""}`;
      saveFile(got.csv, `arrs-workforce-${where}-${fy}.csv`);
      if (status) status.textContent = `Downloaded ${got.rows.length} rows.`;
    });
  },
);

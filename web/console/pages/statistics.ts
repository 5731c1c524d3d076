// The workforce the scheme reimburses, live: headcount, FTE and spend by
// month and role from approved claims (as the national publication counts
// them), with the claims not yet approved beside them. A commissioner sees
// its own; NHS England every commissioner's.
import { html } from "../lib/html.js";
import { financialYearOf, monthName, monthsBefore, pounds, roleName, today } from "../lib/format.js";
import { api } from "../lib/session.js";
import { apiProblems, errorSummary, table } from "../lib/ui.js";
import { page } from "../routes.js";
import { saveFile } from "./dashboard.js";

type Row = { month: string; commissioner: string; role: string; headcount: number; fte: string; spendPence: string; pendingHeadcount: number; pendingFte: string; pendingSpendPence: string };

async function allRows(parent: string, year: string, includeCsv = false): Promise<{ rows: Row[]; csv: string; error?: unknown; status: number }> {
  const rows: Row[] = [];
  let csv = "";
  let pageToken: string | undefined;
  for (;;) {
    const res = await api().GET("/v1/commissioners/{commissioner}/workforceStatistics", {
      params: { path: { commissioner: parent }, query: { financialYear: year, pageSize: 500, pageToken, includeCsv } },
    });
    if (!res.data) return { rows, csv, error: res.error, status: res.response.status };
    rows.push(...(res.data.workforceStatistics as Row[]));
    // Every page's CSV has the header: keep the first.
    csv += csv ? res.data.csv.split("\n").slice(1).join("\n") : res.data.csv;
    if (!res.data.nextPageToken) return { rows, csv, status: res.response.status };
    pageToken = res.data.nextPageToken;
  }
}

export const statisticsPage = page(
  async (ctx) => {
    const s = ctx.session!;
    const fy = ctx.query.get("year") ?? financialYearOf(monthsBefore(today(), 1));
    const national = s.role === "national-administrator";
    const parent = national ? "-" : s.org;
    const got = await allRows(parent, fy);
    if (got.error !== undefined) {
      return { title: "Workforce", body: html`<h1>Workforce in ${fy}</h1>${errorSummary(apiProblems(got.error, {}, got.status))}` };
    }
    const head = [...(national ? ["Commissioner"] : []), "Month", "Role", "Headcount", "FTE", "Spend", "Pending approval"];
    const offset = national ? 1 : 0;
    return {
      title: `Workforce ${fy}`,
      body: html`<span class="nhsuk-caption-l">${national ? "England" : s.orgName}</span><h1>Workforce in ${fy}</h1>
        <p>People in post by month and role from approved and paid claims, as the national workforce publication counts them;
        claims submitted but not yet approved are shown as pending.</p>
        <p><button type="button" class="nhsuk-button nhsuk-button--secondary" id="download">Download as CSV</button></p>
        <p id="download-status" class="nhsuk-body-s" aria-live="polite"></p>
        ${got.rows.length === 0
          ? html`<p>No claims have been submitted for ${fy} yet.</p>`
          : table(
              `Headcount, FTE and spend by month and role, ${fy}`,
              head,
              got.rows.map((r) => [
                ...(national ? [r.commissioner.replace("commissioners/", "")] : []),
                monthName(r.month),
                roleName(r.role),
                String(r.headcount),
                r.fte,
                pounds(r.spendPence),
                r.pendingHeadcount ? `${r.pendingHeadcount} (${r.pendingFte} FTE), ${pounds(r.pendingSpendPence)}` : "None",
              ]),
              { numeric: [2, 3, 4, 5].map((i) => i + offset) },
            )}`,
    };
  },
  (el, ctx) => {
    el.querySelector("#download")?.addEventListener("click", async () => {
      const s = ctx.session!;
      const fy = ctx.query.get("year") ?? financialYearOf(monthsBefore(today(), 1));
      const parent = s.role === "national-administrator" ? "-" : s.org;
      const got = await allRows(parent, fy, true);
      const status = el.querySelector("#download-status");
      if (got.error !== undefined) {
        if (status) status.textContent = "The download failed; try again.";
        return;
      }
      saveFile(got.csv, `arrs-workforce-${parent === "-" ? "ENGLAND" : parent}-${fy}.csv`);
      if (status) status.textContent = `Downloaded ${got.rows.length} rows.`;
    });
  },
);

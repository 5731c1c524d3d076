// Each role's home: a PCN's tasks, the approver's review queue, finance's
// claims awaiting payment, NHS England's audit check, a Training Hub's CPD
// ledger and a practice's CPD funding.
import { randomId } from "../lib/ids.js";
import { html } from "../lib/html.js";
import { lastSegment, monthName, monthsBefore, pounds, today } from "../lib/format.js";
import { api, isPcn } from "../lib/session.js";
import { registeredRoles } from "../lib/roles.js";
import { subIcbLabel, subIcbLocations } from "../lib/places.js";
import { apiProblems, button, errorSummary, insetText, noProblems, summaryList, table, type Problems } from "../lib/ui.js";
import { page, type Ctx, type PageOut } from "../routes.js";
import { queuePage } from "./review.js";
import { paymentsPage } from "./finance.js";
import { auditPage } from "./admin.js";
import { hubPage, practiceCpdPage } from "./cpd.js";

let startProblems: Problems = noProblems();

/** Who commissions the PCN, and the sub-ICB location it is in. */
async function placeOf(pcn: string) {
  const p = (await api().GET("/v1/pcns/{pcn}", { params: { path: { pcn } } })).data;
  if (!p) return "";
  const commissioner = lastSegment(p.commissioner);
  const [c, locations] = await Promise.all([
    api().GET("/v1/commissioners/{commissioner}", { params: { path: { commissioner } } }),
    subIcbLocations(commissioner),
  ]);
  return summaryList([
    ["Commissioner", c.data?.displayName ? `${c.data.displayName} (${commissioner})` : commissioner],
    ["Sub-ICB location", subIcbLabel(p.subIcbLocation, locations)],
  ]);
}

async function pcnHome(ctx: Ctx): Promise<PageOut> {
  const pcn = ctx.session!.org;
  const client = api();
  const claims = await client.GET("/v1/pcns/{pcn}/claims", { params: { path: { pcn }, query: { pageSize: 500 } } });
  const all = claims.data?.claims ?? [];
  const last = monthsBefore(today(), 1);
  const claimed = all.some((c) => c.month === last && c.kind !== "KIND_SUPPLEMENTARY" && c.state !== "STATE_WITHDRAWN");
  const queried = all.filter((c) => c.state === "STATE_QUERIED");
  const drafts = all.filter((c) => c.state === "STATE_DRAFT");
  const posts = (await client.GET("/v1/pcns/{pcn}/posts", { params: { path: { pcn }, query: { pageSize: 500 } } })).data?.posts ?? [];
  const registered = await registeredRoles();
  const where = await placeOf(pcn);
  // A post in a role with no statutory register (a care co-ordinator) has no number to miss.
  const unregistered = posts.filter((p) => p.state === "STATE_FILLED" && !p.registrationNumber && registered.has(p.role ?? ""));
  return {
    title: "Your tasks",
    body: html`${errorSummary(startProblems)}
      <h1>${ctx.session!.orgName}</h1>
      ${where}
      <h2>Your tasks</h2>
      ${!claimed
        ? html`<div class="nhsuk-card nhsuk-card--feature"><div class="nhsuk-card__content nhsuk-card__content--feature">
            <h3 class="nhsuk-card__heading nhsuk-card__heading--feature">Claim for ${monthName(last)}</h3>
            <p class="nhsuk-card__description">${monthName(last)} has ended and has not been claimed. Start the claim: it is filled in with a line for every post in post.</p>
            <form id="start-claim" novalidate>${button(`Start claim for ${monthName(last)}`)}</form>
          </div></div>`
        : html`<p>${monthName(last)} has been claimed.</p>`}
      <h2>Queried claims</h2>
      ${queried.length
        ? queried.map(
            (c) => html`<div class="nhsuk-card"><div class="nhsuk-card__content">
              <h3 class="nhsuk-card__heading"><a class="nhsuk-card__link" href="/claims/${lastSegment(c.name)}">${monthName(lastSegment(c.name))}</a></h3>
              <p class="nhsuk-card__description">The commissioner asked: “${c.reviewNote}”</p></div></div>`,
          )
        : html`<p>No claims are waiting for your answer.</p>`}
      <h2>Draft claims</h2>
      ${drafts.length
        ? table(
            "Draft claims",
            ["Month", "Lines", "Reimbursable"],
            drafts.map((c) => [html`<a href="/claims/${lastSegment(c.name)}">${monthName(lastSegment(c.name))}</a>`, String(c.lineCount ?? 0), pounds(c.reimbursablePence)]),
            { numeric: [1, 2] },
          )
        : html`<p>No draft claims.</p>`}
      ${unregistered.length
        ? html`<h2>Posts missing a registration number</h2><ul class="nhsuk-list nhsuk-list--bullet">${unregistered.map((p) => html`<li><a href="/workforce#${lastSegment(p.name)}">${lastSegment(p.name)}</a>: ${p.staffName}</li>`)}</ul>`
        : ""}`,
  };
}

export const homePage = page(
  async (ctx) => {
    const s = ctx.session!;
    if (isPcn(s)) return pcnHome(ctx);
    if (s.role === "commissioner-approver") return queuePage(ctx);
    if (s.role === "commissioner-finance") return paymentsPage(ctx);
    if (s.role === "national-administrator") return auditPage(ctx);
    if (s.role === "training-hub-officer") return hubPage(ctx);
    if (s.role === "practice-manager") return practiceCpdPage(ctx);
    return { title: "Home", body: html`<h1>Home</h1>${insetText("There is nothing for your role here yet.")}${summaryList([["Role", s.role]])}` };
  },
  (el, ctx) => {
    el.querySelector("#start-claim")?.addEventListener("submit", async (e) => {
      e.preventDefault();
      const month = monthsBefore(today(), 1);
      const res = await api().POST("/v1/pcns/{pcn}/claims", {
        params: { path: { pcn: ctx.session!.org }, query: { claimId: month, requestId: randomId() } },
      });
      if (res.error) {
        startProblems = apiProblems(res.error, {}, res.response.status);
        await ctx.rerender();
        return;
      }
      startProblems = noProblems();
      await ctx.navigate(`/claims/${month}`);
    });
    el.querySelector("#verify")?.addEventListener("submit", (e) => {
      e.preventDefault();
      void verifyAudit(ctx);
    });
  },
);

async function verifyAudit(ctx: Ctx): Promise<void> {
  const res = await api().POST("/v1/auditEvents:verify", { body: {} });
  sessionStorage.setItem("arrs.verify", JSON.stringify(res.data ?? res.error ?? {}));
  await ctx.rerender();
}


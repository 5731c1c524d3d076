// Local roles (from 2026/27): a commissioner's approvers list, approve and
// retire the roles it approved for its own PCNs; a PCN's role catalogue
// shows the national roles and its commissioner's local roles, each with the
// maximum in force today, marked where the figure is illustrative.
import { html } from "../lib/html.js";
import { enumLabel, lastSegment, longDate, parsePounds, pounds, poundsRate, roleName, today } from "../lib/format.js";
import { randomId } from "../lib/ids.js";
import { api } from "../lib/session.js";
import { apiProblems, backLink, button, dateInput, dateValue, errorSummary, hasProblems, input, insetText, noProblems, panel, summaryList, table, type Problems } from "../lib/ui.js";
import { page } from "../routes.js";

const illustrative = html` <strong class="nhsuk-tag nhsuk-tag--yellow">Illustrative</strong>`;

function stateTag(state: string | undefined) {
  return html`<strong class="nhsuk-tag ${state === "STATE_RETIRED" ? "nhsuk-tag--grey" : "nhsuk-tag--aqua-green"}">${enumLabel(state)}</strong>`;
}

/** The commissioner's local roles, with a way to approve one and to retire each. */
export const localRolesPage = page(async (ctx) => {
  const s = ctx.session!;
  const approver = s.role === "commissioner-approver";
  const parent = s.role === "national-administrator" ? "-" : s.org;
  const list = (await api().GET("/v1/commissioners/{commissioner}/localRoles", { params: { path: { commissioner: parent }, query: { pageSize: 500 } } })).data?.localRoles ?? [];
  return {
    title: "Local roles",
    body: html`<span class="nhsuk-caption-l">${s.orgName}</span><h1>Local roles</h1>
      <p>Roles the commissioner has approved for its own PCNs, in addition to the national roles. Only its PCNs see them in their role catalogue. Each maximum is a year at 1.0 WTE and includes employer on-costs (National Insurance and pension).</p>
      ${approver ? html`<a class="nhsuk-button nhsuk-button--secondary" href="/local-roles/new" role="button" draggable="false">Approve a local role</a>` : ""}
      ${list.length
        ? table(
            "Local roles",
            ["Role", "Register", "From", "To", "Maximum a year", "State", ...(approver ? ["Action"] : [])],
            list.map((l) => [
              html`${l.displayName}<br><span class="nhsuk-hint">${l.role}</span>`,
              enumLabel(l.register, "PROFESSIONAL_REGISTER_"),
              longDate(l.approvedFrom),
              longDate(l.approvedTo) || "Open",
              html`${pounds(l.maxAnnualPence)}${l.illustrative ? illustrative : ""}`,
              stateTag(l.state),
              ...(approver
                ? [l.state === "STATE_APPROVED" ? html`<a href="/local-roles/${lastSegment(l.name)}/retire">Retire<span class="nhsuk-u-visually-hidden"> ${l.displayName}</span></a>` : "None"]
                : []),
            ]),
            { numeric: [4] },
          )
        : insetText("No local roles have been approved.")}`,
  };
});

let approving: { values: Record<string, string>; problems: Problems } = { values: {}, problems: noProblems() };

const registerOptions: [string, string][] = [
  ["PROFESSIONAL_REGISTER_NONE", "None"],
  ["PROFESSIONAL_REGISTER_HCPC", "HCPC"],
  ["PROFESSIONAL_REGISTER_NMC", "NMC"],
  ["PROFESSIONAL_REGISTER_GPHC", "GPhC"],
  ["PROFESSIONAL_REGISTER_GMC", "GMC"],
];

/** The server's violations by the form's fields. */
const approveFields = {
  localRoleId: "role-id",
  displayName: "display-name",
  register: "register",
  registrationPrefix: "prefix",
  afcBand: "band",
  approvedFrom: "from-day",
  maxAnnualPence: "max",
  source: "source",
};

/** A new local role: the form, then the confirmation. */
export const newLocalRolePage = page(
  async (ctx) => {
    if (ctx.params["step"] === "approved") {
      const name = ctx.query.get("role") ?? "";
      return {
        title: "Local role approved",
        body: html`${panel("Local role approved", name)}<p>The commissioner's PCNs now see it in their role catalogue and can add posts in it.</p><p><a href="/local-roles">Back to local roles</a></p>`,
      };
    }
    const f = approving;
    const v = f.values;
    const registerError = f.problems.fields["register"];
    return {
      title: `${hasProblems(f.problems) ? "Error: " : ""}Approve a local role`,
      body: html`${backLink("/local-roles", "Local roles")}${errorSummary(f.problems)}
        <span class="nhsuk-caption-l">${ctx.session!.orgName}</span>
        <h1>Approve a local role</h1>
        <form id="approve" novalidate>
          ${input({ id: "display-name", label: "Role name", value: v["display-name"], error: f.problems.fields["display-name"] })}
          ${input({ id: "role-id", label: "Role identifier", hint: "Lower-case words joined by hyphens, for example frailty-practitioner. It cannot be changed.", width: "20", value: v["role-id"], error: f.problems.fields["role-id"] })}
          <div class="nhsuk-form-group ${registerError ? "nhsuk-form-group--error" : ""}">
            <label class="nhsuk-label" for="register">Professional register</label>
            ${registerError ? html`<span class="nhsuk-error-message" id="register-error"><span class="nhsuk-u-visually-hidden">Error:</span> ${registerError}</span>` : ""}
            <select class="nhsuk-select" id="register" name="register">
              ${registerOptions.map(([value, label]) => html`<option value="${value}" ${value === (v["register"] ?? "PROFESSIONAL_REGISTER_NONE") ? "selected" : ""}>${label}</option>`)}
            </select>
          </div>
          ${input({ id: "prefix", label: "HCPC profession letters (HCPC roles only)", hint: "For example, OT", width: "3", value: v["prefix"], error: f.problems.fields["prefix"] })}
          ${input({ id: "band", label: "Agenda for Change band (optional)", hint: "For example, 7 or 8a", width: "3", value: v["band"], error: f.problems.fields["band"] })}
          ${dateInput({ id: "from", legend: "The first day it is reimbursable", hint: "For example, 1 4 2026", values: v, error: f.problems.fields["from-day"] })}
          ${input({ id: "max", label: "Maximum reimbursable a year at 1.0 WTE, including on-costs", hint: "In pounds, for example 66,000.00", prefix: "£", width: "10", inputmode: "decimal", value: v["max"], error: f.problems.fields["max"] })}
          ${input({ id: "source", label: "Where the decision is recorded (optional)", value: v["source"], error: f.problems.fields["source"] })}
          <div class="nhsuk-form-group"><div class="nhsuk-checkboxes"><div class="nhsuk-checkboxes__item">
            <input class="nhsuk-checkboxes__input" id="illustrative" name="illustrative" type="checkbox" value="yes" ${v["illustrative"] ? "checked" : ""}>
            <label class="nhsuk-label nhsuk-checkboxes__label" for="illustrative">The maximum is provisional (illustrative)</label>
          </div></div></div>
          ${button("Approve local role")}
        </form>`,
    };
  },
  (el, ctx) => {
    el.querySelector("#approve")?.addEventListener("submit", async (e) => {
      e.preventDefault();
      const v = Object.fromEntries([...new FormData(e.target as HTMLFormElement).entries()].map(([k, x]) => [k, String(x).trim()]));
      approving = { values: v, problems: noProblems() };
      const from = dateValue("from", v);
      const max = parsePounds(v["max"] ?? "");
      if (!v["display-name"]) approving.problems.fields["display-name"] = "Enter the role's name";
      if (!from) approving.problems.fields["from-day"] = "Enter the first reimbursable day as a real date, like 1 4 2026";
      if (!max) approving.problems.fields["max"] = "Enter the maximum in pounds, like 66,000.00";
      if (!hasProblems(approving.problems)) {
        const res = await api().POST("/v1/commissioners/{commissioner}/localRoles", {
          params: { path: { commissioner: ctx.session!.org }, query: { localRoleId: v["role-id"] ?? "", requestId: randomId() } },
          body: {
            displayName: v["display-name"] ?? "",
            register: (v["register"] ?? "PROFESSIONAL_REGISTER_NONE") as "PROFESSIONAL_REGISTER_NONE",
            registrationPrefix: v["prefix"] ?? "",
            afcBand: v["band"] ?? "",
            approvedFrom: from ?? "",
            maxAnnualPence: max ?? "",
            source: v["source"] ?? "",
            illustrative: v["illustrative"] === "yes",
          },
        });
        if (!res.error) {
          approving = { values: {}, problems: noProblems() };
          await ctx.navigate(`/local-roles/new/approved?role=${encodeURIComponent(res.data?.displayName ?? "")}`, true);
          return;
        }
        approving.problems = apiProblems(res.error, approveFields, res.response.status);
      }
      await ctx.rerender();
    });
  },
);

let retiring: { role: string; values: Record<string, string>; problems: Problems } | null = null;

/** Retiring a local role: its last reimbursable day, then the confirmation. */
export const retireLocalRolePage = page(
  async (ctx) => {
    const id = ctx.params["role"]!;
    const res = await api().GET("/v1/commissioners/{commissioner}/localRoles/{localRole}", { params: { path: { commissioner: ctx.session!.org, localRole: id } } });
    const l = res.data;
    if (!l) return { title: "Page not found", body: html`<h1>Page not found</h1><p><a href="/local-roles">Back to local roles</a></p>` };
    if (ctx.params["step"] === "retired") {
      return {
        title: "Local role retired",
        body: html`${panel("Local role retired", html`${l.displayName}<br>last reimbursable day ${longDate(l.approvedTo)}`)}<p>Posts already in the role are reimbursed up to that day; no new post can take it.</p><p><a href="/local-roles">Back to local roles</a></p>`,
      };
    }
    if (retiring?.role !== id) retiring = { role: id, values: {}, problems: noProblems() };
    const f = retiring;
    return {
      title: `${hasProblems(f.problems) ? "Error: " : ""}Retire ${l.displayName}`,
      body: html`${backLink("/local-roles", "Local roles")}${errorSummary(f.problems)}
        <span class="nhsuk-caption-l">${ctx.session!.orgName}</span>
        <h1>Retire ${l.displayName}?</h1>
        ${summaryList([["Role", l.role ?? ""], ["Reimbursable from", longDate(l.approvedFrom)], ["Maximum a year", pounds(l.maxAnnualPence)]])}
        <form id="retire" novalidate>
          ${dateInput({ id: "last", legend: "The last day it is reimbursable", hint: `For example, 31 3 2027. Today is ${longDate(today())}.`, values: f.values, error: f.problems.fields["last-day"] })}
          <input type="hidden" name="etag" value="${l.etag ?? ""}">
          ${button("Retire local role", { warning: true })}
        </form>`,
    };
  },
  (el, ctx) => {
    el.querySelector("#retire")?.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (!retiring) return;
      const id = ctx.params["role"]!;
      retiring.values = Object.fromEntries([...new FormData(e.target as HTMLFormElement).entries()].map(([k, x]) => [k, String(x).trim()]));
      retiring.problems = noProblems();
      const lastDay = dateValue("last", retiring.values);
      if (!lastDay) retiring.problems.fields["last-day"] = "Enter the last reimbursable day as a real date, like 31 3 2027";
      else {
        const res = await api().POST("/v1/commissioners/{commissioner}/localRoles/{localRole}:retire", {
          params: { path: { commissioner: ctx.session!.org, localRole: id } },
          body: { lastDay, etag: retiring.values["etag"], requestId: randomId() },
        });
        if (!res.error) {
          retiring = null;
          await ctx.navigate(`/local-roles/${id}/retired`, true);
          return;
        }
        retiring.problems = apiProblems(res.error, { lastDay: "last-day" }, res.response.status);
      }
      await ctx.rerender();
    });
  },
);

/**
 * The role catalogue as the signed-in user's PCN sees it: national roles and
 * its commissioner's local roles, each with the maximum in force today and
 * its rules and this year's headcount cap, the year's national pool;
 * illustrative figures marked.
 */
export const cataloguePage = page(async (ctx) => {
  const client = api();
  const roles = (await client.GET("/v1/roles", { params: { query: { pageSize: 500 } } })).data?.roles ?? [];
  const rates = (await client.GET("/v1/roles/{role}/rates", { params: { path: { role: "-" }, query: { pageSize: 500 } } })).data?.rates ?? [];
  const years = (await client.GET("/v1/financialYears", { params: { query: { pageSize: 500 } } })).data?.financialYears ?? [];
  const now = today();
  const year = years.find((y) => (y.startDate ?? "") <= now && now <= (y.endDate ?? ""));
  const inForce = (role: string | undefined) =>
    rates.filter((r) => (r.name ?? "").startsWith(`${role}/`) && (r.effectiveDate ?? "") <= now).sort((a, b) => (b.effectiveDate ?? "").localeCompare(a.effectiveDate ?? ""))[0];
  const fy = lastSegment(year?.name);
  const rule = (r: (typeof roles)[number]) => {
    const cct = (r.rules ?? []).map((x) => `Within ${x.years} years of CCT, for starts from ${longDate(x.effectiveFrom)}${x.effectiveTo ? ` to ${longDate(x.effectiveTo)}` : ""}`);
    const cap = (r.headcountCaps ?? []).find((c) => c.financialYear === fy);
    const caps = cap ? [`At most ${cap.maxPosts} posts in ${fy}${cap.largeListThreshold && cap.largeListThreshold !== "0" ? ` (${cap.maxPostsLargeList} with a list of ${cap.largeListThreshold} or more)` : ""}`] : [];
    return [...cct, ...caps].join("; ");
  };
  const sorted = [...roles].sort((a, b) => Number(!!a.commissioner) - Number(!!b.commissioner) || (a.displayName ?? "").localeCompare(b.displayName ?? ""));
  return {
    title: "Role catalogue",
    body: html`<span class="nhsuk-caption-l">${ctx.session!.orgName}</span><h1>Role catalogue</h1>
      <p>The roles you can claim for: the national roles, and the local roles your commissioner has approved. Each maximum is a year at 1.0 WTE, including employer on-costs.</p>
      ${year
        ? summaryList([
            ["Financial year", lastSegment(year.name)],
            ["National pool", html`${year.nationalPoolPence && year.nationalPoolPence !== "0" ? pounds(year.nationalPoolPence) : "Not recorded"}${year.illustrative ? illustrative : ""}`],
            ["Rate per weighted patient", html`${poundsRate(year.ratePerWeightedPatient)}${year.illustrative ? illustrative : ""}`],
          ])
        : ""}
      ${table(
        "Roles",
        ["Role", "Approved by", "Maximum a year today", "Rules"],
        sorted.map((r) => {
          const rate = inForce(r.name);
          return [
            html`${r.displayName || roleName(r.name)}${r.retireTime ? html` <strong class="nhsuk-tag nhsuk-tag--grey">Retired</strong>` : ""}`,
            r.commissioner ? html`<strong class="nhsuk-tag nhsuk-tag--blue">Local</strong> ${lastSegment(r.commissioner)}` : "National",
            rate ? html`${pounds(rate.nationalMaxPence)}${rate.illustrative ? illustrative : ""}` : "No rate in force",
            rule(r) || "None",
          ];
        }),
        { numeric: [2] },
      )}`,
  };
});

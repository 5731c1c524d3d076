// A PCN's posts: those in post and the workforce plan (planned and
// recruiting), as the server holds them; a vacant post filled, with the
// registration number checked by the server against the role's register.
import { html } from "../lib/html.js";
import { enumLabel, lastSegment, longDate, roleName } from "../lib/format.js";
import type { Schemas } from "../../api/client.js";
import { api } from "../lib/session.js";
import { registeredRoles } from "../lib/roles.js";
import { apiProblems, backLink, button, dateInput, dateValue, errorSummary, hasProblems, input, noProblems, panel, summaryList, table, type Problems } from "../lib/ui.js";
import { NotFound } from "../main.js";
import { page, type Ctx } from "../routes.js";

export const workforcePage = page(async (ctx) => {
  const s = ctx.session!;
  const res = await api().GET("/v1/pcns/{pcn}/posts", { params: { path: { pcn: s.org }, query: { pageSize: 500 } } });
  const posts = res.data?.posts ?? [];
  const registered = await registeredRoles();
  const row = (p: (typeof posts)[number]) => [
    html`<span id="${lastSegment(p.name)}">${lastSegment(p.name)}</span>`,
    roleName(p.role),
    p.wte ?? "",
    p.staffName || "Vacant",
    p.registrationNumber || (p.staffName && registered.has(p.role ?? "") ? html`<strong class="nhsuk-tag nhsuk-tag--red">Missing</strong>` : ""),
    longDate(p.startDate),
    html`<strong class="nhsuk-tag ${p.state === "STATE_FILLED" ? "nhsuk-tag--green" : p.state === "STATE_ENDED" ? "nhsuk-tag--grey" : "nhsuk-tag--blue"}">${enumLabel(p.state)}</strong>${p.baseline ? html` <strong class="nhsuk-tag nhsuk-tag--grey">Baseline</strong>` : ""}`,
  ];
  const inPost = posts.filter((p) => p.state === "STATE_FILLED" || p.state === "STATE_ENDED");
  const plan = posts.filter((p) => p.state !== "STATE_FILLED" && p.state !== "STATE_ENDED");
  const head = ["Post", "Role", "WTE", "Staff member", "Registration", "Start", "State"];
  return {
    title: "Workforce",
    body: html`<span class="nhsuk-caption-l">${s.orgName}</span><h1>Workforce</h1>
      <a class="nhsuk-button nhsuk-button--secondary" href="/workforce/new" role="button" draggable="false">Add a post</a>
      ${table("Posts in post", [...head, "Action"], inPost.map((p) => [...row(p), p.state === "STATE_FILLED" ? html`<a href="/workforce/${lastSegment(p.name)}/end">End<span class="nhsuk-u-visually-hidden"> ${lastSegment(p.name)}</span></a>` : ""]), { numeric: [2] })}
      ${plan.length
        ? table("Workforce plan: planned and recruiting posts", [...head, "Action"], plan.map((p) => [
            ...row(p),
            html`${p.state === "STATE_PLANNED" ? html`<a href="/workforce/${lastSegment(p.name)}/recruit">Start recruiting<span class="nhsuk-u-visually-hidden"> to ${lastSegment(p.name)}</span></a><br>` : ""}<a href="/workforce/${lastSegment(p.name)}/fill">Fill<span class="nhsuk-u-visually-hidden"> ${lastSegment(p.name)}</span></a>`,
          ]), { numeric: [2] })
        : html`<p>No planned or recruiting posts.</p>`}`,
  };
});

let fill: { post: string; values: Record<string, string>; problems: Problems } | null = null;

export const fillPostPage = page(
  async (ctx) => {
    const { s, postId, p } = await routePost(ctx);
    if (ctx.params["step"] === "done") {
      return {
        title: "Post filled",
        body: html`${panel("Post filled", html`${roleName(p.role)}: ${postId}<br>${p.staffName}`)}<p><a href="/workforce">Back to the workforce</a></p>`,
      };
    }
    if (p.state === "STATE_FILLED" || p.state === "STATE_ENDED") throw new NotFound();
    if (fill?.post !== postId) fill = { post: postId, values: {}, problems: noProblems() };
    const f = fill;
    return {
      title: `${hasProblems(f.problems) ? "Error: " : ""}Fill ${postId}`,
      body: html`${backLink("/workforce", "Workforce")}${errorSummary(f.problems)}
        <span class="nhsuk-caption-l">${roleName(p.role)}, ${p.wte} WTE</span>
        <h1>Who has been appointed to ${postId}?</h1>
        ${summaryList([["State", enumLabel(p.state)], ["Start date", longDate(p.startDate)]])}
        <form id="fill" novalidate>
          ${input({ id: "staff-name", label: "Full name", value: f.values["staff-name"], error: f.problems.fields["staff-name"], autocomplete: "name" })}
          ${input({ id: "registration", label: "Registration number", hint: "On the role's register: HCPC (for example OT123456), NMC PIN, GPhC or GMC number", width: "10", value: f.values["registration"], error: f.problems.fields["registration"] })}
          <input type="hidden" name="etag" value="${p.etag ?? ""}">
          ${button("Fill post")}
        </form>`,
    };
  },
  (el, ctx) => {
    el.querySelector("#fill")?.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (!fill) return;
      const postId = ctx.params["post"]!;
      fill.values = Object.fromEntries([...new FormData(e.target as HTMLFormElement).entries()].map(([k, v]) => [k, String(v).trim()]));
      fill.problems = noProblems();
      if (!fill.values["staff-name"]) fill.problems.fields["staff-name"] = "Enter the staff member's full name";
      if (!hasProblems(fill.problems)) {
        const res = await api().POST("/v1/pcns/{pcn}/posts/{post}:fill", {
          params: { path: { pcn: ctx.session!.org, post: postId } },
          body: { etag: fill.values["etag"], staffName: fill.values["staff-name"] ?? "", registrationNumber: fill.values["registration"] ?? "" },
        });
        if (!res.error) {
          fill = null;
          await ctx.navigate(`/workforce/${postId}/done`, true);
          return;
        }
        fill.problems = apiProblems(res.error, { staffName: "staff-name", registrationNumber: "registration" }, res.response.status);
      }
      await ctx.rerender();
    });
  },
);

let recruitProblems: Problems = noProblems();

/** A planned post moves to recruiting, after the user confirms. */
export const recruitPostPage = page(
  async (ctx) => {
    const { postId, p } = await routePost(ctx);
    if (ctx.params["step"] === "recruiting") {
      return {
        title: "Recruiting",
        body: html`${panel("Recruiting", html`${roleName(p.role)}: ${postId}`)}<p>When someone is appointed, fill the post from the workforce page.</p><p><a href="/workforce">Back to the workforce</a></p>`,
      };
    }
    if (p.state !== "STATE_PLANNED") throw new NotFound();
    return {
      title: `Start recruiting to ${postId}`,
      body: html`${backLink("/workforce", "Workforce")}${errorSummary(recruitProblems)}
        <span class="nhsuk-caption-l">${roleName(p.role)}, ${p.wte} WTE</span>
        <h1>Start recruiting to ${postId}?</h1>
        ${summaryList([["Role", roleName(p.role)], ["Whole-time equivalent", p.wte ?? ""], ["Start date", longDate(p.startDate)]])}
        <form id="recruit" novalidate><input type="hidden" name="etag" value="${p.etag ?? ""}">${button("Start recruiting")}</form>`,
    };
  },
  (el, ctx) => {
    el.querySelector("#recruit")?.addEventListener("submit", async (e) => {
      e.preventDefault();
      const postId = ctx.params["post"]!;
      const etag = String(new FormData(e.target as HTMLFormElement).get("etag") ?? "");
      const res = await api().POST("/v1/pcns/{pcn}/posts/{post}:recruit", { params: { path: { pcn: ctx.session!.org, post: postId } }, body: { etag } });
      if (res.error) {
        recruitProblems = apiProblems(res.error, {}, res.response.status);
        await ctx.rerender();
        return;
      }
      recruitProblems = noProblems();
      await ctx.navigate(`/workforce/${postId}/recruiting`, true);
    });
  },
);

let ending: { post: string; values: Record<string, string>; problems: Problems } | null = null;

/** A filled post ends on its last day in post. */
export const endPostPage = page(
  async (ctx) => {
    const { postId, p } = await routePost(ctx);
    if (ctx.params["step"] === "ended") {
      return {
        title: "Post ended",
        body: html`${panel("Post ended", html`${roleName(p.role)}: ${postId}<br>last day ${longDate(p.endDate)}`)}<p><a href="/workforce">Back to the workforce</a></p>`,
      };
    }
    if (p.state === "STATE_ENDED") throw new NotFound();
    if (ending?.post !== postId) ending = { post: postId, values: {}, problems: noProblems() };
    const f = ending;
    return {
      title: `${hasProblems(f.problems) ? "Error: " : ""}End ${postId}`,
      body: html`${backLink("/workforce", "Workforce")}${errorSummary(f.problems)}
        <span class="nhsuk-caption-l">${roleName(p.role)}, ${p.staffName || "vacant"}</span>
        <h1>When is the last day in post for ${postId}?</h1>
        <form id="end" novalidate>
          ${dateInput({ id: "end-date", legend: "Last day in post", hint: "For example, 31 3 2027", values: f.values, error: f.problems.fields["end-date-day"] })}
          <input type="hidden" name="etag" value="${p.etag ?? ""}">
          ${button("End post", { warning: true })}
        </form>`,
    };
  },
  (el, ctx) => {
    el.querySelector("#end")?.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (!ending) return;
      const postId = ctx.params["post"]!;
      ending.values = Object.fromEntries([...new FormData(e.target as HTMLFormElement).entries()].map(([k, v]) => [k, String(v).trim()]));
      ending.problems = noProblems();
      const endDate = dateValue("end-date", ending.values);
      if (!endDate) ending.problems.fields["end-date-day"] = "Enter the last day in post as a real date, like 31 3 2027";
      else {
        const res = await api().POST("/v1/pcns/{pcn}/posts/{post}:end", {
          params: { path: { pcn: ctx.session!.org, post: postId } },
          body: { etag: ending.values["etag"], endDate },
        });
        if (!res.error) {
          ending = null;
          await ctx.navigate(`/workforce/${postId}/ended`, true);
          return;
        }
        ending.problems = apiProblems(res.error, { endDate: "end-date-day" }, res.response.status);
      }
      await ctx.rerender();
    });
  },
);

let creating: { values: Record<string, string>; problems: Problems } = { values: {}, problems: noProblems() };
/** The roles whose rules ask for a CCT date, as the form last drew them. */
let cctRoles = new Set<string>();

/**
 * What a role's CCT rules ask, in words, or "" when it has none: the
 * catalogue's rules (GPs, from 1 October 2024 to 31 March 2026, within 2
 * years of their CCT), for the form to show the CCT date with the roles
 * that ask for it. Whether a post needs one is the server's to say: it
 * depends on the start date, and the server names the field when it does.
 */
function cctRule(role: { rules?: Schemas["v1RoleRule"][] } | undefined): string {
  const rules = (role?.rules ?? []).filter((r) => r.kind === "ROLE_RULE_KIND_CCT_WITHIN_YEARS");
  return rules
    .map((r) => `staff starting ${r.effectiveTo ? `from ${longDate(r.effectiveFrom)} to ${longDate(r.effectiveTo)}` : `from ${longDate(r.effectiveFrom)}`} must start within ${r.years} years of their CCT`)
    .join("; ");
}

/** A new post in the workforce plan: planned, or filled when a staff member is named. */
export const newPostPage = page(
  async (ctx) => {
    const roles = (await api().GET("/v1/roles", { params: { query: { pageSize: 500 } } })).data?.roles ?? [];
    if (ctx.params["step"] === "created") {
      const name = ctx.query.get("post") ?? "";
      return { title: "Post added", body: html`${panel("Post added", name)}<p><a href="/workforce">Back to the workforce</a></p>` };
    }
    const f = creating;
    const roleError = f.problems.fields["role"];
    const chosen = roles.find((r) => r.name === f.values["role"]);
    cctRoles = new Set(roles.filter((r) => cctRule(r)).map((r) => r.name ?? ""));
    return {
      title: `${hasProblems(f.problems) ? "Error: " : ""}Add a post`,
      body: html`${backLink("/workforce", "Workforce")}${errorSummary(f.problems)}
        <span class="nhsuk-caption-l">${ctx.session!.orgName}</span>
        <h1>Add a post</h1>
        <p>A post is planned until someone is appointed. Name the staff member to add it filled.</p>
        <form id="new-post" novalidate>
          <div class="nhsuk-form-group ${roleError ? "nhsuk-form-group--error" : ""}">
            <label class="nhsuk-label" for="role">Role</label>
            ${roleError ? html`<span class="nhsuk-error-message" id="role-error"><span class="nhsuk-u-visually-hidden">Error:</span> ${roleError}</span>` : ""}
            <select class="nhsuk-select ${roleError ? "nhsuk-select--error" : ""}" id="role" name="role" ${roleError ? html`aria-describedby="role-error"` : ""}>
              <option value="">Choose a role</option>
              ${roles.map((r) => html`<option value="${r.name ?? ""}" ${f.values["role"] === r.name ? "selected" : ""}>${r.displayName || roleName(r.name)}</option>`)}
            </select>
          </div>
          ${input({ id: "wte", label: "Whole-time equivalent", hint: "For example, 0.6; at most 1", width: "4", inputmode: "decimal", value: f.values["wte"], error: f.problems.fields["wte"] })}
          ${dateInput({ id: "start", legend: "Start date", hint: "For example, 1 4 2027", values: f.values, error: f.problems.fields["start-day"] })}
          ${cctRule(chosen)
            ? dateInput({ id: "cct", legend: "Date of the Certificate of Completion of Training (CCT)",
                hint: `${chosen?.displayName ?? "This role"}: ${cctRule(chosen)}. For example, 1 8 2024`,
                values: f.values, error: f.problems.fields["cct-day"] })
            : ""}
          ${input({ id: "staff-name", label: "Staff member's full name (optional)", value: f.values["staff-name"], error: f.problems.fields["staff-name"], autocomplete: "off" })}
          ${input({ id: "registration", label: "Registration number (optional)", hint: "Needed with a staff member: HCPC, NMC PIN, GPhC or GMC number", width: "10", value: f.values["registration"], error: f.problems.fields["registration"] })}
          ${button("Add post")}
        </form>`,
    };
  },
  (el, ctx) => {
    // The CCT date is asked with a role whose rules ask for one: choosing
    // such a role, or leaving one, draws the form again, keeping what was
    // entered.
    const form = el.querySelector<HTMLFormElement>("#new-post");
    const role = el.querySelector<HTMLSelectElement>("#role");
    role?.addEventListener("change", async () => {
      if (!form || cctRoles.has(role.value) === Boolean(form.querySelector("#cct-day"))) return;
      creating.values = Object.fromEntries([...new FormData(form).entries()].map(([k, x]) => [k, String(x)]));
      await ctx.rerender();
      document.getElementById("role")?.focus();
    });
    el.querySelector("#new-post")?.addEventListener("submit", async (e) => {
      e.preventDefault();
      const v = Object.fromEntries([...new FormData(e.target as HTMLFormElement).entries()].map(([k, x]) => [k, String(x).trim()]));
      creating = { values: v, problems: noProblems() };
      if (!v["role"]) creating.problems.fields["role"] = "Choose a role";
      const start = dateValue("start", v);
      if (!start) creating.problems.fields["start-day"] = "Enter the start date as a real date, like 1 4 2027";
      // A CCT date is sent when one is given (the form asks for it only with
      // a role whose rules do); whether it is needed is the server's to say.
      const cctGiven = Boolean(v["cct-day"] || v["cct-month"] || v["cct-year"]);
      const cct = cctGiven ? dateValue("cct", v) : "";
      if (cct === null) creating.problems.fields["cct-day"] = "Enter the CCT date as a real date, like 1 8 2024";
      if (!hasProblems(creating.problems)) {
        const res = await api().POST("/v1/pcns/{pcn}/posts", {
          params: { path: { pcn: ctx.session!.org }, query: { requestId: crypto.randomUUID() } },
          body: { role: v["role"] ?? "", wte: v["wte"] ?? "", startDate: start ?? "", staffName: v["staff-name"] ?? "", registrationNumber: v["registration"] ?? "", ...(cct ? { cctDate: cct } : {}) },
        });
        if (!res.error) {
          creating = { values: {}, problems: noProblems() };
          await ctx.navigate(`/workforce/new/created?post=${encodeURIComponent(lastSegment(res.data?.name))}`, true);
          return;
        }
        creating.problems = apiProblems(res.error, { role: "role", wte: "wte", startDate: "start-day", staffName: "staff-name", registrationNumber: "registration", cctDate: "cct-day" }, res.response.status);
      }
      await ctx.rerender();
    });
  },
);

/** The post the route names, in the signed-in PCN: NotFound when it is not there. */
async function routePost(ctx: Ctx) {
  const s = ctx.session!;
  const postId = ctx.params["post"]!;
  const res = await api().GET("/v1/pcns/{pcn}/posts/{post}", { params: { path: { pcn: s.org, post: postId } } });
  if (!res.data) throw new NotFound();
  return { s, postId, p: res.data };
}

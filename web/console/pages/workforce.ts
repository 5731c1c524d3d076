// A PCN's posts: those in post and the workforce plan (planned and
// recruiting), as the server holds them.
import { html } from "../lib/html.js";
import { enumLabel, lastSegment, longDate, roleName } from "../lib/format.js";
import { api } from "../lib/session.js";
import { table } from "../lib/ui.js";
import { page } from "../routes.js";

export const workforcePage = page(async (ctx) => {
  const s = ctx.session!;
  const res = await api().GET("/v1/pcns/{pcn}/posts", { params: { path: { pcn: s.org }, query: { pageSize: 500 } } });
  const posts = res.data?.posts ?? [];
  const row = (p: (typeof posts)[number]) => [
    html`<span id="${lastSegment(p.name)}">${lastSegment(p.name)}</span>`,
    roleName(p.role),
    p.wte ?? "",
    p.staffName || "Vacant",
    p.registrationNumber || (p.staffName ? html`<strong class="nhsuk-tag nhsuk-tag--red">Missing</strong>` : ""),
    longDate(p.startDate),
    html`<strong class="nhsuk-tag ${p.state === "STATE_FILLED" ? "nhsuk-tag--green" : p.state === "STATE_ENDED" ? "nhsuk-tag--grey" : "nhsuk-tag--blue"}">${enumLabel(p.state)}</strong>${p.baseline ? html` <strong class="nhsuk-tag nhsuk-tag--grey">Baseline</strong>` : ""}`,
  ];
  const inPost = posts.filter((p) => p.state === "STATE_FILLED" || p.state === "STATE_ENDED");
  const plan = posts.filter((p) => p.state !== "STATE_FILLED" && p.state !== "STATE_ENDED");
  const head = ["Post", "Role", "WTE", "Staff member", "Registration", "Start", "State"];
  return {
    title: "Workforce",
    body: html`<span class="nhsuk-caption-l">${s.orgName}</span><h1>Workforce</h1>
      ${table("Posts in post", head, inPost.map(row), { numeric: [2] })}
      ${plan.length ? table("Workforce plan: planned and recruiting posts", head, plan.map(row), { numeric: [2] }) : html`<p>No planned or recruiting posts.</p>`}`,
  };
});

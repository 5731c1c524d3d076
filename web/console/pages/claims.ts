// A PCN's claims, newest first, with their totals and states.
import { html } from "../lib/html.js";
import { lastSegment, monthName, pounds } from "../lib/format.js";
import { api } from "../lib/session.js";
import { stateTag, table } from "../lib/ui.js";
import { page } from "../routes.js";

export const claimsPage = page(async (ctx) => {
  const res = await api().GET("/v1/pcns/{pcn}/claims", { params: { path: { pcn: ctx.session!.org }, query: { pageSize: 500 } } });
  const claims = [...(res.data?.claims ?? [])].reverse();
  // The years a backdated award offered top-ups in, each with its view.
  const awardYears = [...new Set(claims.filter((c) => c.kind === "KIND_SUPPLEMENTARY").map((c) => c.financialYear ?? ""))].filter(Boolean);
  const sum = (f: (c: (typeof claims)[number]) => string | undefined) => claims.reduce((t, c) => t + BigInt(f(c) || "0"), 0n).toString();
  return {
    title: "Claims",
    body: html`<h1>Claims</h1>
      <p>Every claim ${ctx.session!.orgName} has made, newest first. A draft or queried claim can be changed and submitted.</p>
      ${awardYears.length
        ? html`<p>Top-ups after a backdated pay award: ${awardYears.map((y) => html`<a href="/backdated-awards/${ctx.session!.org}/${y}">the ${y} award</a> `)}</p>`
        : ""}
      ${table(
        "Claims",
        ["Month", "State", "Claimed", "Approved", "Paid"],
        claims.map((c) => [
          html`<a href="/claims/${lastSegment(c.name)}">${monthName(lastSegment(c.name))}</a>`,
          stateTag(c.state),
          pounds(c.reimbursablePence),
          pounds(c.approvedPence),
          pounds(c.paidPence),
        ]),
        { numeric: [2, 3, 4], footer: [html`<strong>Total</strong>`, "", pounds(sum((c) => c.reimbursablePence)), pounds(sum((c) => c.approvedPence)), pounds(sum((c) => c.paidPence))] },
      )}`,
  };
});

// A PCN's backdated pay award for a year, as the national process pays it:
// per month and staff member, the most a top-up can reimburse (the new cap
// less what was reimbursed, worked out by arrs, not here) against what the
// PCN has claimed of it. The PCN reads it to see whom to claim for; its
// commissioner to check the claims against the maximum.
import { html } from "../lib/html.js";
import { enumLabel, lastSegment, longDate, monthName, pounds, roleName } from "../lib/format.js";
import { api, isPcn } from "../lib/session.js";
import { insetText, summaryList, table } from "../lib/ui.js";
import { NotFound } from "../main.js";
import { page } from "../routes.js";

export const backdatedAwardPage = page(async (ctx) => {
  const { pcn, year } = ctx.params as { pcn: string; year: string };
  const res = await api().GET("/v1/pcns/{pcn}/backdatedAwards/{backdatedAward}", { params: { path: { pcn, backdatedAward: year } } });
  if (res.response.status === 404) throw new NotFound();
  if (!res.data) throw new Error(`backdated award: ${res.response.status}`);
  const a = res.data;
  const pcnUser = isPcn(ctx.session);
  const claimHref = (claim: string | undefined) => (pcnUser ? `/claims/${lastSegment(claim)}` : `/review/${pcn}/${lastSegment(claim)}`);
  const lines = a.lines ?? [];
  return {
    title: `Backdated pay award ${year}`,
    body: html`<span class="nhsuk-caption-l">${pcnUser ? ctx.session!.orgName : pcn}</span>
      <h1>Backdated pay award ${year}</h1>
      <p>The award was published after the months it covers had been claimed. The most each month can be topped up is the new cap less what was reimbursed.
        ${pcnUser
          ? "Pay your staff the arrears first, then record on each month's top-up what you paid to the staff who received it; the clinical director declares they were paid and submits it."
          : "The PCN claims only for the staff it paid the arrears to, and never more than the maximum."}</p>
      ${summaryList([
        ["Most the top-ups can claim", html`<strong>${pounds(a.maximumTopUpPence)}</strong>`],
        ["Claimed (submitted, approved or paid)", html`<strong>${pounds(a.claimedPence)}</strong>`],
      ])}
      ${lines.length ? "" : insetText("No staff member has a top-up.")}
      ${table(
        "Each staff member's month",
        ["Month", "Staff member", "Role", "New cap", "Reimbursed", "Most it can claim", "Arrears paid", "Claimed", "Top-up"],
        lines.map((l) => [
          monthName(l.month),
          html`${l.staffName || lastSegment(l.post)}`,
          roleName(l.role),
          pounds(l.capPence),
          pounds(l.reimbursedPence),
          pounds(l.maximumTopUpPence),
          l.arrearsPaidDate ? html`${pounds(l.arrearsPence)} <span class="nhsuk-body-s">on ${longDate(l.arrearsPaidDate)}</span>` : "Not claimed",
          l.claimedPence && l.claimedPence !== "0" ? pounds(l.claimedPence) : l.draftPence && l.draftPence !== "0" ? html`${pounds(l.draftPence)} (draft)` : pounds("0"),
          html`<a href="${claimHref(l.claim)}">${lastSegment(l.claim)}<span class="nhsuk-u-visually-hidden"> for ${l.staffName}</span></a> ${enumLabel(l.claimState)}`,
        ]),
        { numeric: [3, 4, 5, 6, 7] },
      )}`,
  };
});

// The commissioner approver: the review queue (oldest first; then the
// queried claims waiting for the PCN's reply, with the days each side has
// held them), a claim's review (each line against the post's previous month,
// flags explained, four eyes, the query's conversation), and approve (whole,
// or lines lowered with reasons, after checking), query (again, while the
// PCN holds it) or reject.
import type { Resource } from "../../api/client.js";
import { html, type Html } from "../lib/html.js";
import { lastSegment, longDate, monthName, monthsBefore, parsePounds, pounds, roleName } from "../lib/format.js";
import { randomId } from "../lib/ids.js";
import { api } from "../lib/session.js";
import { apiProblems, backLink, button, errorSummary, hasProblems, input, insetText, noProblems, panel, stateTag, summaryList, table, textarea, warning, type Problems } from "../lib/ui.js";
import { NotFound } from "../main.js";
import { page, type Ctx, type PageOut } from "../routes.js";
import { claimSummary, heldDays, loadClaim, segments, thread, topUp } from "./claim.js";

type Claim = Resource<"v1Claim">;

const flagMeaning: Record<string, string> = {
  COST_OVER_CAP: "The cost entered is more than the cap: only the cap is claimed.",
  NEW_STARTER: "The post started this month: check the contract and the start date.",
  WTE_CHANGED: "The whole-time equivalent is not the previous month's.",
  REGISTRATION_MISSING: "The staff member's professional registration is missing or no longer valid.",
  ABOVE_PREVIOUS_MONTH: "The cost is more than 20% above the post's previous month.",
};

async function queue(commissioner: string) {
  const res = await api().GET("/v1/commissioners/{commissioner}/reviewQueue", { params: { path: { commissioner }, query: { pageSize: 500 } } });
  return res.data?.items ?? [];
}

export async function queuePage(ctx: Ctx): Promise<PageOut> {
  const s = ctx.session!;
  const all = await queue(s.org);
  const items = all.filter((i) => i.waitingFor !== "WAITING_FOR_PCN");
  const queried = all.filter((i) => i.waitingFor === "WAITING_FOR_PCN");
  const total = items.reduce((t, i) => t + BigInt(i.claim?.reimbursablePence || "0"), 0n).toString();
  const link = (i: (typeof all)[number]) => {
    const [, pcn, , month] = (i.claim?.name ?? "").split("/");
    return html`<a href="/review/${pcn}/${month}">${pcn}, ${monthName(month)}</a>`;
  };
  return {
    title: "Review queue",
    body: html`<span class="nhsuk-caption-l">${s.orgName}</span><h1>Review queue</h1>
      <p>Submitted claims waiting for review, oldest first. The days the commissioner holds a claim are what delay its payment.</p>
      ${items.length
        ? table(
            `${items.length} claim${items.length === 1 ? "" : "s"} waiting`,
            ["Claim", "Submitted", "Days waiting", "Days with the commissioner", "Days with the PCN", "Flags", "Claimed"],
            items.map((i) => [
              link(i),
              longDate(i.claim?.submitTime),
              String(i.daysWaiting ?? 0),
              String(i.commissionerHeldDays ?? 0),
              String(i.pcnHeldDays ?? 0),
              (i.flags ?? []).length ? html`<strong class="nhsuk-tag nhsuk-tag--orange">${(i.flags ?? []).length} to look at</strong>` : "None",
              pounds(i.claim?.reimbursablePence),
            ]),
            { numeric: [2, 3, 4, 6], footer: [html`<strong>Total</strong>`, "", "", "", "", "", pounds(total)] },
          )
        : insetText("No claims are waiting for review.")}
      ${queried.length
        ? html`<h2>Waiting for the PCN's reply</h2>
          <p>Claims you have queried. They come back to the queue when the PCN has replied and submitted them again.</p>
          ${table(
            `${queried.length} claim${queried.length === 1 ? "" : "s"} queried`,
            ["Claim", "Status", "Queried", "Days with the commissioner", "Days with the PCN", "Claimed"],
            queried.map((i) => [
              link(i),
              html`<strong class="nhsuk-tag nhsuk-tag--yellow">Waiting for the PCN's reply</strong>`,
              longDate(i.claim?.reviewTime),
              String(i.commissionerHeldDays ?? 0),
              String(i.pcnHeldDays ?? 0),
              pounds(i.claim?.reimbursablePence),
            ]),
            { numeric: [3, 4, 5] },
          )}`
        : ""}`,
  };
}

function fourEyes(c: Claim, subject: string): Html {
  return c.submitter === subject
    ? warning("You submitted this claim", html`<p>Someone other than the person who submitted a claim must approve it (four eyes). Ask another approver.</p>`)
    : insetText(html`Submitted by <strong>${c.submitter}</strong> on ${longDate(c.submitTime)}. You did not submit it, so you may approve it: a claim is always approved by someone other than its submitter.`);
}

export const reviewPage = page(async (ctx) => {
  const { pcn, claim } = ctx.params as { pcn: string; claim: string };
  const c = await loadClaim(pcn, claim);
  const item = (await queue(ctx.session!.org)).find((i) => i.claim?.name === c.name);
  const flags = item?.flags ?? [];
  let previous: Claim | undefined;
  if (/^\d{4}-\d{2}$/.test(claim)) {
    try {
      previous = await loadClaim(pcn, monthsBefore(`${claim}-01`, 1));
    } catch {
      previous = undefined;
    }
  }
  const prevLine = (post: string | undefined) => previous?.lines?.find((l) => l.post === post);
  const waiting = c.state === "STATE_SUBMITTED";
  const queried = c.state === "STATE_QUERIED";
  return {
    title: `Review ${pcn}, ${monthName(claim)}`,
    body: html`${backLink("/", "Review queue")}
      <span class="nhsuk-caption-l">${pcn}</span>
      <h1>Review the claim for ${monthName(claim)}</h1>
      ${waiting ? fourEyes(c, ctx.session!.subject) : ""}
      ${queried ? insetText(html`<strong class="nhsuk-tag nhsuk-tag--yellow">Waiting for the PCN's reply</strong> You queried this claim; the PCN replies below and submits it again.`) : ""}
      ${claimSummary(c)}
      ${item ? html`<p>Waiting <strong>${item.daysWaiting} days</strong>. ${heldDays(item)}</p>` : ""}
      ${thread(c)}
      ${topUp(c)
        ? table(
            "Each line against its maximum top-up",
            ["Post", "Role", "New cap", "Already reimbursed", "Most it can claim", "Arrears paid", "Claimed"],
            (c.lines ?? []).map((l) => [html`<a href="#line-${lastSegment(l.name)}">${lastSegment(l.name)}</a>`, roleName(l.role), pounds(l.capPence), pounds(l.alreadyPaidPence), pounds(l.maximumTopUpPence),
              l.arrears ? html`${pounds(l.arrears.totalPence)} <span class="nhsuk-body-s">on ${longDate(l.arrears.paidDate)}</span>` : "Not claimed", pounds(l.reimbursablePence)]),
            { numeric: [2, 3, 4, 5, 6] },
          )
        : table(
            "Each line against the post's previous month",
            ["Post", "Role", "WTE", "Cap", "Cost", "Claimed", "Previous month"],
            (c.lines ?? []).map((l) => {
              const p = prevLine(l.post);
              return [html`<a href="#line-${lastSegment(l.name)}">${lastSegment(l.name)}</a>`, roleName(l.role), l.wte ?? "", pounds(l.capPence), pounds(l.actualPence), pounds(l.reimbursablePence), p ? pounds(p.reimbursablePence) : "None"];
            }),
            { numeric: [2, 3, 4, 5, 6] },
          )}
      <h2>Worth a look</h2>
      ${flags.length
        ? html`<ul class="nhsuk-list nhsuk-list--bullet">${flags.map((f) => html`<li><strong>${lastSegment(f.line)}</strong>: ${flagMeaning[f.reason ?? ""] ?? f.reason} (${f.detail})</li>`)}</ul>`
        : html`<p>No line is flagged.</p>`}
      ${(c.lines ?? []).map(
        (l) => html`<h3 id="line-${lastSegment(l.name)}">${roleName(l.role)}: ${lastSegment(l.name)}</h3>
          ${summaryList([
            ["Days and rate", segments(l)],
            ["Cost", `${pounds(l.grossSalaryPence)} salary, ${pounds(l.employerNiPence)} NI, ${pounds(l.employerPensionPence)} pension, ${pounds(l.overtimePence)} overtime, less ${pounds(l.absenceAdjustmentPence)} absence`],
            ["Evidence", l.evidenceUris?.length ? html`${l.evidenceUris.map((u) => html`<a href="${u}" rel="noreferrer">${u}</a> `)}` : "None"],
          ])}`,
      )}
      ${waiting
        ? html`<h2>Your decision</h2><div class="nhsuk-button-group">
            <a class="nhsuk-button" href="/review/${pcn}/${claim}/approve" role="button" draggable="false">Approve</a>
            <a class="nhsuk-button nhsuk-button--secondary" href="/review/${pcn}/${claim}/query" role="button" draggable="false">Ask a question</a>
            <a class="nhsuk-button nhsuk-button--warning" href="/review/${pcn}/${claim}/reject" role="button" draggable="false">Reject</a></div>`
        : queried
          ? html`<h2>Ask a further question</h2><p>While the PCN holds the claim you may ask more; the PCN must reply before submitting it again.</p>
            <a class="nhsuk-button nhsuk-button--secondary" href="/review/${pcn}/${claim}/query" role="button" draggable="false">Ask a further question</a>`
          : html`<p>This claim is ${stateTag(c.state)}.</p>`}
      <p><a href="/pcns/${pcn}/claims/${claim}/history">History of this claim</a></p>`,
  };
});

// What the approver has entered, kept between the form and the check.
interface Decision {
  key: string;
  values: Record<string, string>;
  problems: Problems;
  checked: boolean;
}
let decision: Decision | null = null;

function decisionFor(key: string): Decision {
  if (decision?.key !== key) decision = { key, values: {}, problems: noProblems(), checked: false };
  return decision;
}

export const reviewActionPage = page(
  async (ctx) => {
    const { pcn, claim, action } = ctx.params as { pcn: string; claim: string; action: string };
    const c = await loadClaim(pcn, claim);
    const d = decisionFor(`${pcn}/${claim}/${action}`);
    const back = backLink(`/review/${pcn}/${claim}`, `Claim for ${monthName(claim)}`);
    const err = hasProblems(d.problems) ? "Error: " : "";
    if (action === "done") {
      const did = ctx.query.get("did") ?? "reviewed";
      return {
        title: `Claim ${did}`,
        body: html`${panel(`Claim ${did}`, html`${pcn}, ${monthName(claim)}${did === "approved" ? html`<br><strong>${pounds(c.approvedPence)}</strong> approved` : ""}`)}
          <p>${did === "approved" ? "Finance can now record the payment." : "The claim has gone back to the PCN with what you wrote."}</p>
          <p><a href="/">Back to the review queue</a></p>`,
      };
    }
    // A further question may be asked of a queried claim; every other
    // decision is on a submitted one.
    const further = action === "query" && c.state === "STATE_QUERIED";
    if (c.state !== "STATE_SUBMITTED" && !further) throw new NotFound();
    if (action === "query" || action === "reject") {
      const query = action === "query";
      return {
        title: `${err}${query ? "Ask the PCN a question" : "Reject the claim"}`,
        body: html`${back}${errorSummary(d.problems)}
          <span class="nhsuk-caption-l">${pcn}, ${monthName(claim)}</span>
          <h1>${query ? "Ask the PCN a question" : "Reject the claim"}</h1>
          <p>${further ? "The PCN must reply to it before submitting the claim again." : query ? "The claim goes back to the PCN, who replies, can change it and submits it again." : "A rejected claim is closed. The PCN sees your reason."}</p>
          ${thread(c)}
          <form id="decision" novalidate>
            ${textarea({ id: "note", label: query ? "Your question" : "Why the claim is rejected", value: d.values["note"], error: d.problems.fields["note"] })}
            <input type="hidden" name="etag" value="${c.etag ?? ""}">
            ${button(query ? "Send question" : "Reject claim", { warning: !query })}
          </form>`,
      };
    }
    // approve: the form, then check your answers.
    const lines = c.lines ?? [];
    const approving = (l: (typeof lines)[number]) => {
      const v = d.values[`approve-${lastSegment(l.name)}`];
      return v ? parsePounds(v) : l.reimbursablePence ?? "0";
    };
    if (ctx.query.get("step") === "check" && d.checked && !hasProblems(d.problems)) {
      const total = lines.reduce((t, l) => t + BigInt(approving(l) ?? "0"), 0n).toString();
      return {
        title: "Check your answers before approving the claim",
        body: html`${backLink(`/review/${pcn}/${claim}/approve`, "Change what you approve")}${errorSummary(d.problems)}
          <span class="nhsuk-caption-l">${pcn}, ${monthName(claim)}</span>
          <h1>Check your answers before approving the claim</h1>
          ${table(
            "What you are approving",
            ["Post", "Claimed", "Approving", "Reason"],
            lines.map((l) => [lastSegment(l.name), pounds(l.reimbursablePence), pounds(approving(l) ?? "0"), d.values[`reason-${lastSegment(l.name)}`] || "As claimed"]),
            { numeric: [1, 2], footer: [html`<strong>Total</strong>`, pounds(c.reimbursablePence), html`<strong>${pounds(total)}</strong>`, ""] },
          )}
          <form id="approve" novalidate><input type="hidden" name="etag" value="${c.etag ?? ""}">${button("Approve claim")}</form>`,
      };
    }
    return {
      title: `${err}Approve the claim`,
      body: html`${back}${errorSummary(d.problems)}
        <span class="nhsuk-caption-l">${pcn}, ${monthName(claim)}</span>
        <h1>Approve the claim</h1>
        ${fourEyes(c, ctx.session!.subject)}
        <p>Approve each line as claimed, or lower it and say why. A line can be lowered, never raised.</p>
        <form id="decision" novalidate>
          ${lines.map((l) => {
            const id = lastSegment(l.name);
            return html`<fieldset class="nhsuk-fieldset"><legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">${roleName(l.role)}: ${id}, claimed ${pounds(l.reimbursablePence)}</legend>
              ${input({ id: `approve-${id}`, label: "Amount to approve", hint: "Leave empty to approve as claimed", prefix: "£", width: "10", inputmode: "decimal", value: d.values[`approve-${id}`] ?? "", error: d.problems.fields[`approve-${id}`] })}
              ${input({ id: `reason-${id}`, label: "Reason for lowering it", value: d.values[`reason-${id}`] ?? "", error: d.problems.fields[`reason-${id}`] })}
            </fieldset>`;
          })}
          ${button("Continue")}
        </form>`,
    };
  },
  (el, ctx) => {
    const { pcn, claim, action } = ctx.params as { pcn: string; claim: string; action: string };
    const d = decisionFor(`${pcn}/${claim}/${action}`);
    el.querySelector("#decision")?.addEventListener("submit", async (e) => {
      e.preventDefault();
      const form = new FormData(e.target as HTMLFormElement);
      d.values = Object.fromEntries([...form.entries()].map(([k, v]) => [k, String(v)]));
      d.problems = noProblems();
      if (action === "approve") {
        const c = await loadClaim(pcn, claim);
        for (const l of c.lines ?? []) {
          const id = lastSegment(l.name);
          const v = (d.values[`approve-${id}`] ?? "").trim();
          if (!v) continue;
          const p = parsePounds(v);
          if (p === null) d.problems.fields[`approve-${id}`] = `Enter the amount to approve for ${id} in pounds, like 2,450.00`;
          else if (BigInt(p) > BigInt(l.reimbursablePence ?? "0")) d.problems.fields[`approve-${id}`] = `The amount for ${id} must be ${pounds(l.reimbursablePence)} or less: a line can only be lowered`;
          else if (p !== l.reimbursablePence && !(d.values[`reason-${id}`] ?? "").trim()) d.problems.fields[`reason-${id}`] = `Say why ${id} is lowered`;
        }
        d.checked = !hasProblems(d.problems);
        if (d.checked) await ctx.navigate(`/review/${pcn}/${claim}/approve?step=check`);
        else await ctx.rerender();
        return;
      }
      const note = (d.values["note"] ?? "").trim();
      if (!note) {
        d.problems.fields["note"] = action === "query" ? "Enter your question" : "Enter why the claim is rejected";
        await ctx.rerender();
        return;
      }
      const path = { pcn, claim };
      const etag = d.values["etag"] ?? "";
      const res =
        action === "query"
          ? await api().POST("/v1/pcns/{pcn}/claims/{claim}:query", { params: { path }, body: { etag, question: note } })
          : await api().POST("/v1/pcns/{pcn}/claims/{claim}:reject", { params: { path }, body: { etag, reason: note } });
      if (res.error) {
        d.problems = apiProblems(res.error, { question: "note", reason: "note" }, res.response.status);
        await ctx.rerender();
        return;
      }
      decision = null;
      await ctx.navigate(`/review/${pcn}/${claim}/done?did=${action === "query" ? "queried" : "rejected"}`, true);
    });
    el.querySelector("#approve")?.addEventListener("submit", async (e) => {
      e.preventDefault();
      const c = await loadClaim(pcn, claim);
      const adjustments = (c.lines ?? []).flatMap((l) => {
        const id = lastSegment(l.name);
        const v = (d.values[`approve-${id}`] ?? "").trim();
        const p = v ? parsePounds(v) : null;
        return p !== null && p !== l.reimbursablePence ? [{ line: l.name ?? "", approvedPence: p, reason: (d.values[`reason-${id}`] ?? "").trim() }] : [];
      });
      const etag = String(new FormData(e.target as HTMLFormElement).get("etag") ?? "");
      const res = await api().POST("/v1/pcns/{pcn}/claims/{claim}:approve", {
        params: { path: { pcn, claim } },
        body: { etag, requestId: randomId(), adjustments },
      });
      if (res.error) {
        d.problems = apiProblems(res.error, {}, res.response.status);
        await ctx.rerender();
        return;
      }
      decision = null;
      await ctx.navigate(`/review/${pcn}/${claim}/done?did=approved`, true);
    });
  },
);


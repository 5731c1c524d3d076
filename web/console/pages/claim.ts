// A PCN's claim: its lines as the server worked them out (cap, days, rate
// segments, reimbursable), the costs entered line by line, check your
// answers and submit; a queried claim shows its conversation with the
// commissioner and takes the PCN's reply, which resubmitting needs.
// And any claim's history, from the audit trail.
import type { Body, Resource } from "../../api/client.js";
import { html, type Html } from "../lib/html.js";
import { enumLabel, lastSegment, longDate, monthName, parsePounds, pounds, poundsInput, roleName } from "../lib/format.js";
import { randomId } from "../lib/ids.js";
import { api, roleLabels } from "../lib/session.js";
import { apiProblems, backLink, button, dateInput, dateValue, errorSummary, hasProblems, input, insetText, noProblems, panel, stateTag, summaryList, table, textarea, warning, type Problems } from "../lib/ui.js";
import { NotFound } from "../main.js";
import { page, type Ctx } from "../routes.js";

type Claim = Resource<"v1Claim">;
type Line = Resource<"v1ClaimLine">;
type Message = Resource<"v1ClaimMessage">;

export async function loadClaim(pcn: string, claim: string): Promise<Claim> {
  const res = await api().GET("/v1/pcns/{pcn}/claims/{claim}", { params: { path: { pcn, claim } } });
  if (res.response.status === 404) throw new NotFound();
  if (!res.data) throw new Error(`claim: ${res.response.status}`);
  return res.data;
}

export function editable(c: Claim): boolean {
  return c.state === "STATE_DRAFT" || c.state === "STATE_QUERIED";
}

/** A top-up after a backdated pay award: the PCN records arrears paid, not costs. */
export function topUp(c: Claim): boolean {
  return c.kind === "KIND_SUPPLEMENTARY";
}

/** The most a top-up's lines can claim, as the server worked each out. */
function maximumOf(c: Claim): string {
  return (c.lines ?? []).reduce((t, l) => t + BigInt(l.maximumTopUpPence || "0"), 0n).toString();
}

/** The server's working of a line's cap: one sentence per rate segment. */
export function segments(l: Line): Html {
  return html`<ul class="nhsuk-list">${(l.capSegments ?? []).map(
    (s) => html`<li>${longDate(s.fromDate)} to ${longDate(s.toDate)}: ${s.days} days at ${pounds(s.annualMaxPence)} a year</li>`,
  )}</ul>`;
}

export function claimSummary(c: Claim): Html {
  const rows: [string, Html | string][] = [
    ["State", stateTag(c.state)],
    ["Kind", c.kind === "KIND_SUPPLEMENTARY" ? "Top-up after a backdated pay award" : "Monthly claim"],
    ["Financial year", c.financialYear ?? ""],
    ["Total of the caps", pounds(c.capPence)],
    ["Total of the costs", pounds(c.actualPence)],
    ["Claimed (the lower of cost and cap, line by line)", html`<strong>${pounds(c.reimbursablePence)}</strong>`],
  ];
  if (topUp(c)) {
    rows.splice(5, 1, ["Most the top-up can claim (new caps less what was reimbursed)", pounds(maximumOf(c))],
      ["Claimed (for the staff paid arrears)", html`<strong>${pounds(c.reimbursablePence)}</strong>`],
      ["Backdated award", html`<a href="/backdated-awards/${c.name?.split("/")[1] ?? ""}/${c.financialYear ?? ""}">Every month of the ${c.financialYear ?? ""} award</a>`]);
  }
  if (c.arrearsDeclaredBy) rows.push(["Arrears declared paid", `${longDate(c.arrearsDeclareTime)} by ${c.arrearsDeclaredBy}`]);
  if (c.submitTime) rows.push(["Submitted", `${longDate(c.submitTime)} by ${c.submitter}`]);
  if (c.reviewTime) rows.push(["Reviewed", `${longDate(c.reviewTime)} by ${c.reviewer}`]);
  if (c.submitTime) rows.push(["Time with each side", heldDays(c)]);
  if (c.state === "STATE_APPROVED" || c.state === "STATE_PAID") rows.push(["Approved", pounds(c.approvedPence)]);
  if (c.payment?.reference) rows.push(["Paid", `${pounds(c.paidPence)} on ${longDate(c.payment.paymentDate)}, reference ${c.payment.reference}`]);
  return summaryList(rows);
}

function timeOfDay(t: string | undefined): string {
  return new Date(t ?? "").toLocaleTimeString("en-GB", { timeZone: "Europe/London", hour: "2-digit", minute: "2-digit" });
}

/** The query's conversation, oldest first: each message with who wrote it, in what role, and when. */
export function thread(c: Claim): Html {
  const messages = c.messages ?? [];
  if (!messages.length) return html``;
  const one = (m: Message) => {
    const question = m.kind === "KIND_QUESTION";
    return html`<li class="arrs-message ${question ? "arrs-message--question" : "arrs-message--reply"}">
      <h3 class="nhsuk-heading-s">${question ? "Question from the commissioner" : "Reply from the PCN"}</h3>
      <p class="arrs-message__text">${m.text}</p>
      ${m.evidenceUris?.length ? html`<p>Evidence: ${m.evidenceUris.map((u) => html`<a href="${u}" rel="noreferrer">${u}</a> `)}</p>` : ""}
      <p class="nhsuk-body-s">${m.author} (${roleLabels[m.role ?? ""] ?? m.role}), ${longDate(m.createTime)} at ${timeOfDay(m.createTime)}</p>
    </li>`;
  };
  return html`<h2 id="conversation" tabindex="-1">Questions and replies</h2><ol class="nhsuk-list arrs-timeline">${messages.map(one)}</ol>`;
}

/** Whether the claim's newest message is a question not yet answered. */
export function unanswered(c: Claim): boolean {
  const messages = c.messages ?? [];
  return c.state === "STATE_QUERIED" && messages[messages.length - 1]?.kind === "KIND_QUESTION";
}

/** The days each side has held the claim: the commissioner's time is what delays payment. */
export function heldDays(c: { commissionerHeldDays?: number; pcnHeldDays?: number }): string {
  const days = (n: number | undefined) => `${n ?? 0} day${n === 1 ? "" : "s"}`;
  return `The commissioner has held it ${days(c.commissionerHeldDays)}; the PCN ${days(c.pcnHeldDays)}.`;
}

export function lineDetails(c: Claim, l: Line, changeHref?: string): Html {
  const id = lastSegment(l.name);
  const money = (label: string, v: string | undefined): [string, string] => [label, pounds(v)];
  const rows: [string, Html | string][] = [
    ["Staff in post", html`<a href="/workforce#${lastSegment(l.post)}">${lastSegment(l.post)}</a>`],
    ["Whole-time equivalent", l.wte ?? ""],
    ["Days in the month", `${l.activeDays} (of ${l.daysInYear} in the year)`],
    ["How the cap was worked out", segments(l)],
    ["Cap", pounds(l.capPence)],
    money("Gross salary", l.grossSalaryPence),
    money("Employer National Insurance", l.employerNiPence),
    money("Employer pension", l.employerPensionPence),
    money("Overtime at plain-time rate", l.overtimePence),
    money("Absence adjustment", l.absenceAdjustmentPence),
    ["Total cost", pounds(l.actualPence)],
    ["Claimed", html`<strong>${pounds(l.reimbursablePence)}</strong>`],
    ["Evidence", l.evidenceUris?.length ? html`<ul class="nhsuk-list">${l.evidenceUris.map((u) => html`<li><a href="${u}" rel="noreferrer">${u}</a></li>`)}</ul>` : "None"],
  ];
  if (l.alreadyPaidPence && l.alreadyPaidPence !== "0") rows.push(["Already paid for the month", pounds(l.alreadyPaidPence)]);
  if (topUp(c)) {
    rows.push(["Most the top-up can claim", pounds(l.maximumTopUpPence)]);
    rows.push(["Arrears paid", l.arrears ? `${pounds(l.arrears.totalPence)} on ${longDate(l.arrears.paidDate)} (gross ${pounds(l.arrears.grossSalaryPence)}, NI ${pounds(l.arrears.employerNiPence)}, pension ${pounds(l.arrears.employerPensionPence)})` : "Not claimed: no arrears recorded"]);
  }
  if (c.state === "STATE_APPROVED" || c.state === "STATE_PAID") rows.push(["Approved", pounds(l.approvedPence)]);
  if (l.adjustmentReason) rows.push(["Why it was lowered", l.adjustmentReason]);
  return html`<h2 id="line-${id}">${roleName(l.role)}: ${id}</h2>${summaryList(rows)}
    ${changeHref ? html`<p><a class="nhsuk-link" href="${changeHref}">${topUp(c) ? "Enter arrears paid" : "Enter costs"}<span class="nhsuk-u-visually-hidden"> for ${id}</span></a></p>` : ""}`;
}

export const claimPage = page(async (ctx) => {
  const s = ctx.session!;
  const c = await loadClaim(s.org, ctx.params["claim"]!);
  const id = lastSegment(c.name);
  const canEdit = editable(c);
  // A refusal on the check page is answered here (a reply, a change):
  // the next check starts clean.
  submitProblems = noProblems();
  return {
    title: `${hasProblems(replyProblems(id)) ? "Error: " : ""}Claim for ${monthName(id)}`,
    body: html`${backLink("/claims", "Claims")}
      <span class="nhsuk-caption-l">${s.orgName}</span>
      <h1>Claim for ${monthName(id)}</h1>
      ${unanswered(c) ? warning("The commissioner has a question", html`<p>${c.reviewNote}</p><p><a href="#reply-text">Reply to the question</a>, change any costs that answer it, then submit the claim again.</p>`) : ""}
      ${c.state === "STATE_REJECTED" ? warning("This claim was rejected", html`<p>${c.reviewNote}</p>`) : ""}
      ${errorSummary(replyProblems(id))}
      ${claimSummary(c)}
      ${thread(c)}
      ${c.state === "STATE_QUERIED" ? replyForm(c, id) : ""}
      ${topUp(c)
        ? html`${editable(c) ? insetText("Pay your staff the arrears first. Then, for each staff member you paid, enter the arrears and the day you paid them; leave out anyone not paid the uplift.") : ""}
          ${table(
            "Lines",
            ["Post", "Role", "New cap", "Already reimbursed", "Most it can claim", "Arrears paid", "Claimed"],
            (c.lines ?? []).map((l) => [html`<a href="#line-${lastSegment(l.name)}">${lastSegment(l.name)}</a>`, roleName(l.role), pounds(l.capPence), pounds(l.alreadyPaidPence), pounds(l.maximumTopUpPence), l.arrears ? pounds(l.arrears.totalPence) : "Not claimed", pounds(l.reimbursablePence)]),
            { numeric: [2, 3, 4, 5, 6] },
          )}`
        : table(
            "Lines",
            ["Post", "Role", "WTE", "Days", "Cap", "Cost", "Claimed"],
            (c.lines ?? []).map((l) => [html`<a href="#line-${lastSegment(l.name)}">${lastSegment(l.name)}</a>`, roleName(l.role), l.wte ?? "", String(l.activeDays), pounds(l.capPence), pounds(l.actualPence), pounds(l.reimbursablePence)]),
            { numeric: [2, 3, 4, 5, 6] },
          )}
      ${(c.excludedPosts ?? []).length
        ? html`<h2>Posts not claimed</h2><ul class="nhsuk-list nhsuk-list--bullet">${(c.excludedPosts ?? []).map((e) => html`<li>${lastSegment(e.post)}: ${enumLabel(e.reason, "EXCLUSION_REASON_")}</li>`)}</ul>`
        : ""}
      ${(c.lines ?? []).map((l) => lineDetails(c, l, canEdit ? `/claims/${id}/lines/${lastSegment(l.name)}` : undefined))}
      ${editable(c)
        ? s.role === "pcn-clinical-director"
          ? html`${unanswered(c) ? html`<p id="submit-needs-reply">Reply to the commissioner's question before you submit the claim again: a queried claim goes back with an answer.</p>` : ""}
            <a class="nhsuk-button" href="/claims/${id}/check" role="button" draggable="false">Check and submit claim</a>`
          : html`<p>Only the clinical director can submit the claim.</p>`
        : ""}
      <p><a href="/pcns/${s.org}/claims/${id}/history">History of this claim</a></p>`,
  };
}, (el, ctx) => {
  el.querySelector("#reply-form")?.addEventListener("submit", async (e) => {
    e.preventDefault();
    const claimId = ctx.params["claim"]!;
    const form = new FormData(e.target as HTMLFormElement);
    const values: Record<string, string> = {};
    for (const [k, v] of form.entries()) values[k] = String(v);
    const problems = noProblems();
    const text = (values["reply-text"] ?? "").trim();
    const evidence = (values["reply-evidence"] ?? "").trim();
    if (!text) problems.fields["reply-text"] = "Enter your reply to the commissioner's question";
    if (!hasProblems(problems)) {
      const res = await api().POST("/v1/pcns/{pcn}/claims/{claim}:reply", {
        params: { path: { pcn: ctx.session!.org, claim: claimId } },
        body: { etag: values["etag"] ?? "", text, evidenceUris: evidence ? [evidence] : [] },
      });
      if (!res.error) {
        reply = null;
        await ctx.rerender();
        document.getElementById("conversation")?.focus();
        return;
      }
      Object.assign(problems, apiProblems(res.error, { text: "reply-text", "evidenceUris[0]": "reply-evidence" }, res.response.status));
    }
    reply = { key: claimId, values, problems };
    await ctx.rerender();
  });
});

// The reply form keeps what was typed and its problems between renders.
let reply: { key: string; values: Record<string, string>; problems: Problems } | null = null;

function replyProblems(claimId: string): Problems {
  return reply?.key === claimId ? reply.problems : noProblems();
}

/** The PCN's reply to the newest question: words, and a link to evidence if there is one. */
function replyForm(c: Claim, claimId: string): Html {
  const v = reply?.key === claimId ? reply.values : {};
  const answered = !unanswered(c);
  return html`${answered ? insetText("You have replied to the commissioner's question. Submit the claim again when it is ready; you can add to your reply below.") : ""}
    ${replyFields(c, v, replyProblems(claimId), answered ? "Add to your reply" : "Your reply")}`;
}

function replyFields(c: Claim, v: Record<string, string>, p: Problems, label: string): Html {
  return html`<h2>Reply to the commissioner</h2>
    <form id="reply-form" novalidate>
      ${textarea({ id: "reply-text", label, hint: "Answer the question; the commissioner sees your reply with the claim.", value: v["reply-text"], error: p.fields["reply-text"] })}
      ${input({ id: "reply-evidence", label: "Link to evidence (optional)", hint: "An https link, for example to a payslip or a timesheet", type: "url", value: v["reply-evidence"] ?? "", error: p.fields["reply-evidence"] })}
      <input type="hidden" name="etag" value="${c.etag ?? ""}">
      ${button("Send reply", { secondary: true })}
    </form>`;
}

// The line form keeps what was typed and the problems between renders.
let lineForm: { key: string; values: Record<string, string>; problems: Problems } | null = null;

const moneyFields: [keyof Line & string, string, string][] = [
  ["grossSalaryPence", "gross-salary", "Gross salary"],
  ["employerNiPence", "employer-ni", "Employer National Insurance"],
  ["employerPensionPence", "employer-pension", "Employer pension contribution"],
  ["overtimePence", "overtime", "Overtime at plain-time rate"],
  ["absenceAdjustmentPence", "absence", "Absence adjustment"],
];

export const claimLinePage = page(
  async (ctx) => {
    const s = ctx.session!;
    const claimId = ctx.params["claim"]!;
    const lineId = ctx.params["line"]!;
    const c = await loadClaim(s.org, claimId);
    const l = c.lines?.find((x) => lastSegment(x.name) === lineId);
    if (!l || !editable(c)) throw new NotFound();
    const key = `${claimId}/${lineId}`;
    if (lineForm?.key !== key) lineForm = null;
    const v = (id: string, initial: string) => lineForm?.values[id] ?? initial;
    const p = lineForm?.problems ?? noProblems();
    if (topUp(c)) return arrearsPage(claimId, lineId, l, p);
    return {
      title: `${p.general.length || Object.keys(p.fields).length ? "Error: " : ""}Costs for ${lineId}`,
      body: html`${backLink(`/claims/${claimId}`, `Claim for ${monthName(claimId)}`)}
        ${errorSummary(p)}
        <span class="nhsuk-caption-l">${roleName(l.role)}, ${monthName(claimId)}</span>
        <h1>What was paid for ${lineId}?</h1>
        <p>The cap for the month is <strong>${pounds(l.capPence)}</strong>. Enter what the PCN paid; it will claim the lower of the total and the cap.</p>
        <form id="line-form" novalidate>
          ${moneyFields.map(([f, id, label]) =>
            input({ id, label, prefix: "£", width: "10", inputmode: "decimal", value: v(id, poundsInput(l[f] as string | undefined)), error: p.fields[id],
              hint: id === "absence" ? "Reduction for reduced-pay sick or parental leave" : id === "overtime" ? "Record the higher whole-time equivalent worked below" : undefined }),
          )}
          ${input({ id: "wte", label: "Whole-time equivalent worked", hint: "For example, 0.6", width: "4", inputmode: "decimal", value: v("wte", l.wte ?? ""), error: p.fields["wte"] })}
          ${input({ id: "evidence", label: "Link to the evidence (optional)", hint: "An https link to the payslip or contract", type: "url", value: v("evidence", l.evidenceUris?.[0] ?? ""), error: p.fields["evidence"] })}
          <input type="hidden" name="etag" value="${l.etag ?? ""}">
          ${button("Save costs")}
        </form>`,
    };
  },
  (el, ctx) => {
    el.querySelector("#arrears-form")?.addEventListener("submit", (e) => {
      e.preventDefault();
      void saveArrears(e.target as HTMLFormElement, ctx);
    });
    el.querySelector("#line-form")?.addEventListener("submit", async (e) => {
      e.preventDefault();
      const form = new FormData(e.target as HTMLFormElement);
      const claimId = ctx.params["claim"]!;
      const lineId = ctx.params["line"]!;
      const values: Record<string, string> = {};
      for (const [k, v] of form.entries()) values[k] = String(v);
      const problems = noProblems();
      const body: Record<string, unknown> = { etag: values["etag"] };
      for (const [f, id, label] of moneyFields) {
        const pence = parsePounds(values[id] ?? "");
        if (pence === null) problems.fields[id] = `${label} must be an amount in pounds, like 2,450.00`;
        else body[f] = pence;
      }
      body["wte"] = (values["wte"] ?? "").trim();
      const evidence = (values["evidence"] ?? "").trim();
      body["evidenceUris"] = evidence ? [evidence] : [];
      if (!hasProblems(problems)) {
        const res = await api().PATCH("/v1/pcns/{pcn}/claims/{claim}/lines/{line}", {
          params: {
            path: { pcn: ctx.session!.org, claim: claimId, line: lineId },
            query: { updateMask: [...moneyFields.map(([f]) => f), "wte", "evidenceUris"].join(",") },
          },
          body: body as Body<"v1ClaimLine">,
        });
        if (!res.error) {
          lineForm = null;
          await ctx.navigate(`/claims/${claimId}`);
          return;
        }
        Object.assign(problems, apiProblems(res.error, Object.fromEntries([...moneyFields.map(([f, id]) => [f, id]), ["wte", "wte"], ["evidenceUris", "evidence"]]), res.response.status));
      }
      lineForm = { key: `${claimId}/${lineId}`, values, problems };
      await ctx.rerender();
    });
  },
);

const arrearsFields: [string, string, string][] = [
  ["grossSalaryPence", "arrears-gross", "Gross salary arrears"],
  ["employerNiPence", "arrears-ni", "Employer National Insurance on them"],
  ["employerPensionPence", "arrears-pension", "Employer pension contribution on them"],
];

/** A top-up's line: was the staff member paid the arrears, how much and when. */
function arrearsPage(claimId: string, lineId: string, l: Line, p: Problems): { title: string; body: Html } {
  const saved = lineForm?.values;
  const paid = saved ? saved["paid"] === "yes" : Boolean(l.arrears);
  const v = (id: string, initial: string) => saved?.[id] ?? initial;
  const [y, m, d] = (l.arrears?.paidDate ?? "").split("-");
  const dates = saved ?? { "paid-date-day": d ?? "", "paid-date-month": m ?? "", "paid-date-year": y ?? "" };
  const radio = (value: string, label: string, checked: boolean, first: boolean) => html`<div class="nhsuk-radios__item">
    <input class="nhsuk-radios__input" id="${first ? "paid" : `paid-${value}`}" name="paid" type="radio" value="${value}" ${checked ? "checked" : ""}>
    <label class="nhsuk-label nhsuk-radios__label" for="${first ? "paid" : `paid-${value}`}">${label}</label></div>`;
  return {
    title: `${hasProblems(p) ? "Error: " : ""}Arrears paid to ${lineId}`,
    body: html`${backLink(`/claims/${claimId}`, `Top-up for ${monthName(claimId.slice(0, 7))}`)}
      ${errorSummary(p)}
      <span class="nhsuk-caption-l">${roleName(l.role)}, ${monthName(claimId.slice(0, 7))}</span>
      <h1>Arrears paid to ${lineId}</h1>
      <p>The new cap for the month is <strong>${pounds(l.capPence)}</strong> and <strong>${pounds(l.alreadyPaidPence)}</strong> has been reimbursed: the top-up can claim at most <strong>${pounds(l.maximumTopUpPence)}</strong>.
        It claims the lower of the original cost plus the arrears you paid, and the new cap, less what was reimbursed.</p>
      <form id="arrears-form" novalidate>
        <div class="nhsuk-form-group ${p.fields["paid"] ? "nhsuk-form-group--error" : ""}">
          <fieldset class="nhsuk-fieldset">
            <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Was ${lineId} paid the arrears of the award for this month?</legend>
            ${p.fields["paid"] ? html`<span class="nhsuk-error-message" id="paid-error"><span class="nhsuk-u-visually-hidden">Error:</span> ${p.fields["paid"]}</span>` : ""}
            <div class="nhsuk-radios">${radio("yes", "Yes: claim for them", paid, true)}${radio("no", "No: leave them out of the claim", !paid, false)}</div>
          </fieldset>
        </div>
        <p>If they were paid, enter everything paid in arrears for the month, including any an earlier top-up claimed.</p>
        ${arrearsFields.map(([f, id, label]) => input({ id, label, prefix: "£", width: "10", inputmode: "decimal", error: p.fields[id],
          value: v(id, l.arrears ? poundsInput((l.arrears as Record<string, string | undefined>)[f]) : "") }))}
        ${dateInput({ id: "paid-date", legend: "Date the arrears were paid", hint: "For example, 28 11 2026", values: dates, error: p.fields["paid-date"] })}
        <input type="hidden" name="etag" value="${l.etag ?? ""}">
        ${button("Save arrears")}
      </form>`,
  };
}

async function saveArrears(form: HTMLFormElement, ctx: Ctx): Promise<void> {
  const claimId = ctx.params["claim"]!;
  const lineId = ctx.params["line"]!;
  const values: Record<string, string> = {};
  for (const [k, v] of new FormData(form).entries()) values[k] = String(v);
  const problems = noProblems();
  const body: Record<string, unknown> = { etag: values["etag"] };
  if (values["paid"] === "yes") {
    const arrears: Record<string, string> = {};
    for (const [f, id, label] of arrearsFields) {
      const pence = parsePounds(values[id] ?? "");
      if (pence === null) problems.fields[id] = `${label} must be an amount in pounds, like 120.00`;
      else arrears[f] = pence;
    }
    const date = dateValue("paid-date", values);
    if (date === null) problems.fields["paid-date"] = "Enter the date the arrears were paid, as a real date";
    else arrears["paidDate"] = date;
    body["arrears"] = arrears;
  }
  if (!hasProblems(problems)) {
    const res = await api().PATCH("/v1/pcns/{pcn}/claims/{claim}/lines/{line}", {
      params: { path: { pcn: ctx.session!.org, claim: claimId, line: lineId }, query: { updateMask: "arrears" } },
      body: body as Body<"v1ClaimLine">,
    });
    if (!res.error) {
      lineForm = null;
      await ctx.navigate(`/claims/${claimId}`);
      return;
    }
    Object.assign(problems, apiProblems(res.error, { grossSalaryPence: "arrears-gross", employerNiPence: "arrears-ni", employerPensionPence: "arrears-pension", paidDate: "paid-date", arrears: "paid" }, res.response.status));
  }
  lineForm = { key: `${claimId}/${lineId}`, values, problems };
  await ctx.rerender();
}

let submitProblems: Problems = noProblems();

export const claimCheckPage = page(
  async (ctx) => {
    const s = ctx.session!;
    const claimId = ctx.params["claim"]!;
    const c = await loadClaim(s.org, claimId);
    if (!editable(c)) throw new NotFound();
    return {
      title: "Check your answers before submitting the claim",
      body: html`${backLink(`/claims/${claimId}`, `Claim for ${monthName(claimId)}`)}
        ${errorSummary(submitProblems)}
        <span class="nhsuk-caption-l">${s.orgName}</span>
        <h1>Check your answers before submitting the claim</h1>
        ${summaryList([
          ["Month", monthName(claimId)],
          ["Lines", String(c.lines?.length ?? 0)],
          ["Total cost", pounds(c.actualPence)],
          ["Total claimed", html`<strong>${pounds(c.reimbursablePence)}</strong>`],
        ])}
        ${table(
          "What each line claims",
          ["Post", "Role", "Cost", "Cap", "Claimed"],
          (c.lines ?? []).map((l) => [html`<a href="/claims/${claimId}/lines/${lastSegment(l.name)}">${lastSegment(l.name)}<span class="nhsuk-u-visually-hidden"> (change)</span></a>`, roleName(l.role), pounds(l.actualPence), pounds(l.capPence), pounds(l.reimbursablePence)]),
          { numeric: [2, 3, 4] },
        )}
        <h2>Now submit the claim</h2>
        ${topUp(c)
          ? html`<p>A top-up claims only for the staff paid the arrears of the award, and the clinical director declares that they were paid before the claim.</p>`
          : html`<p>By submitting this claim you confirm that the costs were paid to the staff named, that the posts meet the scheme's conditions, and that the evidence is kept.</p>`}
        <p>The commissioner works each line's cap out again from the rates in force, and the claim must fit in what remains of the entitlement.</p>
        <form id="submit-claim" novalidate><input type="hidden" name="etag" value="${c.etag ?? ""}">
          ${topUp(c) ? declaration(submitProblems.fields["declaration"]) : ""}
          ${button("Submit claim")}</form>`,
    };
  },
  (el, ctx) => {
    el.querySelector("#submit-claim")?.addEventListener("submit", async (e) => {
      e.preventDefault();
      const form = new FormData(e.target as HTMLFormElement);
      const etag = String(form.get("etag") ?? "");
      const claimId = ctx.params["claim"]!;
      // The server decides whether the claim needs the declaration: the
      // box's state is sent as it is.
      const res = await api().POST("/v1/pcns/{pcn}/claims/{claim}:submit", {
        params: { path: { pcn: ctx.session!.org, claim: claimId } },
        body: { etag, requestId: randomId(), arrearsPaidDeclared: form.get("declaration") === "yes" },
      });
      if (res.error) {
        submitProblems = apiProblems(res.error, { arrearsPaidDeclared: "declaration" }, res.response.status);
        await ctx.rerender();
        return;
      }
      submitProblems = noProblems();
      await ctx.navigate(`/claims/${claimId}/done`, true);
    });
  },
);

export const claimDonePage = page(async (ctx) => {
  const claimId = ctx.params["claim"]!;
  const c = await loadClaim(ctx.session!.org, claimId);
  return {
    title: "Claim submitted",
    body: html`${panel("Claim submitted", html`${monthName(claimId)}<br><strong>${pounds(c.reimbursablePence)}</strong> claimed`)}
      <h2>What happens next</h2>
      <p>The commissioner reviews the claim. They may approve it, lower a line with a reason, ask a question or reject it. You will see the outcome on the claim.</p>
      <p><a href="/claims/${claimId}">View the claim</a></p>
      <p><a href="/budget">See the budget</a></p>`,
  };
});

const actionLabels: Record<string, string> = {
  create: "Created",
  update: "Changed",
  submit: "Submitted",
  approve: "Approved",
  reject: "Rejected",
  query: "Queried",
  ask: "Question asked",
  reply: "Replied",
  withdraw: "Withdrawn",
  recordPayment: "Payment recorded",
  pay: "Payment recorded",
};

/** What a reviewer wrote, from the event's after-image. */
function note(afterJson: string | undefined): string {
  try {
    const after = JSON.parse(afterJson ?? "{}") as Record<string, unknown>;
    const v = after["reviewNote"] ?? after["review_note"] ?? after["ReviewNote"] ?? after["text"];
    return typeof v === "string" ? v : "";
  } catch {
    return "";
  }
}

export const claimHistoryPage = page(async (ctx: Ctx) => {
  const { pcn, claim } = ctx.params as { pcn: string; claim: string };
  const resource = `pcns/${pcn}/claims/${claim}`;
  const res = await api().GET("/v1/auditEvents", { params: { query: { resource, pageSize: 500 } } });
  if (res.response.status === 404) throw new NotFound();
  const events = res.data?.auditEvents ?? [];
  const back = ctx.session!.role.startsWith("pcn-") ? `/claims/${claim}` : `/review/${pcn}/${claim}`;
  return {
    title: `History of the claim for ${monthName(claim)}`,
    body: html`${backLink(back, `Claim for ${monthName(claim)}`)}
      <h1>History of the claim for ${monthName(claim)}</h1>
      <p>From the audit trail: every change to the claim and its lines, who made it and when.</p>
      <ol class="nhsuk-list arrs-timeline">${events.map((e) => {
        const part = e.resource?.includes("/messages/") ? " message" : " line";
        const line = e.resource && e.resource !== resource ? `${part} ${lastSegment(e.resource)}` : "";
        const said = ["query", "reject", "reply"].includes(e.action ?? "") ? note(e.afterJson) : "";
        return html`<li><h2 class="nhsuk-heading-s">${actionLabels[e.action ?? ""] ?? e.action}${line}</h2>
          ${said ? html`<p>“${said}”</p>` : ""}
          <p class="nhsuk-body-s">${longDate(e.eventTime)}, ${new Date(e.eventTime ?? "").toLocaleTimeString("en-GB", { timeZone: "Europe/London", hour: "2-digit", minute: "2-digit" })}, by ${e.subject} (${roleLabels[e.role ?? ""] ?? e.role})</p></li>`;
      })}</ol>`,
  };
});

/** The clinical director's declaration on a top-up: the arrears were paid before the claim. */
function declaration(error: string | undefined): Html {
  return html`<div class="nhsuk-form-group ${error ? "nhsuk-form-group--error" : ""}">
    <fieldset class="nhsuk-fieldset" aria-describedby="declaration-hint${error ? " declaration-error" : ""}">
      <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">Declaration</legend>
      <div class="nhsuk-hint" id="declaration-hint">Your name and the time are recorded with the claim and in its history.</div>
      ${error ? html`<span class="nhsuk-error-message" id="declaration-error"><span class="nhsuk-u-visually-hidden">Error:</span> ${error}</span>` : ""}
      <div class="nhsuk-checkboxes"><div class="nhsuk-checkboxes__item">
        <input class="nhsuk-checkboxes__input" id="declaration" name="declaration" type="checkbox" value="yes">
        <label class="nhsuk-label nhsuk-checkboxes__label" for="declaration">I declare, as clinical director, that the arrears in this claim were paid to the staff named before it was submitted</label>
      </div></div>
    </fieldset>
  </div>`;
}

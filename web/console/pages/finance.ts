// Commissioner finance: approved claims awaiting payment, recording a
// payment (check your answers first), and the month's claim lines as CSV.
import { html } from "../lib/html.js";
import { longDate, monthName, monthsBefore, pounds, today } from "../lib/format.js";
import { randomId } from "../lib/ids.js";
import { api } from "../lib/session.js";
import { apiProblems, backLink, button, dateInput, dateValue, errorSummary, hasProblems, input, insetText, noProblems, panel, summaryList, table, type Problems } from "../lib/ui.js";
import { NotFound } from "../main.js";
import { page, type Ctx, type PageOut } from "../routes.js";
import { loadClaim } from "./claim.js";

export async function paymentsPage(ctx: Ctx): Promise<PageOut> {
  const s = ctx.session!;
  const res = await api().GET("/v1/pcns/{pcn}/claims", { params: { path: { pcn: "-" }, query: { state: "STATE_APPROVED", pageSize: 500 } } });
  const claims = res.data?.claims ?? [];
  const total = claims.reduce((t, c) => t + BigInt(c.approvedPence || "0"), 0n).toString();
  return {
    title: "Approved claims awaiting payment",
    body: html`<span class="nhsuk-caption-l">${s.orgName}</span><h1>Approved claims awaiting payment</h1>
      ${claims.length
        ? table(
            `${claims.length} claim${claims.length === 1 ? "" : "s"} to pay`,
            ["Claim", "Approved on", "Approved", "Action"],
            claims.map((c) => {
              const [, pcn, , month] = (c.name ?? "").split("/");
              return [`${pcn}, ${monthName(month)}`, longDate(c.reviewTime), pounds(c.approvedPence), html`<a href="/payments/${pcn}/${month}">Record payment<span class="nhsuk-u-visually-hidden"> for ${pcn}, ${monthName(month)}</span></a>`];
            }),
            { numeric: [2], footer: [html`<strong>Total</strong>`, "", pounds(total), ""] },
          )
        : insetText("No approved claims are waiting for payment.")}
      <p><a href="/export">Download a month's claim lines (CSV)</a></p>`,
  };
}

interface PaymentForm {
  key: string;
  values: Record<string, string>;
  problems: Problems;
}
let form: PaymentForm | null = null;

function paymentDate(v: Record<string, string>): string | null {
  return dateValue("date", v);
}

export const paymentPage = page(
  async (ctx) => {
    const { pcn, claim } = ctx.params as { pcn: string; claim: string };
    const step = ctx.params["step"];
    const c = await loadClaim(pcn, claim);
    const key = `${pcn}/${claim}`;
    if (form?.key !== key) {
      const [y, m, d] = today().split("-");
      form = { key, values: { "date-day": String(Number(d)), "date-month": String(Number(m)), "date-year": y ?? "", reference: "", payee: "" }, problems: noProblems() };
    }
    const f = form;
    if (step === "done") {
      return {
        title: "Payment recorded",
        body: html`${panel("Payment recorded", html`${pcn}, ${monthName(claim)}<br><strong>${pounds(c.paidPence)}</strong> paid`)}
          <p>The claim is paid, which is final.</p><p><a href="/">Back to the claims awaiting payment</a></p>`,
      };
    }
    if (c.state !== "STATE_APPROVED") throw new NotFound();
    const back = backLink(step === "check" ? `/payments/${pcn}/${claim}` : "/", step === "check" ? "Change the payment" : "Claims awaiting payment");
    if (step === "check" && paymentDate(f.values) && f.values["reference"]) {
      return {
        title: "Check your answers before recording the payment",
        body: html`${back}${errorSummary(f.problems)}
          <h1>Check your answers before recording the payment</h1>
          ${summaryList([
            ["Claim", `${pcn}, ${monthName(claim)}`],
            ["Amount", html`<strong>${pounds(c.approvedPence)}</strong>`],
            ["Payment date", longDate(paymentDate(f.values) ?? "")],
            ["Reference", f.values["reference"] ?? ""],
            ["Payee", f.values["payee"] || "The PCN's nominated payee"],
          ])}
          <form id="record" novalidate><input type="hidden" name="etag" value="${c.etag ?? ""}">${button("Record payment")}</form>`,
      };
    }
    const dateError = f.problems.fields["date-day"];
    return {
      title: `${hasProblems(f.problems) ? "Error: " : ""}Record the payment`,
      body: html`${back}${errorSummary(f.problems)}
        <span class="nhsuk-caption-l">${pcn}, ${monthName(claim)}</span>
        <h1>Record the payment</h1>
        ${summaryList([["Approved", pounds(c.approvedPence)], ["Approved by", `${c.reviewer} on ${longDate(c.reviewTime)}`]])}
        <form id="payment" novalidate>
          ${dateInput({ id: "date", legend: "Payment date", hint: "For example, 2 12 2026", values: f.values, error: dateError })}
          ${input({ id: "reference", label: "Payment reference", hint: "The remittance reference, for example REM-0001", width: "20", value: f.values["reference"], error: f.problems.fields["reference"] })}
          ${input({ id: "payee", label: "Payee (optional)", hint: "Leave empty to pay the PCN's nominated payee", value: f.values["payee"], error: f.problems.fields["payee"] })}
          ${button("Continue")}
        </form>`,
    };
  },
  (el, ctx) => {
    const { pcn, claim } = ctx.params as { pcn: string; claim: string };
    el.querySelector("#payment")?.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (!form) return;
      form.values = Object.fromEntries([...new FormData(e.target as HTMLFormElement).entries()].map(([k, v]) => [k, String(v).trim()]));
      form.problems = noProblems();
      if (!paymentDate(form.values)) form.problems.fields["date-day"] = "Enter the payment date as a real date, like 2 12 2026";
      if (!form.values["reference"]) form.problems.fields["reference"] = "Enter the payment reference";
      if (hasProblems(form.problems)) await ctx.rerender();
      else await ctx.navigate(`/payments/${pcn}/${claim}/check`);
    });
    el.querySelector("#record")?.addEventListener("submit", async (e) => {
      e.preventDefault();
      if (!form) return;
      const etag = String(new FormData(e.target as HTMLFormElement).get("etag") ?? "");
      const res = await api().POST("/v1/pcns/{pcn}/claims/{claim}:recordPayment", {
        params: { path: { pcn, claim } },
        body: { etag, requestId: randomId(), payment: { paymentDate: paymentDate(form.values) ?? "", reference: form.values["reference"] ?? "", payee: form.values["payee"] ?? "" } },
      });
      if (res.error) {
        form.problems = apiProblems(res.error, { paymentDate: "date-day", reference: "reference", payee: "payee" }, res.response.status);
        await ctx.navigate(`/payments/${pcn}/${claim}`);
        return;
      }
      form = null;
      await ctx.navigate(`/payments/${pcn}/${claim}/done`, true);
    });
  },
);

let exportProblems: Problems = noProblems();

export const exportPage = page(
  async (ctx) => {
    const s = ctx.session!;
    const months = [1, 2, 3, 4, 5, 6].map((n) => monthsBefore(today(), n));
    const chosen = ctx.query.get("month") ?? months[0]!;
    return {
      title: "Download claim lines",
      body: html`${backLink("/", "Claims awaiting payment")}${errorSummary(exportProblems)}
        <span class="nhsuk-caption-l">${s.orgName}</span>
        <h1>Download a month's claim lines</h1>
        <p>Every line of the month's approved and paid claims, as CSV, for the ledger.</p>
        <form id="export" novalidate>
          <div class="nhsuk-form-group">
            <label class="nhsuk-label" for="month">Month</label>
            <select class="nhsuk-select" id="month" name="month">
              ${months.map((m) => html`<option value="${m}" ${m === chosen ? "selected" : ""}>${monthName(m)}</option>`)}
            </select>
          </div>
          ${button("Download CSV")}
        </form>
        <p id="download-status" class="nhsuk-body-s" aria-live="polite"></p>`,
    };
  },
  (el, ctx) => {
    el.querySelector("#export")?.addEventListener("submit", async (e) => {
      e.preventDefault();
      const month = String(new FormData(e.target as HTMLFormElement).get("month"));
      const res = await api().GET("/v1/commissioners/{commissioner}/claimLines:export", {
        params: { path: { commissioner: ctx.session!.org }, query: { month } },
        headers: { Accept: "text/csv" },
        parseAs: "text",
      });
      if (res.error !== undefined || typeof res.data !== "string") {
        exportProblems = apiProblems(res.error, {}, res.response.status);
        await ctx.rerender();
        return;
      }
      exportProblems = noProblems();
      const url = URL.createObjectURL(new Blob([res.data], { type: "text/csv" }));
      const a = document.createElement("a");
      a.href = url;
      a.download = `claim-lines-${ctx.session!.org}-${month}.csv`;
      a.hidden = true;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      const status = el.querySelector("#download-status");
      if (status) status.textContent = `Downloaded the claim lines for ${monthName(month)} (${res.data.split("\n").filter(Boolean).length - 1} lines).`;
    });
  },
);


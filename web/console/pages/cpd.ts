// The Training Hub CPD ledger. A practice manager sees the practice's
// allocation per scheme year (committed, paid, remaining), records CPD needs
// from appraisals and requests funding; a hub officer sees its practices'
// needs by topic, decides requests (approve, part-fund, reject, a place on a
// commissioned course, payment), and the fairness view. Every figure and
// flag (a stale need, what remains, what is fundable) is the server's.
import type { Resource } from "../../api/client.js";
import { html, type Html } from "../lib/html.js";
import { enumLabel, lastSegment, longDate, parsePounds, pounds } from "../lib/format.js";
import { randomId } from "../lib/ids.js";
import { api } from "../lib/session.js";
import { apiProblems, backLink, button, dateInput, dateValue, errorSummary, hasProblems, input, insetText, noProblems, stateTag, summaryList, table, textarea, type Problems } from "../lib/ui.js";
import { NotFound } from "../main.js";
import { page, type Ctx, type PageOut } from "../routes.js";

type Allocation = Resource<"v1CpdAllocation">;
type CpdRequest = Resource<"v1CpdRequest">;

/** "practices/K81001/cpdRequests/x" → "K81001". */
function practiceOf(name: string | undefined): string {
  return (name ?? "").split("/")[1] ?? "";
}

function allocationsTable(rows: Allocation[], withPractice: boolean): Html {
  return table(
    "Allocation by scheme year",
    [...(withPractice ? ["Practice"] : []), "Scheme", "Year", "Allocation", "Committed", "Paid", "Remaining"],
    rows.map((a) => [
      ...(withPractice ? [lastSegment(a.practice)] : []),
      lastSegment(a.scheme),
      a.financialYear ?? "",
      pounds(a.allocationPence),
      pounds(a.committedPence),
      pounds(a.paidPence),
      html`<strong>${pounds(a.remainingPence)}</strong>`,
    ]),
    { numeric: withPractice ? [3, 4, 5, 6] : [2, 3, 4, 5] },
  );
}

function requestsTable(caption: string, rows: CpdRequest[], action?: (r: CpdRequest) => Html): Html {
  return table(
    caption,
    ["Practice", "Professional", "Course", "Cost", "Funded", "Status", ...(action ? ["Action"] : [])],
    rows.map((r) => [
      practiceOf(r.name),
      r.professional ?? "",
      html`${r.courseTitle ?? ""}<br><span class="nhsuk-body-s">${r.provider ?? ""}, ${longDate(r.startDate)}</span>`,
      pounds(r.costPence),
      pounds(r.fundedPence),
      html`${stateTag(r.state)}${r.rejectionReason ? html`<br><span class="nhsuk-body-s">${r.rejectionReason}</span>` : ""}`,
      ...(action ? [action(r)] : []),
    ]),
    { numeric: [3, 4] },
  );
}

export const practiceCpdPage = page(async (ctx) => {
  const s = ctx.session!;
  const client = api();
  const practice = s.org;
  const [allocs, needs, reqs] = await Promise.all([
    client.GET("/v1/practices/{practice}/cpdAllocations", { params: { path: { practice }, query: { pageSize: 500 } } }),
    client.GET("/v1/practices/{practice}/cpdNeeds", { params: { path: { practice }, query: { pageSize: 500 } } }),
    client.GET("/v1/practices/{practice}/cpdRequests", { params: { path: { practice }, query: { pageSize: 500 } } }),
  ]);
  const needRows = needs.data?.cpdNeeds ?? [];
  return {
    title: "CPD funding",
    body: html`<span class="nhsuk-caption-l">${s.orgName}</span><h1>CPD funding</h1>
      <p>Your Training Hub holds the practice's CPD allocation. It pays for learning that meets needs from appraisals, not for backfill, administrative costs, equipment or mandatory training.</p>
      ${allocationsTable(allocs.data?.cpdAllocations ?? [], false)}
      <h2>CPD needs from appraisals</h2>
      ${needRows.length
        ? table(
            "CPD needs",
            ["Professional", "Topic", "Need", "Appraisal"],
            needRows.map((n) => [
              n.professional ?? "",
              n.topic ?? "",
              n.need ?? "",
              html`${longDate(n.appraisalDate)}${n.stale ? html`<br><strong class="nhsuk-tag nhsuk-tag--orange">Over 15 months ago</strong>` : ""}`,
            ]),
          )
        : insetText("No CPD needs recorded yet.")}
      <p><a href="/cpd/needs/new">Record a CPD need</a></p>
      <h2>Funding requests</h2>
      ${requestsTable("Funding requests", reqs.data?.cpdRequests ?? [])}
      ${needRows.length ? html`<p><a href="/cpd/requests/new">Request funding</a></p>` : ""}`,
  };
});

interface Form {
  values: Record<string, string>;
  problems: Problems;
}
let needForm: Form = { values: {}, problems: noProblems() };
let requestForm: Form = { values: {}, problems: noProblems() };

function formValues(e: Event): Record<string, string> {
  return Object.fromEntries([...new FormData(e.target as HTMLFormElement).entries()].map(([k, v]) => [k, String(v).trim()]));
}

function radios(name: string, legend: string, options: [string, string][], value: string | undefined, error?: string): Html {
  return html`<div class="nhsuk-form-group ${error ? "nhsuk-form-group--error" : ""}">
    <fieldset class="nhsuk-fieldset" ${error ? html`aria-describedby="${name}-error"` : ""}>
      <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">${legend}</legend>
      ${error ? html`<span class="nhsuk-error-message" id="${name}-error"><span class="nhsuk-u-visually-hidden">Error:</span> ${error}</span>` : ""}
      <div class="nhsuk-radios">${options.map(
        ([v, label], i) => html`<div class="nhsuk-radios__item">
          <input class="nhsuk-radios__input" id="${i === 0 ? name : `${name}-${i}`}" name="${name}" type="radio" value="${v}" ${v === value ? "checked" : ""}>
          <label class="nhsuk-label nhsuk-radios__label" for="${i === 0 ? name : `${name}-${i}`}">${label}</label></div>`,
      )}</div>
    </fieldset></div>`;
}

export const newNeedPage = page(
  async (ctx) => {
    const f = needForm;
    return {
      title: `${hasProblems(f.problems) ? "Error: " : ""}Record a CPD need`,
      body: html`${backLink("/cpd", "CPD funding")}${errorSummary(f.problems)}
        <span class="nhsuk-caption-l">${ctx.session!.orgName}</span><h1>Record a CPD need</h1>
        <form id="need-form" novalidate>
          ${input({ id: "professional", label: "Professional", hint: "Their name, or the practice's reference for them", value: f.values["professional"], error: f.problems.fields["professional"] })}
          ${radios("staffGroup", "Staff group", [["CPD_STAFF_GROUP_REGISTERED_NURSE", "Registered nurse"], ["CPD_STAFF_GROUP_ALLIED_HEALTH_PROFESSIONAL", "Allied health professional (including occupational therapists)"]], f.values["staffGroup"], f.problems.fields["staffGroup"])}
          ${dateInput({ id: "appraisal", legend: "Date of the appraisal", hint: "For example, 15 3 2026", values: f.values, error: f.problems.fields["appraisal-day"] })}
          ${textarea({ id: "need", label: "The need, as the appraisal records it", value: f.values["need"], error: f.problems.fields["need"] })}
          ${input({ id: "topic", label: "Topic", hint: "For example, Diabetes or Frailty: the hub groups needs by topic", value: f.values["topic"], error: f.problems.fields["topic"] })}
          ${input({ id: "preferredCourse", label: "Preferred course (optional)", value: f.values["preferredCourse"], error: f.problems.fields["preferredCourse"] })}
          ${button("Record need")}
        </form>`,
    };
  },
  (el, ctx) => {
    el.querySelector("#need-form")?.addEventListener("submit", async (e) => {
      e.preventDefault();
      needForm.values = formValues(e);
      const v = needForm.values;
      const res = await api().POST("/v1/practices/{practice}/cpdNeeds", {
        params: { path: { practice: ctx.session!.org }, query: { requestId: randomId() } },
        body: {
          professional: v["professional"],
          staffGroup: (v["staffGroup"] ?? "CPD_STAFF_GROUP_UNSPECIFIED") as Resource<"v1CpdNeed">["staffGroup"],
          appraisalDate: dateValue("appraisal", v) ?? "",
          need: v["need"],
          topic: v["topic"],
          preferredCourse: v["preferredCourse"],
        },
      });
      if (res.error) {
        needForm.problems = apiProblems(res.error, { professional: "professional", staffGroup: "staffGroup", appraisalDate: "appraisal-day", need: "need", topic: "topic", preferredCourse: "preferredCourse" }, res.response.status);
        await ctx.rerender();
        return;
      }
      needForm = { values: {}, problems: noProblems() };
      await ctx.navigate("/cpd");
    });
  },
);

const categories: [string, string][] = [
  ["CATEGORY_COURSE", "A course"],
  ["CATEGORY_CONFERENCE", "A conference"],
  ["CATEGORY_E_LEARNING", "E-learning"],
  ["CATEGORY_QUALIFICATION", "A qualification"],
  ["CATEGORY_BACKFILL", "Backfill while the professional trains"],
  ["CATEGORY_ADMINISTRATIVE", "Administrative costs"],
  ["CATEGORY_EQUIPMENT", "Equipment"],
  ["CATEGORY_MANDATORY_TRAINING", "Mandatory or statutory training"],
];

export const newRequestPage = page(
  async (ctx) => {
    const s = ctx.session!;
    const client = api();
    const [needs, allocs] = await Promise.all([
      client.GET("/v1/practices/{practice}/cpdNeeds", { params: { path: { practice: s.org }, query: { pageSize: 500 } } }),
      client.GET("/v1/practices/{practice}/cpdAllocations", { params: { path: { practice: s.org }, query: { pageSize: 500 } } }),
    ]);
    const schemes = [...new Set((allocs.data?.cpdAllocations ?? []).map((a) => a.scheme ?? ""))].reverse();
    const f = requestForm;
    const select = (id: string, label: string, options: [string, string][]) => html`<div class="nhsuk-form-group ${f.problems.fields[id] ? "nhsuk-form-group--error" : ""}">
      <label class="nhsuk-label" for="${id}">${label}</label>
      ${f.problems.fields[id] ? html`<span class="nhsuk-error-message" id="${id}-error"><span class="nhsuk-u-visually-hidden">Error:</span> ${f.problems.fields[id]}</span>` : ""}
      <select class="nhsuk-select" id="${id}" name="${id}">${options.map(([v, t]) => html`<option value="${v}" ${f.values[id] === v ? "selected" : ""}>${t}</option>`)}</select></div>`;
    return {
      title: `${hasProblems(f.problems) ? "Error: " : ""}Request CPD funding`,
      body: html`${backLink("/cpd", "CPD funding")}${errorSummary(f.problems)}
        <span class="nhsuk-caption-l">${s.orgName}</span><h1>Request CPD funding</h1>
        <form id="request" novalidate>
          ${select("need", "The need it meets", (needs.data?.cpdNeeds ?? []).map((n) => [n.name ?? "", `${n.professional}: ${n.topic}`]))}
          ${select("scheme", "Scheme", schemes.map((sc) => [sc, lastSegment(sc)]))}
          ${radios("category", "What it pays for", categories, f.values["category"], f.problems.fields["category"])}
          ${input({ id: "courseTitle", label: "Course or event", value: f.values["courseTitle"], error: f.problems.fields["courseTitle"] })}
          ${input({ id: "provider", label: "Provider", value: f.values["provider"], error: f.problems.fields["provider"] })}
          ${dateInput({ id: "start", legend: "First day", hint: "For example, 10 1 2027", values: f.values, error: f.problems.fields["start-day"] })}
          ${dateInput({ id: "end", legend: "Last day", hint: "No later than the scheme's end", values: f.values, error: f.problems.fields["end-day"] })}
          ${input({ id: "cost", label: "Cost", prefix: "£", width: "10", inputmode: "decimal", value: f.values["cost"], error: f.problems.fields["cost"] })}
          ${button("Send request")}
        </form>`,
    };
  },
  (el, ctx) => {
    el.querySelector("#request")?.addEventListener("submit", async (e) => {
      e.preventDefault();
      requestForm.values = formValues(e);
      const v = requestForm.values;
      const cost = parsePounds(v["cost"] ?? "");
      if (cost === null) {
        requestForm.problems = { fields: { cost: "Enter the cost in pounds, like 350.00" }, general: [] };
        await ctx.rerender();
        return;
      }
      const res = await api().POST("/v1/practices/{practice}/cpdRequests", {
        params: { path: { practice: ctx.session!.org }, query: { requestId: randomId() } },
        body: {
          need: v["need"],
          scheme: v["scheme"],
          category: (v["category"] ?? "CATEGORY_UNSPECIFIED") as Resource<"v1CpdRequest">["category"],
          courseTitle: v["courseTitle"],
          provider: v["provider"],
          startDate: dateValue("start", v) ?? "",
          endDate: dateValue("end", v) ?? "",
          costPence: cost,
        },
      });
      if (res.error) {
        requestForm.problems = apiProblems(res.error, { need: "need", scheme: "scheme", category: "category", courseTitle: "courseTitle", provider: "provider", startDate: "start-day", endDate: "end-day", costPence: "cost" }, res.response.status);
        await ctx.rerender();
        return;
      }
      requestForm = { values: {}, problems: noProblems() };
      await ctx.navigate("/cpd");
    });
  },
);

/** The hub's current scheme: the newest with an allocation. */
function newestScheme(allocs: Allocation[]): string {
  return [...allocs].sort((a, b) => (a.financialYear ?? "").localeCompare(b.financialYear ?? "")).pop()?.scheme ?? "";
}

export async function hubPage(ctx: Ctx): Promise<PageOut> {
  const s = ctx.session!;
  const client = api();
  const hub = s.org;
  const [summary, reqs, allocs, courses] = await Promise.all([
    client.GET("/v1/trainingHubs/{trainingHub}/cpdNeedSummary", { params: { path: { trainingHub: hub } } }),
    client.GET("/v1/practices/{practice}/cpdRequests", { params: { path: { practice: "-" }, query: { pageSize: 500 } } }),
    client.GET("/v1/practices/{practice}/cpdAllocations", { params: { path: { practice: "-" }, query: { pageSize: 500 } } }),
    client.GET("/v1/trainingHubs/{trainingHub}/courses", { params: { path: { trainingHub: hub }, query: { pageSize: 500 } } }),
  ]);
  const all = reqs.data?.cpdRequests ?? [];
  const allocRows = allocs.data?.cpdAllocations ?? [];
  const scheme = newestScheme(allocRows);
  const fairness = scheme
    ? (await client.GET("/v1/trainingHubs/{trainingHub}/cpdFairness", { params: { path: { trainingHub: hub }, query: { scheme } } })).data
    : undefined;
  const decide = (r: CpdRequest) => html`<a href="/hub/requests/${practiceOf(r.name)}/${lastSegment(r.name)}">Decide<span class="nhsuk-u-visually-hidden"> on ${r.professional}'s request</span></a>`;
  const pay = (r: CpdRequest) => html`<a href="/hub/requests/${practiceOf(r.name)}/${lastSegment(r.name)}">Record payment<span class="nhsuk-u-visually-hidden"> for ${r.professional}'s request</span></a>`;
  const waiting = all.filter((r) => r.state === "STATE_SUBMITTED");
  const toPay = all.filter((r) => r.state === "STATE_APPROVED" || r.state === "STATE_PART_FUNDED");
  const decided = all.filter((r) => r.state === "STATE_REJECTED" || r.state === "STATE_PAID");
  return {
    title: "CPD ledger",
    body: html`<span class="nhsuk-caption-l">${s.orgName}</span><h1>CPD ledger</h1>
      <h2>Needs by topic</h2>
      ${table(
        "Needs from appraisals across your practices",
        ["Topic", "Needs", "Practices", "Appraisal over 15 months ago"],
        (summary.data?.topics ?? []).map((t) => [t.topic ?? "", String(t.needs ?? 0), String(t.practices ?? 0), String(t.stale ?? 0)]),
        { numeric: [1, 2, 3] },
      )}
      <h2>Requests waiting for a decision</h2>
      ${waiting.length ? requestsTable("Requests waiting for a decision", waiting, decide) : insetText("No requests are waiting.")}
      <h2>Funded, awaiting payment to the provider</h2>
      ${toPay.length ? requestsTable("Funded requests awaiting payment", toPay, pay) : insetText("Nothing is awaiting payment.")}
      <h2>Paid and rejected</h2>
      ${requestsTable("Paid and rejected requests", decided)}
      <h2>Commissioned courses</h2>
      ${table(
        "Commissioned courses",
        ["Course", "Topic", "Date", "Places taken", "Cost per place"],
        (courses.data?.cpdCourses ?? []).map((c) => [html`${c.title ?? ""}<br><span class="nhsuk-body-s">${c.provider ?? ""}</span>`, c.topic ?? "", longDate(c.startDate), `${c.placesAllocated ?? 0} of ${c.places ?? 0}`, pounds(c.costPerPlacePence)]),
        { numeric: [3, 4] },
      )}
      <h2>Allocations</h2>
      ${allocationsTable(allocRows, true)}
      <h2>Fairness: ${lastSegment(scheme)}</h2>
      ${table(
        "Spend per head by practice",
        ["Practice", "Eligible staff", "Allocation", "Committed", "Spend per head"],
        (fairness?.practices ?? []).map((p) => [lastSegment(p.practice), String(p.eligibleHeadcount ?? 0), pounds(p.allocationPence), pounds(p.committedPence), pounds(p.spendPerHeadPence)]),
        { numeric: [1, 2, 3, 4] },
      )}
      ${(fairness?.unfunded ?? []).length
        ? table(
            "Professionals with needs and no CPD funded yet",
            ["Practice", "Professional", "Needs"],
            (fairness?.unfunded ?? []).map((u) => [lastSegment(u.practice), u.professional ?? "", String(u.needs ?? 0)]),
            { numeric: [2] },
          )
        : insetText("Every professional with a need has had CPD funded.")}`,
  };
}

let decision: { key: string; problems: Problems; done: string; values: Record<string, string> } = { key: "", problems: noProblems(), done: "", values: {} };

export const hubRequestPage = page(
  async (ctx) => {
    const { practice, request } = ctx.params as { practice: string; request: string };
    const client = api();
    const res = await client.GET("/v1/practices/{practice}/cpdRequests/{cpdRequest}", { params: { path: { practice, cpdRequest: request } } });
    if (res.response.status === 404 || !res.data) throw new NotFound();
    const r = res.data;
    const key = `${practice}/${request}`;
    if (decision.key !== key) decision = { key, problems: noProblems(), done: "", values: {} };
    const allocs = (await client.GET("/v1/practices/{practice}/cpdAllocations", { params: { path: { practice }, query: { pageSize: 500 } } })).data?.cpdAllocations ?? [];
    const alloc = allocs.find((a) => a.scheme === r.scheme && a.financialYear === r.financialYear);
    const courses = (await client.GET("/v1/trainingHubs/{trainingHub}/courses", { params: { path: { trainingHub: ctx.session!.org }, query: { pageSize: 500 } } })).data?.cpdCourses ?? [];
    const submitted = r.state === "STATE_SUBMITTED";
    const funded = r.state === "STATE_APPROVED" || r.state === "STATE_PART_FUNDED";
    return {
      title: `${hasProblems(decision.problems) ? "Error: " : ""}${r.professional}: ${r.courseTitle}`,
      body: html`${backLink("/", "CPD ledger")}${errorSummary(decision.problems)}
        ${decision.done ? html`<div class="nhsuk-inset-text"><span class="nhsuk-u-visually-hidden">Information: </span><p>${decision.done}</p></div>` : ""}
        <span class="nhsuk-caption-l">Practice ${practice}</span><h1>${r.professional}: ${r.courseTitle}</h1>
        ${summaryList([
          ["Status", stateTag(r.state)],
          ["Need it meets", lastSegment(r.need)],
          ["What it pays for", enumLabel(r.category, "CATEGORY_")],
          ["Provider", r.provider ?? ""],
          ["Dates", `${longDate(r.startDate)} to ${longDate(r.endDate)}`],
          ["Cost", pounds(r.costPence)],
          ["Funded", pounds(r.fundedPence)],
          ["Scheme year", `${lastSegment(r.scheme)}, ${r.financialYear}`],
          ["Remaining in the allocation", html`<strong>${pounds(alloc?.remainingPence)}</strong>`],
          ...(r.course ? ([["Place on", lastSegment(r.course)]] as [string, string][]) : []),
          ...(r.rejectionReason ? ([["Reason for rejection", r.rejectionReason]] as [string, string][]) : []),
          ...(r.paymentDate ? ([["Paid to the provider", `${longDate(r.paymentDate)}, reference ${r.paymentReference ?? ""}`]] as [string, string][]) : []),
        ])}
        ${submitted
          ? html`<form id="approve" novalidate>${button("Approve the whole cost")}</form>
            <h2>Part-fund</h2>
            <form id="part-fund" novalidate>
              ${input({ id: "funded", label: "Amount to fund", hint: "Less than the cost, at most what remains. Leave empty to fund what remains.", prefix: "£", width: "10", inputmode: "decimal", error: decision.problems.fields["funded"] })}
              ${button("Part-fund", { secondary: true })}
            </form>
            ${courses.length && !r.course
              ? html`<h2>Give a place on a commissioned course</h2>
                <form id="place" novalidate><div class="nhsuk-form-group"><label class="nhsuk-label" for="course">Course</label>
                <select class="nhsuk-select" id="course" name="course">${courses.map((c) => html`<option value="${c.name ?? ""}">${c.title} (${longDate(c.startDate)}, ${c.placesAllocated} of ${c.places} places taken)</option>`)}</select></div>
                ${button("Allocate a place", { secondary: true })}</form>`
              : ""}
            <h2>Reject</h2>
            <form id="reject" novalidate>
              ${textarea({ id: "reason", label: "Reason, for the practice", error: decision.problems.fields["reason"] })}
              ${button("Reject", { warning: true })}
            </form>`
          : ""}
        ${funded
          ? html`<h2>Payment to the provider</h2>
            <form id="pay" novalidate>
              ${dateInput({ id: "paid", legend: "Date paid", hint: "For example, 30 11 2026", values: decision.values, error: decision.problems.fields["paid-day"] })}
              ${input({ id: "payment-reference", label: "Payment reference", hint: "The remittance reference, for example FTH-REM-0042", width: "20", value: decision.values["payment-reference"], error: decision.problems.fields["payment-reference"] })}
              ${button(`Record payment of ${pounds(r.fundedPence)} to ${r.provider}`)}
            </form>`
          : ""}`,
    };
  },
  (el, ctx) => {
    const { practice, request } = ctx.params as { practice: string; request: string };
    const path = { practice, cpdRequest: request };
    const after = async (res: { error?: unknown; response: Response }, done: string, fields: Record<string, string> = {}) => {
      if (res.error) decision = { ...decision, problems: apiProblems(res.error, fields, res.response.status), done: "" };
      else decision = { key: decision.key, problems: noProblems(), done, values: {} };
      await ctx.rerender();
    };
    const on = (id: string, f: (e: Event) => Promise<void>) =>
      el.querySelector(`#${id}`)?.addEventListener("submit", (e) => {
        e.preventDefault();
        void f(e);
      });
    on("approve", async () => after(await api().POST("/v1/practices/{practice}/cpdRequests/{cpdRequest}:approve", { params: { path }, body: { requestId: randomId() } }), "Approved: the whole cost is funded."));
    on("part-fund", async (e) => {
      const amount = parsePounds(formValues(e)["funded"] ?? "");
      if (amount === null) {
        decision.problems = { fields: { funded: "Enter the amount in pounds, like 250.00" }, general: [] };
        await ctx.rerender();
        return;
      }
      await after(await api().POST("/v1/practices/{practice}/cpdRequests/{cpdRequest}:partFund", { params: { path }, body: { fundedPence: amount, requestId: randomId() } }), "Part-funded.", { fundedPence: "funded" });
    });
    on("place", async (e) =>
      after(await api().POST("/v1/practices/{practice}/cpdRequests/{cpdRequest}:allocatePlace", { params: { path }, body: { course: formValues(e)["course"], requestId: randomId() } }), "A place on the course is allocated."),
    );
    on("reject", async (e) =>
      after(await api().POST("/v1/practices/{practice}/cpdRequests/{cpdRequest}:reject", { params: { path }, body: { reason: formValues(e)["reason"], requestId: randomId() } }), "Rejected.", { reason: "reason" }),
    );
    on("pay", async (e) => {
      const v = formValues(e);
      decision.values = v;
      const paid = dateValue("paid", v);
      const reference = (v["payment-reference"] ?? "").trim();
      if (!paid || !reference) {
        decision.problems = { fields: {}, general: [] };
        decision.done = "";
        if (!paid) decision.problems.fields["paid-day"] = "Enter the date paid as a real date, like 30 11 2026";
        if (!reference) decision.problems.fields["payment-reference"] = "Enter the payment reference";
        await ctx.rerender();
        return;
      }
      await after(
        await api().POST("/v1/practices/{practice}/cpdRequests/{cpdRequest}:recordPayment", { params: { path }, body: { paymentDate: paid, reference, requestId: randomId() } }),
        "Payment recorded.",
        { paymentDate: "paid-day", reference: "payment-reference" },
      );
    });
  },
);

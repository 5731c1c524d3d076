// NHS England: the audit chain checked, with its result.
import { html } from "../lib/html.js";
import { button, insetText, summaryList, warning } from "../lib/ui.js";
import type { Ctx, PageOut } from "../routes.js";

export async function auditPage(_ctx: Ctx): Promise<PageOut> {
  const stored = sessionStorage.getItem("arrs.verify");
  const result = stored ? (JSON.parse(stored) as { ok?: boolean; eventsChecked?: string; firstBadSeq?: string; problem?: string; message?: string }) : null;
  return {
    title: "Audit trail",
    body: html`<span class="nhsuk-caption-l">NHS England</span><h1>Audit trail</h1>
      <p>Every write is an event whose hash covers the one before. Checking the chain recomputes every hash: an event altered or deleted, even directly in the database, is found.</p>
      ${result
        ? result.ok
          ? insetText(html`<strong>The chain is intact.</strong> ${result.eventsChecked} events checked.`)
          : warning("The chain is broken", summaryList([["First broken event", result.firstBadSeq ?? ""], ["Problem", result.problem ?? result.message ?? ""]]))
        : ""}
      <form id="verify" novalidate>${button("Check the audit chain")}</form>`,
  };
}

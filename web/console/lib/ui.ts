// NHS.UK frontend components as markup (the published class names), and the
// API's errors turned into an error summary and messages next to fields.
import type { Schemas } from "../../api/client.js";
import { html, Html } from "./html.js";
import { enumLabel } from "./format.js";

const tagColours: Record<string, string> = {
  STATE_DRAFT: "nhsuk-tag--grey",
  STATE_SUBMITTED: "nhsuk-tag--blue",
  STATE_QUERIED: "nhsuk-tag--orange",
  STATE_APPROVED: "nhsuk-tag--aqua-green",
  STATE_PAID: "nhsuk-tag--green",
  STATE_REJECTED: "nhsuk-tag--red",
  STATE_WITHDRAWN: "nhsuk-tag--grey",
  STATE_PART_FUNDED: "nhsuk-tag--yellow", // a CPD request
};

export function stateTag(state: string | undefined): Html {
  return html`<strong class="nhsuk-tag ${tagColours[state ?? ""] ?? ""}">${enumLabel(state)}</strong>`;
}

export function summaryList(rows: [string, Html | string][]): Html {
  return html`<dl class="nhsuk-summary-list">${rows.map(
    ([k, v]) => html`<div class="nhsuk-summary-list__row"><dt class="nhsuk-summary-list__key">${k}</dt><dd class="nhsuk-summary-list__value">${v}</dd></div>`,
  )}</dl>`;
}

export function panel(title: string, body: Html | string): Html {
  return html`<div class="nhsuk-panel nhsuk-panel--confirmation"><h1 class="nhsuk-panel__title" tabindex="-1">${title}</h1><div class="nhsuk-panel__body">${body}</div></div>`;
}

export function backLink(href: string, text = "Back"): Html {
  return html`<div class="nhsuk-back-link"><a class="nhsuk-back-link__link" href="${href}">${text}</a></div>`;
}

export function insetText(body: Html | string): Html {
  return html`<div class="nhsuk-inset-text"><span class="nhsuk-u-visually-hidden">Information: </span>${body}</div>`;
}

export function warning(heading: string, body: Html | string): Html {
  return html`<div class="nhsuk-warning-callout"><h2 class="nhsuk-warning-callout__label"><span role="text"><span class="nhsuk-u-visually-hidden">Important: </span>${heading}</span></h2>${body}</div>`;
}

/** A text input with its label, hint and error message. */
export function input(opts: { id: string; label: string; hint?: string; value?: string; error?: string; prefix?: string; width?: string; type?: string; inputmode?: string; autocomplete?: string }): Html {
  const describedBy = [opts.hint ? `${opts.id}-hint` : "", opts.error ? `${opts.id}-error` : ""].filter(Boolean).join(" ");
  const field = html`<input class="nhsuk-input ${opts.width ? `nhsuk-input--width-${opts.width}` : ""} ${opts.error ? "nhsuk-input--error" : ""}" id="${opts.id}" name="${opts.id}" type="${opts.type ?? "text"}" value="${opts.value ?? ""}" ${opts.inputmode ? html`inputmode="${opts.inputmode}"` : ""} ${describedBy ? html`aria-describedby="${describedBy}"` : ""} autocomplete="${opts.autocomplete ?? "off"}">`;
  return html`<div class="nhsuk-form-group ${opts.error ? "nhsuk-form-group--error" : ""}">
    <label class="nhsuk-label" for="${opts.id}">${opts.label}</label>
    ${opts.hint ? html`<div class="nhsuk-hint" id="${opts.id}-hint">${opts.hint}</div>` : ""}
    ${opts.error ? html`<span class="nhsuk-error-message" id="${opts.id}-error"><span class="nhsuk-u-visually-hidden">Error:</span> ${opts.error}</span>` : ""}
    ${opts.prefix ? html`<div class="nhsuk-input-wrapper"><div class="nhsuk-input__prefix" aria-hidden="true">${opts.prefix}</div>${field}</div>` : field}
  </div>`;
}

export function textarea(opts: { id: string; label: string; hint?: string; value?: string; error?: string }): Html {
  const describedBy = [opts.hint ? `${opts.id}-hint` : "", opts.error ? `${opts.id}-error` : ""].filter(Boolean).join(" ");
  return html`<div class="nhsuk-form-group ${opts.error ? "nhsuk-form-group--error" : ""}">
    <label class="nhsuk-label" for="${opts.id}">${opts.label}</label>
    ${opts.hint ? html`<div class="nhsuk-hint" id="${opts.id}-hint">${opts.hint}</div>` : ""}
    ${opts.error ? html`<span class="nhsuk-error-message" id="${opts.id}-error"><span class="nhsuk-u-visually-hidden">Error:</span> ${opts.error}</span>` : ""}
    <textarea class="nhsuk-textarea ${opts.error ? "nhsuk-textarea--error" : ""}" id="${opts.id}" name="${opts.id}" rows="4" ${describedBy ? html`aria-describedby="${describedBy}"` : ""}>${opts.value ?? ""}</textarea>
  </div>`;
}

export function button(text: string, opts: { secondary?: boolean; warning?: boolean; id?: string; type?: string } = {}): Html {
  const cls = opts.secondary ? "nhsuk-button--secondary" : opts.warning ? "nhsuk-button--warning" : "";
  return html`<button class="nhsuk-button ${cls}" data-module="nhsuk-button" type="${opts.type ?? "submit"}" ${opts.id ? html`id="${opts.id}"` : ""}>${text}</button>`;
}

/** Field errors by form field id, and errors that belong to no field. */
export interface Problems {
  fields: Record<string, string>;
  general: string[];
}

export function noProblems(): Problems {
  return { fields: {}, general: [] };
}

export function hasProblems(p: Problems): boolean {
  return p.general.length > 0 || Object.keys(p.fields).length > 0;
}

/**
 * The API's error as problems: each BadRequest field violation on the form
 * field fieldIds maps it to (by the violation's last path segment, in
 * lowerCamelCase), the rest as general messages.
 */
export function apiProblems(error: unknown, fieldIds: Record<string, string> = {}, status?: number): Problems {
  const p = noProblems();
  const st = error as Schemas["rpcStatus"] | undefined;
  let placed = false;
  for (const d of st?.details ?? []) {
    if (d["@type"] !== "type.googleapis.com/google.rpc.BadRequest") continue;
    for (const v of (d["fieldViolations"] as { field?: string; description?: string }[] | undefined) ?? []) {
      const last = (v.field ?? "").split(".").pop() ?? "";
      const camel = last.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
      const id = fieldIds[camel];
      if (id) {
        p.fields[id] = sentence(v.description ?? "Check this");
        placed = true;
      } else {
        p.general.push(sentence(v.description ?? v.field ?? "Check your answers"));
      }
    }
  }
  if (!placed && p.general.length === 0) {
    p.general.push(st?.message ? sentence(st.message) : `Something went wrong${status ? ` (${status})` : ""}. Try again.`);
  }
  return p;
}

function sentence(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** The error summary: first on the page, each field error linking to its field. */
export function errorSummary(p: Problems): Html {
  if (!hasProblems(p)) return html``;
  return html`<div class="nhsuk-error-summary" data-module="nhsuk-error-summary" aria-labelledby="error-summary-title" role="alert" tabindex="-1">
    <h2 class="nhsuk-error-summary__title" id="error-summary-title">There is a problem</h2>
    <div class="nhsuk-error-summary__body"><ul class="nhsuk-list nhsuk-error-summary__list">
      ${p.general.map((m) => html`<li>${m}</li>`)}
      ${Object.entries(p.fields).map(([id, m]) => html`<li><a href="#${id}">${m}</a></li>`)}
    </ul></div></div>`;
}

export function table(caption: string, head: string[], rows: (Html | string)[][], opts: { numeric?: number[]; footer?: (Html | string)[] } = {}): Html {
  const num = new Set(opts.numeric ?? []);
  const cell = (c: Html | string, i: number, tag: "td" | "th") =>
    html`<${new Html(tag)} class="nhsuk-table__cell ${num.has(i) ? "nhsuk-table__cell--numeric" : ""}" ${tag === "th" ? html`scope="row"` : ""}><span class="nhsuk-table-responsive__heading" aria-hidden="true">${head[i] ?? ""} </span>${c}</${new Html(tag)}>`;
  return html`<table class="nhsuk-table-responsive">
    <caption class="nhsuk-table__caption">${caption}</caption>
    <thead class="nhsuk-table__head"><tr class="nhsuk-table__row">${head.map((h, i) => html`<th class="nhsuk-table__header ${num.has(i) ? "nhsuk-table__header--numeric" : ""}" scope="col">${h}</th>`)}</tr></thead>
    <tbody class="nhsuk-table__body">${rows.map((r) => html`<tr class="nhsuk-table__row">${r.map((c, i) => cell(c, i, "td"))}</tr>`)}
    ${opts.footer ? html`<tr class="nhsuk-table__row arrs-total">${opts.footer.map((c, i) => cell(c, i, "td"))}</tr>` : ""}</tbody>
  </table>`;
}

/** The NHS date input: day, month and year fields named `${id}-day` etc. */
export function dateInput(opts: { id: string; legend: string; hint: string; values: Record<string, string>; error?: string }): Html {
  const { id, error } = opts;
  return html`<div class="nhsuk-form-group ${error ? "nhsuk-form-group--error" : ""}">
    <fieldset class="nhsuk-fieldset" role="group" aria-describedby="${id}-hint${error ? ` ${id}-error` : ""}">
      <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">${opts.legend}</legend>
      <div class="nhsuk-hint" id="${id}-hint">${opts.hint}</div>
      ${error ? html`<span class="nhsuk-error-message" id="${id}-error"><span class="nhsuk-u-visually-hidden">Error:</span> ${error}</span>` : ""}
      <div class="nhsuk-date-input">
        ${(
          [
            ["day", "Day", "2"],
            ["month", "Month", "2"],
            ["year", "Year", "4"],
          ] as const
        ).map(
          ([part, label, w]) => html`<div class="nhsuk-date-input__item"><div class="nhsuk-form-group">
            <label class="nhsuk-label nhsuk-date-input__label" for="${id}-${part}">${label}</label>
            <input class="nhsuk-input nhsuk-date-input__input nhsuk-input--width-${w} ${error ? "nhsuk-input--error" : ""}" id="${id}-${part}" name="${id}-${part}" type="text" inputmode="numeric" value="${opts.values[`${id}-${part}`] ?? ""}">
          </div></div>`,
        )}
      </div>
    </fieldset>
  </div>`;
}

/** The date a date input holds, YYYY-MM-DD, or null if it is not a real date. */
export function dateValue(id: string, v: Record<string, string>): string | null {
  const d = Number(v[`${id}-day`]);
  const m = Number(v[`${id}-month`]);
  const y = Number(v[`${id}-year`]);
  if (!Number.isInteger(d) || !Number.isInteger(m) || !Number.isInteger(y) || y < 2000 || m < 1 || m > 12 || d < 1 || d > 31) return null;
  const iso = `${y}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
  return new Date(`${iso}T00:00:00Z`).getUTCDate() === d ? iso : null;
}

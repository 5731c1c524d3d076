// The arrs web console: a small single-page app over the public REST API
// (the typed client in web/api), in NHS.UK frontend markup. One module per
// page under pages/; this file is the router and the page frame (header,
// navigation, sign-out). Served by arrsd at / with a strict CSP, so nothing
// here is inline script or style.
import { initHeader, initErrorSummary } from "nhsuk-frontend";
import { html, type Html } from "./lib/html.js";
import { isPcn, roleLabels, session, signOut, whenUnauthenticated, type Session } from "./lib/session.js";
import { endSessionUrl, stopRefreshing } from "./lib/oidc.js";
import { routes, type Page } from "./routes.js";

const main = () => document.getElementById("main-content") as HTMLElement;

function navItems(s: Session | null): [string, string][] {
  if (!s) return [];
  if (isPcn(s)) {
    return [["/", "Home"], ["/claims", "Claims"], ["/budget", "Budget"], ["/workforce", "Workforce"], ["/roles", "Roles"]];
  }
  switch (s.role) {
    case "commissioner-approver":
      return [["/", "Review queue"], ["/dashboard", "PCNs"], ["/statistics", "Workforce"], ["/local-roles", "Local roles"]];
    case "commissioner-finance":
      return [["/", "Payments"], ["/export", "Download claim lines"], ["/dashboard", "PCNs"], ["/statistics", "Workforce"]];
    case "training-hub-officer":
      return [["/", "CPD ledger"]];
    case "practice-manager":
      return [["/", "CPD funding"], ["/cpd/needs/new", "Record a need"], ["/cpd/requests/new", "Request funding"]];
    case "national-administrator":
      return [["/", "Audit"], ["/rates", "Roles and rates"], ["/years", "Financial years"], ["/entitlements", "Entitlements"],
        ["/dashboard", "PCNs"], ["/sub-icb-locations", "Sub-ICB locations"], ["/statistics", "Workforce"]];
  }
  return [];
}

function header(s: Session | null, path: string): Html {
  const nav = navItems(s);
  return html`<div class="nhsuk-header__container nhsuk-width-container">
      <div class="nhsuk-header__service">
        <a class="nhsuk-header__service-logo" href="/" aria-label="NHS ${s ? s.orgName : ""} ARRS claims homepage">
          <svg class="nhsuk-header__logo" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 80" height="40" width="100" focusable="false" role="img" aria-label="NHS"><title>NHS</title><path fill="currentcolor" d="M200 0v80H0V0h200Zm-27.5 5.5c-14.5 0-29 5-29 22 0 10.2 7.7 13.5 14.7 16.3l.7.3c5.4 2 10.1 3.9 10.1 8.4 0 6.5-8.5 7.5-14 7.5s-12.5-1.5-16-3.5L135 70c5.5 2 13.5 3.5 20 3.5 15.5 0 32-4.5 32-22.5 0-19.5-25.5-16.5-25.5-25.5 0-5.5 5.5-6.5 12.5-6.5a35 35 0 0 1 14.5 3l4-13.5c-4.5-2-12-3-20-3Zm-131 2h-22l-14 65H22l9-45h.5l13.5 45h21.5l14-65H64l-9 45h-.5l-13-45Zm63 0h-18l-13 65h17l6-28H117l-5.5 28H129l13.5-65H125L119.5 32h-20l5-24.5Z"/></svg>
          ${s ? html`<span class="nhsuk-header__organisation-name">${s.orgName}</span>` : ""}
        </a>
        <span class="nhsuk-header__service-name">ARRS claims</span>
      </div>
      ${s
        ? html`<nav class="nhsuk-header__account" aria-label="Account"><ul class="nhsuk-header__account-list">
            <li class="nhsuk-header__account-item">${s.subject} (${roleLabels[s.role] ?? s.role})</li>
            <li class="nhsuk-header__account-item"><button class="nhsuk-header__account-button" id="sign-out" type="button">Sign out</button></li>
          </ul></nav>`
        : ""}
    </div>
    ${nav.length
      ? html`<nav class="nhsuk-header__navigation" aria-label="Menu"><div class="nhsuk-header__navigation-container nhsuk-width-container"><ul class="nhsuk-header__navigation-list">
          ${nav.map(([href, text]) => {
            const current = href === "/" ? path === "/" : path.startsWith(href);
            return html`<li class="nhsuk-header__navigation-item ${current ? "nhsuk-header__navigation-item--current" : ""}"><a class="nhsuk-header__navigation-link" href="${href}" ${current ? html`aria-current="page"` : ""}>${current ? html`<strong class="nhsuk-header__navigation-item-current-fallback">${text}</strong>` : text}</a></li>`;
          })}
          <li class="nhsuk-header__menu" hidden><button class="nhsuk-header__menu-toggle nhsuk-header__navigation-link" id="toggle-menu" aria-expanded="false"><span class="nhsuk-u-visually-hidden">Browse </span>More</button></li>
        </ul></div></nav>`
      : ""}`;
}

let renderedHeaderFor = "-";

function renderHeader(path: string): void {
  const s = session();
  const key = `${s?.token ?? ""} ${path}`;
  if (key === renderedHeaderFor) return;
  renderedHeaderFor = key;
  const el = document.getElementById("header") as HTMLElement;
  // A new element, not a clone: the old one is marked initialised, and
  // its listeners go with it.
  const fresh = document.createElement("header");
  fresh.className = "nhsuk-header";
  fresh.id = "header";
  fresh.dataset["module"] = "nhsuk-header";
  fresh.setAttribute("role", "banner");
  fresh.innerHTML = header(s, path).value;
  el.replaceWith(fresh);
  fresh.querySelector("#sign-out")?.addEventListener("click", () => {
    const provider = endSessionUrl();
    signOut();
    stopRefreshing();
    // The provider's session ends too, and it sends the browser back to sign-in.
    if (provider) location.assign(provider);
    else void navigate("/sign-in");
  });
  initHeader({ scope: fresh.parentElement ?? document });
}

/** Finds the page for a path: the first route whose pattern matches. */
function resolve(path: string): { page: Page; params: Record<string, string> } | null {
  for (const r of routes) {
    const m = r.pattern.exec(path);
    if (m) return { page: r.page, params: m.groups ?? {} };
  }
  return null;
}

let navigation = 0;

/** Shows the page at path (pushed on the history unless replace). */
export async function navigate(path: string, replace = false): Promise<void> {
  if (path !== location.pathname + location.search) {
    if (replace) history.replaceState(null, "", path);
    else history.pushState(null, "", path);
  }
  await show();
}

async function show(): Promise<void> {
  const n = ++navigation;
  const url = new URL(location.href);
  let path = url.pathname;
  const s = session();
  if (!s && path !== "/sign-in" && path !== "/signed-in") {
    history.replaceState(null, "", "/sign-in");
    path = "/sign-in";
  }
  renderHeader(path);
  const found = resolve(path);
  const el = main();
  el.setAttribute("aria-busy", "true");
  let title = "Page not found";
  let body: Html;
  try {
    if (!found) throw new NotFound();
    const out = await found.page({ params: found.params, query: url.searchParams, session: s, navigate, rerender: show });
    if (out === null) return; // the page navigated elsewhere
    title = out.title;
    body = out.body;
  } catch (e) {
    if (e instanceof NotFound) {
      body = html`<h1>Page not found</h1><p>If you typed the web address, check it is correct.</p><p><a href="/">Go to the home page</a></p>`;
    } else {
      console.warn(e);
      title = "Sorry, there is a problem with the service";
      body = html`<h1>Sorry, there is a problem with the service</h1><p>Try again later.</p><p><a href="/">Go to the home page</a></p>`;
    }
  }
  if (n !== navigation) return; // a later navigation won
  document.title = `${title} – ARRS claims – NHS`;
  el.innerHTML = body.value;
  el.removeAttribute("aria-busy");
  found?.page.after?.(el, { params: found.params, query: url.searchParams, session: s, navigate, rerender: show });
  for (const summary of el.querySelectorAll<HTMLElement>(".nhsuk-error-summary")) {
    initErrorSummary({ scope: el });
    summary.focus();
    return;
  }
  const h1 = el.querySelector<HTMLElement>("h1");
  if (h1) {
    h1.tabIndex = -1;
    h1.focus({ preventScroll: true });
  }
  window.scrollTo(0, 0);
}

export class NotFound extends Error {}

// Same-origin links are the router's, unless they download something.
document.addEventListener("click", (e) => {
  const a = (e.target as Element | null)?.closest?.("a");
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || a.hasAttribute("download")) return;
  const href = a.getAttribute("href") ?? "";
  if (!href.startsWith("/") || href.startsWith("//")) return;
  e.preventDefault();
  void navigate(href);
});
window.addEventListener("popstate", () => void show());
whenUnauthenticated(() => void navigate("/sign-in", true));
document.body.classList.add("js-enabled", "nhsuk-frontend-supported");
void show();

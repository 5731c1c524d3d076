// Sign in. With no identity provider configured, arrsd mints development
// tokens (POST /auth/dev/token, registered only then) and this page lists
// the demo's users to choose from.
import { arrsClient } from "../../api/client.js";
import { html } from "../lib/html.js";
import { button, errorSummary, noProblems, type Problems } from "../lib/ui.js";
import { roleLabels, signIn, signOut } from "../lib/session.js";
import { finishSignIn, startSignIn, stopRefreshing } from "../lib/oidc.js";
import { page } from "../routes.js";

/** Back from the identity provider: the code exchanged, then home. */
export const signedInPage = page(async (ctx) => {
  try {
    await finishSignIn(ctx.query);
  } catch (e) {
    problems = { fields: {}, general: [`Signing in did not work (${(e as Error).message}). Try again.`] };
    await ctx.navigate("/sign-in", true);
    return null;
  }
  problems = noProblems();
  await ctx.navigate("/", true);
  return null;
});

interface DemoUser {
  role: string;
  org: string;
  subject: string;
  who: string;
}

const demoUsers: DemoUser[] = [
  { role: "pcn-clinical-director", org: "U23456", subject: "nia@northfield.example", who: "Nia, Northfield and Heath PCN" },
  { role: "pcn-manager", org: "U23456", subject: "sam@northfield.example", who: "Sam, Northfield and Heath PCN" },
  { role: "pcn-clinical-director", org: "U12345", subject: "pat@riverside.example", who: "Pat, Riverside Primary Care Network" },
  { role: "pcn-clinical-director", org: "U34567", subject: "kim@kingsgate.example", who: "Kim, Kingsgate PCN" },
  { role: "commissioner-approver", org: "QNQ", subject: "bob@frimley.example", who: "Bob, NHS Frimley ICB" },
  { role: "commissioner-approver", org: "QNQ", subject: "dee@frimley.example", who: "Dee, NHS Frimley ICB" },
  { role: "commissioner-finance", org: "QNQ", subject: "carol@frimley.example", who: "Carol, NHS Frimley ICB" },
  { role: "national-administrator", org: "", subject: "alice@england.example", who: "Alice, NHS England" },
  { role: "training-hub-officer", org: "frimley", subject: "hana@frimley-hub.example", who: "Hana, Frimley Training Hub" },
  { role: "practice-manager", org: "K81001", subject: "priya@riverside.example", who: "Priya, Riverside Surgery" },
];

let problems: Problems = noProblems();
let unavailable = false;
let config: { mode: string; issuer?: string; clientId?: string } | null = null;

export const signInPage = page(
  async () => {
    signOut();
    stopRefreshing();
    config ??= (await (await fetch("/auth/config")).json()) as typeof config;
    if (config?.mode === "oidc") {
      return {
        title: "Sign in",
        body: html`${errorSummary(problems)}<h1>Sign in</h1>
          <p>Sign in with your organisation's account to claim, review or pay under the Additional Roles Reimbursement Scheme.</p>
          <form id="oidc" novalidate>${button("Sign in with your account")}</form>`,
      };
    }
    if (unavailable || config?.mode === "none") {
      return {
        title: "Sign in",
        body: html`<h1>Sign in</h1><p>This arrs has no way to sign in to the console configured. Use the API with a token from your identity provider.</p>`,
      };
    }
    return {
      title: "Choose a demo user",
      body: html`${errorSummary(problems)}
        <h1>Choose a demo user</h1>
        <p>This arrs has no identity provider configured, so it signs its own development tokens. Choose who to be: each user sees only their organisation's work.</p>
        <form id="sign-in" novalidate>
          <div class="nhsuk-form-group ${problems.fields["user"] ? "nhsuk-form-group--error" : ""}">
            <fieldset class="nhsuk-fieldset" ${problems.fields["user"] ? html`aria-describedby="user-error"` : ""}>
              <legend class="nhsuk-fieldset__legend nhsuk-fieldset__legend--m">Demo users</legend>
              ${problems.fields["user"] ? html`<span class="nhsuk-error-message" id="user-error"><span class="nhsuk-u-visually-hidden">Error:</span> ${problems.fields["user"]}</span>` : ""}
              <div class="nhsuk-radios" data-module="nhsuk-radios">
                ${demoUsers.map(
                  (u, i) => html`<div class="nhsuk-radios__item">
                    <input class="nhsuk-radios__input" id="${i === 0 ? "user" : `user-${i}`}" name="user" type="radio" value="${i}" aria-describedby="user-${i}-hint">
                    <label class="nhsuk-label nhsuk-radios__label" for="${i === 0 ? "user" : `user-${i}`}">${u.who}</label>
                    <div class="nhsuk-hint nhsuk-radios__hint" id="user-${i}-hint">${roleLabels[u.role]}${u.org ? ` (${u.org})` : ""}</div>
                  </div>`,
                )}
              </div>
            </fieldset>
          </div>
          ${button("Sign in")}
        </form>`,
    };
  },
  (el, ctx) => {
    el.querySelector("#oidc")?.addEventListener("submit", (e) => {
      e.preventDefault();
      if (config?.issuer && config.clientId) void startSignIn({ issuer: config.issuer, clientId: config.clientId });
    });
    el.querySelector("#sign-in")?.addEventListener("submit", async (e) => {
      e.preventDefault();
      const chosen = (el.querySelector("input[name=user]:checked") as HTMLInputElement | null)?.value;
      const user = chosen === undefined ? undefined : demoUsers[Number(chosen)];
      if (!user) {
        problems = { fields: { user: "Choose a demo user" }, general: [] };
        await ctx.rerender();
        return;
      }
      const res = await fetch("/auth/dev/token", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ role: user.role, org: user.org, subject: user.subject }),
      });
      if (res.status === 404) {
        unavailable = true;
        await ctx.rerender();
        return;
      }
      if (!res.ok) {
        problems = { fields: {}, general: [`Could not sign in (${res.status})`] };
        await ctx.rerender();
        return;
      }
      const { token, expiresIn } = (await res.json()) as { token: string; expiresIn: number };
      const client = arrsClient(location.origin, token);
      let orgName = "NHS England";
      if (user.role.startsWith("pcn-")) {
        const pcn = await client.GET("/v1/pcns/{pcn}", { params: { path: { pcn: user.org } } });
        orgName = pcn.data?.displayName ?? user.org;
      } else if (user.role === "training-hub-officer") {
        const h = await client.GET("/v1/trainingHubs/{trainingHub}", { params: { path: { trainingHub: user.org } } });
        orgName = h.data?.displayName ?? user.org;
      } else if (user.role === "practice-manager") {
        orgName = `Practice ${user.org}`;
      } else if (user.org) {
        const c = await client.GET("/v1/commissioners/{commissioner}", { params: { path: { commissioner: user.org } } });
        orgName = c.data?.displayName ?? user.org;
      }
      problems = noProblems();
      signIn({ token, role: user.role, org: user.org, subject: user.subject, orgName, expiresAt: Date.now() + (expiresIn - 30) * 1000 });
      await ctx.navigate("/", true);
    });
  },
);

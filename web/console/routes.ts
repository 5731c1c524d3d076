// Which page answers which path. A page is a function from the path's
// parameters and the signed-in user to a title and body (fetched through
// the typed client), with an optional `after` that wires up its forms.
import type { Html } from "./lib/html.js";
import type { Session } from "./lib/session.js";
import { signedInPage, signInPage } from "./pages/signin.js";
import { homePage } from "./pages/home.js";
import { claimsPage } from "./pages/claims.js";
import { claimPage, claimLinePage, claimCheckPage, claimDonePage, claimHistoryPage } from "./pages/claim.js";
import { budgetPage } from "./pages/budget.js";
import { endPostPage, fillPostPage, newPostPage, recruitPostPage, workforcePage } from "./pages/workforce.js";
import { reviewPage, reviewActionPage } from "./pages/review.js";
import { paymentPage, exportPage } from "./pages/finance.js";
import { entitlementsPage, newRatePage, ratesPage, yearsPage } from "./pages/admin.js";
import { dashboardPage } from "./pages/dashboard.js";
import { statisticsPage } from "./pages/statistics.js";
import { subIcbLocationsPage } from "./pages/places.js";
import { backdatedAwardPage } from "./pages/backdated.js";
import { cataloguePage, localRolesPage, newLocalRolePage, retireLocalRolePage } from "./pages/localroles.js";
import { hubRequestPage, newNeedPage, newRequestPage, practiceCpdPage } from "./pages/cpd.js";

export interface Ctx {
  params: Record<string, string>;
  query: URLSearchParams;
  session: Session | null;
  navigate: (path: string, replace?: boolean) => Promise<void>;
  rerender: () => Promise<void>;
}

export interface PageOut {
  title: string;
  body: Html;
}

export type Page = ((ctx: Ctx) => Promise<PageOut | null>) & { after?: (el: HTMLElement, ctx: Ctx) => void };

export function page(render: (ctx: Ctx) => Promise<PageOut | null>, after?: (el: HTMLElement, ctx: Ctx) => void): Page {
  return Object.assign(render, { after });
}

const PCN = "(?<pcn>U\\d{5}|[A-Z0-9]{3,6})";
const CLAIM = "(?<claim>\\d{4}-\\d{2}(?:-s\\d+)?)";

export const routes: { pattern: RegExp; page: Page }[] = [
  { pattern: /^\/sign-in$/, page: signInPage },
  { pattern: /^\/signed-in$/, page: signedInPage },
  { pattern: /^\/$/, page: homePage },
  { pattern: /^\/claims$/, page: claimsPage },
  { pattern: new RegExp(`^/claims/${CLAIM}$`), page: claimPage },
  { pattern: new RegExp(`^/claims/${CLAIM}/lines/(?<line>[^/]+)$`), page: claimLinePage },
  { pattern: new RegExp(`^/claims/${CLAIM}/check$`), page: claimCheckPage },
  { pattern: new RegExp(`^/claims/${CLAIM}/done$`), page: claimDonePage },
  { pattern: new RegExp(`^/pcns/${PCN}/claims/${CLAIM}/history$`), page: claimHistoryPage },
  { pattern: /^\/budget$/, page: budgetPage },
  { pattern: new RegExp(`^/backdated-awards/${PCN}/(?<year>\\d{4}-\\d{2})$`), page: backdatedAwardPage },
  { pattern: /^\/workforce$/, page: workforcePage },
  { pattern: /^\/workforce\/new(?:\/(?<step>created))?$/, page: newPostPage },
  { pattern: /^\/workforce\/(?<post>[a-z0-9-]+)\/(?<step>fill|done)$/, page: fillPostPage },
  { pattern: /^\/workforce\/(?<post>[a-z0-9-]+)\/(?<step>recruit|recruiting)$/, page: recruitPostPage },
  { pattern: /^\/workforce\/(?<post>[a-z0-9-]+)\/(?<step>end|ended)$/, page: endPostPage },
  { pattern: new RegExp(`^/review/${PCN}/${CLAIM}$`), page: reviewPage },
  { pattern: new RegExp(`^/review/${PCN}/${CLAIM}/(?<action>approve|query|reject|done)$`), page: reviewActionPage },
  { pattern: new RegExp(`^/payments/${PCN}/${CLAIM}(?:/(?<step>check|done))?$`), page: paymentPage },
  { pattern: /^\/export$/, page: exportPage },
  { pattern: /^\/rates$/, page: ratesPage },
  { pattern: /^\/rates\/new(?:\/(?<step>check|saved))?$/, page: newRatePage },
  { pattern: /^\/entitlements$/, page: entitlementsPage },
  { pattern: /^\/dashboard$/, page: dashboardPage },
  { pattern: /^\/statistics$/, page: statisticsPage },
  { pattern: /^\/sub-icb-locations$/, page: subIcbLocationsPage },
  { pattern: /^\/years$/, page: yearsPage },
  { pattern: /^\/roles$/, page: cataloguePage },
  { pattern: /^\/local-roles$/, page: localRolesPage },
  { pattern: /^\/local-roles\/new(?:\/(?<step>approved))?$/, page: newLocalRolePage },
  { pattern: /^\/local-roles\/(?<role>[a-z0-9-]+)\/(?<step>retire|retired)$/, page: retireLocalRolePage },
  { pattern: /^\/cpd$/, page: practiceCpdPage },
  { pattern: /^\/cpd\/needs\/new$/, page: newNeedPage },
  { pattern: /^\/cpd\/requests\/new$/, page: newRequestPage },
  { pattern: /^\/hub\/requests\/(?<practice>[A-Z]\d{5})\/(?<request>[a-z0-9-]+)$/, page: hubRequestPage },
];

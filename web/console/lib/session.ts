// The signed-in user: the console's only global state. A development token
// is kept in sessionStorage, so a reload keeps the user signed in but
// closing the tab signs them out, and no other tab or origin sees it; the
// identity provider's tokens are kept in memory only (see oidc.ts).
import { arrsClient, type ArrsClient } from "../../api/client.js";

export interface Session {
  token: string;
  role: string;
  org: string;
  subject: string;
  orgName: string;
  expiresAt: number;
  /** Kept in memory only (identity provider tokens), not in sessionStorage. */
  memoryOnly?: boolean;
}

const KEY = "arrs.session";

let current: Session | null = null;

export function session(): Session | null {
  if (!current) {
    const stored = sessionStorage.getItem(KEY);
    if (stored) current = JSON.parse(stored) as Session;
  }
  if (current && Date.now() > current.expiresAt) signOut();
  return current;
}

export function signIn(s: Session): void {
  current = s;
  if (s.memoryOnly) sessionStorage.removeItem(KEY);
  else sessionStorage.setItem(KEY, JSON.stringify(s));
}

export function signOut(): void {
  current = null;
  sessionStorage.removeItem(KEY);
}

/** Called when the API refuses the token (it expired): sign in again. */
let onUnauthenticated: () => void = () => {};
export function whenUnauthenticated(f: () => void): void {
  onUnauthenticated = f;
}

/** The typed client, calling as the signed-in user. */
export function api(): ArrsClient {
  const client = arrsClient(location.origin, session()?.token);
  client.use({
    onResponse({ response }) {
      if (response.status === 401) {
        signOut();
        onUnauthenticated();
      }
      return response;
    },
  });
  return client;
}

export const roleLabels: Record<string, string> = {
  "pcn-clinical-director": "PCN clinical director",
  "pcn-manager": "PCN manager",
  "commissioner-approver": "Commissioner approver",
  "commissioner-finance": "Commissioner finance",
  "national-administrator": "National administrator",
  "training-hub-officer": "Training Hub officer",
  "practice-manager": "Practice manager",
};

export function isPcn(s: Session | null): boolean {
  return s?.role === "pcn-clinical-director" || s?.role === "pcn-manager";
}

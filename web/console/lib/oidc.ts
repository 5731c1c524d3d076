// Sign-in with the identity provider: OpenID Connect authorization code
// with PKCE (S256), the console being a public client. The tokens are kept
// in memory only (after a reload, signing in again comes straight back
// while the provider's session lasts) and refreshed before they expire.
// Signing out ends the provider's session too, where the provider offers
// RP-initiated logout: otherwise "Sign in" would come straight back in.
import { arrsClient } from "../../api/client.js";
import { signIn, session, type Session } from "./session.js";

export interface OIDCConfig {
  issuer: string;
  clientId: string;
}

interface Pending {
  verifier: string;
  state: string;
  tokenEndpoint: string;
  clientId: string;
  /** The provider's end_session_endpoint, if its discovery document has one. */
  endSessionEndpoint?: string;
}

interface TokenResponse {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  expires_in?: number;
}

const PENDING = "arrs.oidc";

function base64url(bytes: ArrayBuffer | Uint8Array): string {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function random(n: number): string {
  return base64url(crypto.getRandomValues(new Uint8Array(n)));
}

function redirectUri(): string {
  return `${location.origin}/signed-in`;
}

/** Goes to the provider's sign-in page. */
export async function startSignIn(cfg: OIDCConfig): Promise<void> {
  const disco = (await (await fetch(`${cfg.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`)).json()) as {
    authorization_endpoint: string;
    token_endpoint: string;
    end_session_endpoint?: string;
  };
  const verifier = random(32);
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const state = random(16);
  const pending: Pending = { verifier, state, tokenEndpoint: disco.token_endpoint, clientId: cfg.clientId, endSessionEndpoint: disco.end_session_endpoint };
  // Only the verifier and state wait here, for the redirect back; never a token.
  sessionStorage.setItem(PENDING, JSON.stringify(pending));
  const q = new URLSearchParams({
    response_type: "code",
    client_id: cfg.clientId,
    redirect_uri: redirectUri(),
    scope: "openid offline_access",
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  location.assign(`${disco.authorization_endpoint}?${q}`);
}

async function token(endpoint: string, body: Record<string, string>): Promise<TokenResponse> {
  const res = await fetch(endpoint, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(body) });
  if (!res.ok) throw new Error(`token endpoint: ${res.status}`);
  return (await res.json()) as TokenResponse;
}

function claimsOf(jwt: string): Record<string, unknown> {
  const part = jwt.split(".")[1] ?? "";
  return JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>;
}

let refreshTimer: ReturnType<typeof setTimeout> | undefined;

/** What ending the provider's session needs: in memory, like the tokens. */
let providerSession: { idToken: string; endpoint: string; clientId: string } | null = null;

async function establish(t: TokenResponse, p: Pending, orgName?: string): Promise<Session> {
  const c = claimsOf(t.access_token);
  const role = String(c["arrs_role"] ?? "");
  const org = String(c["arrs_org"] ?? "");
  let name = orgName;
  if (!name) {
    const client = arrsClient(location.origin, t.access_token);
    if (role.startsWith("pcn-")) name = (await client.GET("/v1/pcns/{pcn}", { params: { path: { pcn: org } } })).data?.displayName;
    else if (org && org !== "nhs-england") name = (await client.GET("/v1/commissioners/{commissioner}", { params: { path: { commissioner: org } } })).data?.displayName;
    name ??= org ? org : "NHS England";
  }
  const expiresIn = t.expires_in ?? 300;
  const s: Session = { token: t.access_token, role, org, subject: String(c["sub"] ?? ""), orgName: name, expiresAt: Date.now() + expiresIn * 1000, memoryOnly: true };
  signIn(s);
  // A refresh may bring a new ID token; without one the first still names the session.
  const idToken = t.id_token ?? providerSession?.idToken;
  providerSession = idToken && p.endSessionEndpoint ? { idToken, endpoint: p.endSessionEndpoint, clientId: p.clientId } : null;
  clearTimeout(refreshTimer);
  if (t.refresh_token) {
    const refresh = t.refresh_token;
    refreshTimer = setTimeout(() => {
      if (session()?.token !== s.token) return; // signed out, or signed in afresh
      void token(p.tokenEndpoint, { grant_type: "refresh_token", refresh_token: refresh, client_id: p.clientId })
        .then((next) => establish(next, p, name))
        .catch(() => undefined);
    }, Math.max(expiresIn - 60, 5) * 1000);
  }
  return s;
}

/** Back from the provider with a code: exchanges it (with the PKCE verifier) for tokens. */
export async function finishSignIn(query: URLSearchParams): Promise<Session> {
  const stored = sessionStorage.getItem(PENDING);
  sessionStorage.removeItem(PENDING);
  if (!stored) throw new Error("no sign-in in progress");
  const p = JSON.parse(stored) as Pending;
  const code = query.get("code");
  if (!code || query.get("state") !== p.state) throw new Error("the sign-in did not come back as sent");
  const t = await token(p.tokenEndpoint, { grant_type: "authorization_code", code, redirect_uri: redirectUri(), client_id: p.clientId, code_verifier: p.verifier });
  return establish(t, p);
}

/** Forgets the refresh timer and the provider's session (sign-out). */
export function stopRefreshing(): void {
  clearTimeout(refreshTimer);
  providerSession = null;
}

/**
 * Where to go to end the provider's session too (RP-initiated logout, with
 * the ID token as the hint and the sign-in page to come back to), or null
 * when signed in some other way or the provider offers no such endpoint.
 */
export function endSessionUrl(): string | null {
  if (!providerSession) return null;
  const url = new URL(providerSession.endpoint);
  url.searchParams.set("id_token_hint", providerSession.idToken);
  url.searchParams.set("post_logout_redirect_uri", `${location.origin}/sign-in`);
  url.searchParams.set("client_id", providerSession.clientId);
  return url.toString();
}

// Sign-in to the console through an identity provider: OpenID Connect
// authorization code with PKCE, against a small provider run by this test
// (discovery, authorize, token with the S256 check and a refresh, JWKS, and
// RP-initiated logout), and arrsd configured to trust it. The development
// sign-in is then absent.
import assert from "node:assert/strict";
import { createHash, generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { createServer, type Server } from "node:http";
import { type AddressInfo } from "node:net";
import { after, before, test } from "node:test";

import { startArrsd, type Arrsd } from "./arrsd.js";
import { openBrowser, type Browser } from "./browser.js";

const { publicKey, privateKey } = generateKeyPairSync("ed25519");
const kid = "test-idp-1";
let issuer = "";
let provider: Server;
let arrsd: Arrsd;
let b: Browser;
const codes = new Map<string, { challenge: string; redirect: string }>();
const seen = { authorize: 0, token: 0, verified: 0, refreshed: 0, endSession: 0 };
const idTokens = new Set<string>();

function b64url(x: Buffer | string): string {
  return Buffer.from(x).toString("base64url");
}

function jwt(claims: Record<string, unknown>): string {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ alg: "EdDSA", typ: "JWT", kid }));
  const payload = b64url(JSON.stringify({ iss: issuer, sub: "nia@northfield.example", iat: now, nbf: now, exp: now + 600, ...claims }));
  return `${header}.${payload}.${b64url(sign(null, Buffer.from(`${header}.${payload}`), privateKey))}`;
}

function accessToken(): string {
  return jwt({ aud: "arrs", arrs_role: "pcn-clinical-director", arrs_org: "U23456" });
}

/** An ID token for the console (its audience), remembered so the logout hint can be checked. */
function idToken(): string {
  const t = jwt({ aud: "arrs-console", nonce: b64url(randomBytes(8)) });
  idTokens.add(t);
  return t;
}

before(async () => {
  provider = createServer((req, res) => {
    const url = new URL(req.url ?? "/", issuer);
    res.setHeader("Access-Control-Allow-Origin", "*");
    const json = (v: unknown, status = 200) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(v));
    };
    if (url.pathname === "/.well-known/openid-configuration") {
      json({ issuer, authorization_endpoint: `${issuer}/authorize`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/jwks`, end_session_endpoint: `${issuer}/logout`, code_challenge_methods_supported: ["S256"] });
    } else if (url.pathname === "/jwks") {
      json({ keys: [{ ...publicKey.export({ format: "jwk" }), kid, alg: "EdDSA", use: "sig" }] });
    } else if (url.pathname === "/authorize") {
      // The user is already signed in at the provider: straight back with a code.
      seen.authorize++;
      assert.equal(url.searchParams.get("code_challenge_method"), "S256");
      assert.equal(url.searchParams.get("client_id"), "arrs-console");
      const code = b64url(randomBytes(16));
      const redirect = url.searchParams.get("redirect_uri") ?? "";
      codes.set(code, { challenge: url.searchParams.get("code_challenge") ?? "", redirect });
      res.writeHead(302, { Location: `${redirect}?code=${code}&state=${encodeURIComponent(url.searchParams.get("state") ?? "")}` });
      res.end();
    } else if (url.pathname === "/token" && req.method === "POST") {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        seen.token++;
        const form = new URLSearchParams(body);
        if (form.get("grant_type") === "authorization_code") {
          const issued = codes.get(form.get("code") ?? "");
          codes.delete(form.get("code") ?? "");
          const ok = issued && issued.redirect === form.get("redirect_uri") && b64url(createHash("sha256").update(form.get("code_verifier") ?? "").digest()) === issued.challenge;
          if (!ok) return json({ error: "invalid_grant" }, 400);
          seen.verified++;
          // A short life, so the console refreshes it within seconds.
          return json({ access_token: accessToken(), id_token: idToken(), token_type: "Bearer", expires_in: 65, refresh_token: "refresh-1" });
        }
        if (form.get("grant_type") === "refresh_token" && form.get("refresh_token") === "refresh-1") {
          seen.refreshed++;
          return json({ access_token: accessToken(), token_type: "Bearer", expires_in: 600, refresh_token: "refresh-2" });
        }
        return json({ error: "unsupported_grant_type" }, 400);
      });
    } else if (url.pathname === "/logout") {
      // RP-initiated logout: the session the ID token names ends, and the
      // browser goes back where the console asked, if it is the console's.
      seen.endSession++;
      assert.ok(idTokens.has(url.searchParams.get("id_token_hint") ?? ""), "id_token_hint is an ID token this provider issued");
      assert.equal(url.searchParams.get("client_id"), "arrs-console");
      const back = url.searchParams.get("post_logout_redirect_uri") ?? "";
      assert.equal(back, `${arrsd.baseUrl}/sign-in`);
      res.writeHead(302, { Location: back });
      res.end();
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((ok) => provider.listen(0, "127.0.0.1", ok));
  issuer = `http://127.0.0.1:${(provider.address() as AddressInfo).port}`;
  arrsd = await startArrsd({ ARRS_JWT_ISSUER: issuer, ARRS_JWT_AUDIENCE: "arrs", ARRS_JWKS_URL: `${issuer}/jwks`, ARRS_OIDC_CLIENT_ID: "arrs-console" });
  b = await openBrowser(arrsd.baseUrl);
});
after(async () => {
  await b?.close();
  await arrsd?.stop();
  provider?.close();
});

test("with an identity provider, the console signs in with authorization code and PKCE", async () => {
  const { page } = b;
  const dev = await fetch(`${arrsd.baseUrl}/auth/dev/token`, { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
  assert.equal(dev.status, 404, "no development sign-in with an identity provider");

  await page.goto("/");
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  await b.check("oidc-sign-in");
  await page.getByRole("button", { name: "Sign in with your account" }).click();
  await page.getByRole("heading", { name: "Northfield and Heath PCN" }).waitFor();
  await b.check("oidc-signed-in");
  assert.deepEqual(seen, { authorize: 1, token: 1, verified: 1, refreshed: 0, endSession: 0 });
  // The token is in memory, not in the tab's storage.
  assert.equal(await page.evaluate(() => sessionStorage.getItem("arrs.session")), null);

  // Refreshed before it expires (65 s less a minute's margin), and still signed in.
  await page.waitForTimeout(6_000);
  assert.equal(seen.refreshed, 1, "the token was refreshed");
  await page.getByRole("link", { name: "Claims", exact: true }).click();
  await page.getByRole("heading", { name: "Claims", exact: true, level: 1 }).waitFor();

  // Signing out ends the provider's session too, which sends the browser
  // back to sign in; nothing of the session is left in the tab.
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(`${arrsd.baseUrl}/sign-in`);
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  assert.equal(seen.endSession, 1, "the provider's end_session_endpoint was visited");
  assert.equal(await page.evaluate(() => sessionStorage.getItem("arrs.session")), null);
  await b.check("oidc-signed-out");
  assert.deepEqual(b.errors, [], "console errors");
});

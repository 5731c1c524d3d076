// The typed client against a real arrsd with the demo data: a clinical
// director plans and fills a post, drafts the claim for a month that has
// ended, records what was paid and submits it. The month is discovered from
// the data (the latest ended month of a financial year on record, still
// open for claims, with an entitlement and no claim yet), not written down,
// so the test does not depend on the demo's dates.
import assert from "node:assert/strict";
import { randomInt, randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { after, before, test } from "node:test";

import { arrsClient, type ArrsClient, type Body, type Schemas } from "../api/client.js";
import { startArrsd, type Arrsd } from "./arrsd.js";

const PCN = "U23456"; // Northfield and Heath PCN: posts in post, no claims in the demo

let arrsd: Arrsd;
before(async () => {
  arrsd = await startArrsd();
});
after(async () => {
  await arrsd?.stop();
});

/** Today in England, YYYY-MM-DD. */
function londonToday(): string {
  return new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/London", year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
}

/** The month n months before the one date is in, YYYY-MM. */
function monthsBefore(date: string, n: number): string {
  const [y, m] = date.split("-").map(Number) as [number, number];
  const index = y * 12 + (m - 1) - n;
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, "0")}`;
}

/** The financial year (1 April to 31 March) a month is in: 2025-26. */
function financialYearOf(month: string): string {
  const [y, m] = month.split("-").map(Number) as [number, number];
  const start = m >= 4 ? y : y - 1;
  return `${start}-${String((start + 1) % 100).padStart(2, "0")}`;
}

/** The reason of an error's google.rpc.ErrorInfo. */
function reasonOf(error: Schemas["rpcStatus"] | undefined): string | undefined {
  const info = error?.details?.find((d) => d["@type"] === "type.googleapis.com/google.rpc.ErrorInfo");
  return info?.["reason"] as string | undefined;
}

/** The latest month this PCN can still claim. */
async function claimableMonth(cd: ArrsClient, today: string): Promise<string> {
  const years = await cd.GET("/v1/financialYears", { params: { query: { pageSize: 500 } } });
  assert.equal(years.response.status, 200);
  const claims = await cd.GET("/v1/pcns/{pcn}/claims", { params: { path: { pcn: PCN }, query: { pageSize: 500 } } });
  assert.equal(claims.response.status, 200);
  const claimed = new Set(claims.data?.claims.map((c) => c.month));
  for (let n = 1; n <= 60; n++) {
    const month = monthsBefore(today, n);
    const fy = financialYearOf(month);
    const year = years.data?.financialYears.find((y) => y.name === `financialYears/${fy}`);
    if (!year || (year.claimsDeadline && today > year.claimsDeadline) || claimed.has(month)) continue;
    const entitlement = await cd.GET("/v1/pcns/{pcn}/entitlements/{entitlement}", { params: { path: { pcn: PCN, entitlement: fy } } });
    if (entitlement.response.status === 200) return month;
  }
  throw new Error(`no month in the last five years is open for claims by ${PCN}`);
}

test("the client's types come from the document arrsd serves", async () => {
  const served = await fetch(`${arrsd.baseUrl}/openapi.json`);
  assert.equal(served.status, 200);
  const generatedFrom = await readFile(resolve(import.meta.dirname, "..", "..", "gen", "openapi", "arrs.openapi.json"), "utf8");
  assert.equal(await served.text(), generatedFrom);
});

test("a clinical director fills a post, drafts a claim for a month that has ended and submits it", async () => {
  const cd = arrsClient(arrsd.baseUrl, await arrsd.token("pcn-clinical-director", PCN, "nia@northfield.example"));
  const today = londonToday();
  const month = await claimableMonth(cd, today);

  // A post, filled from the first of the month.
  const postId = `ot-web-${randomInt(1e6)}`;
  const post = await cd.POST("/v1/pcns/{pcn}/posts", {
    params: { path: { pcn: PCN }, query: { postId, requestId: randomUUID() } },
    body: {
      role: "roles/occupational-therapist",
      wte: "0.6",
      startDate: `${month}-01`,
      staffName: "Ada Okoro",
      registrationNumber: `OT${String(randomInt(1e6)).padStart(6, "0")}`,
      focusCohort: "FOCUS_COHORT_FRAIL_OLDER_PEOPLE",
    } satisfies Body<"v1Post">,
  });
  assert.equal(post.response.status, 200, JSON.stringify(post.error));
  assert.equal(post.data?.state, "STATE_FILLED");
  assert.equal(post.response.headers.get("ETag"), `"${post.data?.etag}"`);

  // The compiler refuses a misspelt field, and so does the server.
  const misspelt = await cd.POST("/v1/pcns/{pcn}/posts", {
    params: { path: { pcn: PCN } },
    body: {
      role: "roles/occupational-therapist",
      wte: "0.6",
      startDate: `${month}-01`,
      // @ts-expect-error focusCohrt is not a field of Post
      focusCohrt: "FOCUS_COHORT_FRAIL_OLDER_PEOPLE",
    } satisfies Body<"v1Post">,
  });
  assert.equal(misspelt.response.status, 400);
  assert.equal(reasonOf(misspelt.error), "INVALID_ARGUMENT");

  // The claim, pre-filled with a line for every post in post, this one too.
  const created = await cd.POST("/v1/pcns/{pcn}/claims", {
    params: { path: { pcn: PCN }, query: { claimId: month, requestId: randomUUID() } },
  });
  assert.equal(created.response.status, 200, JSON.stringify(created.error));
  const claim = created.data!;
  assert.equal(claim.state, "STATE_DRAFT");
  const line = claim.lines.find((l) => l.post === `pcns/${PCN}/posts/${postId}`);
  assert.ok(line, `no line for the new post among ${claim.lines.map((l) => l.post).join(", ")}`);
  assert.ok(BigInt(line.capPence) > 0n, `cap ${line.capPence}`);

  // What was paid, with the line's ETag as If-Match.
  const lineId = line.name.split("/").at(-1)!;
  const costs = await cd.PATCH("/v1/pcns/{pcn}/claims/{claim}/lines/{line}", {
    params: {
      path: { pcn: PCN, claim: month, line: lineId },
      query: { updateMask: "grossSalaryPence,employerNiPence,employerPensionPence" },
    },
    headers: { "If-Match": `"${line.etag}"` },
    body: { grossSalaryPence: "180000", employerNiPence: "19500", employerPensionPence: "26000" },
  });
  assert.equal(costs.response.status, 200, JSON.stringify(costs.error));
  // 180000 + 19500 + 26000 = 225500p paid; the line reimburses min(paid, cap).
  assert.equal(costs.data?.actualPence, "225500");
  assert.equal(costs.data?.reimbursablePence, String(BigInt(Math.min(225500, Number(line.capPence)))));

  // A stale If-Match is refused (412), a current one submits.
  const stale = await cd.POST("/v1/pcns/{pcn}/claims/{claim}:submit", {
    params: { path: { pcn: PCN, claim: month } },
    headers: { "If-Match": `"${claim.etag}-stale"` },
    body: {},
  });
  assert.equal(stale.response.status, 412);
  assert.equal(reasonOf(stale.error), "ETAG_MISMATCH");
  const current = await cd.GET("/v1/pcns/{pcn}/claims/{claim}", { params: { path: { pcn: PCN, claim: month } } });
  const submitted = await cd.POST("/v1/pcns/{pcn}/claims/{claim}:submit", {
    params: { path: { pcn: PCN, claim: month } },
    headers: { "If-Match": current.response.headers.get("ETag")! },
    body: { requestId: randomUUID() },
  });
  assert.equal(submitted.response.status, 200, JSON.stringify(submitted.error));
  assert.equal(submitted.data?.state, "STATE_SUBMITTED");

  // The listing shows the money without the lines.
  const listed = await cd.GET("/v1/pcns/{pcn}/claims", { params: { path: { pcn: PCN }, query: { state: "STATE_SUBMITTED" } } });
  const summary = listed.data?.claims.find((c) => c.month === month);
  assert.ok(summary);
  assert.equal(summary.lines.length, 0);
  assert.equal(summary.lineCount, submitted.data?.lines.length);
  assert.equal(summary.reimbursablePence, submitted.data?.reimbursablePence);
});

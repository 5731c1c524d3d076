// NHS England's list of sub-ICB locations: each ICB's, with the code of
// the CCG it replaced and how many PCNs are in it now.
import { html } from "../lib/html.js";
import { lastSegment } from "../lib/format.js";
import { api } from "../lib/session.js";
import { subIcbLocations } from "../lib/places.js";
import { table } from "../lib/ui.js";
import { page } from "../routes.js";

/** Every PCN's sub-ICB location name, a page of 500 at a time. */
async function pcnLocations(): Promise<string[]> {
  const out: string[] = [];
  let pageToken: string | undefined;
  for (;;) {
    const res = await api().GET("/v1/pcns", { params: { query: { pageSize: 500, pageToken } } });
    out.push(...(res.data?.pcns ?? []).map((p) => p.subIcbLocation ?? ""));
    if (!res.data?.nextPageToken) return out;
    pageToken = res.data.nextPageToken;
  }
}

export const subIcbLocationsPage = page(async () => {
  const [locations, inPcns] = await Promise.all([subIcbLocations("-"), pcnLocations()]);
  const count = (name: string) => inPcns.filter((l) => l === name).length;
  const unplaced = inPcns.filter((l) => !l).length;
  return {
    title: "Sub-ICB locations",
    body: html`<span class="nhsuk-caption-l">England</span><h1>Sub-ICB locations</h1>
      <p>Each integrated care board's sub-ICB locations, which keep the codes of the clinical commissioning groups they replaced on 1 July 2022.
      The workforce statistics break each board's figures down by them.</p>
      ${locations.length
        ? table(
            "Sub-ICB locations by integrated care board",
            ["Integrated care board", "Code", "Name", "PCNs"],
            locations.map((l) => [l.name.split("/")[1] ?? "", lastSegment(l.name), l.displayName, String(count(l.name))]),
            { numeric: [3] },
          )
        : html`<p>No sub-ICB locations have been recorded.</p>`}
      ${unplaced ? html`<p>${unplaced} PCN${unplaced === 1 ? " has" : "s have"} no sub-ICB location recorded.</p>` : ""}`,
  };
});

// Where a PCN is: its commissioner's sub-ICB locations, named as the
// catalogue names them, for the pages that show or filter by them.
import { lastSegment } from "./format.js";
import { api } from "./session.js";

/** A sub-ICB location's name and display name. */
export type SubIcbLocation = { name: string; displayName: string };

/**
 * The sub-ICB locations of a commissioner ("-": of every ICB), in the
 * server's order (ICB, then code).
 */
export async function subIcbLocations(commissioner: string): Promise<SubIcbLocation[]> {
  const out: SubIcbLocation[] = [];
  let pageToken: string | undefined;
  for (;;) {
    const res = await api().GET("/v1/commissioners/{commissioner}/subIcbLocations", {
      params: { path: { commissioner }, query: { pageSize: 500, pageToken } },
    });
    for (const l of res.data?.subIcbLocations ?? []) out.push({ name: l.name, displayName: l.displayName ?? "" });
    if (!res.data?.nextPageToken) return out;
    pageToken = res.data.nextPageToken;
  }
}

/** "North East Hampshire and Farnham (99M)"; "None recorded" for none. */
export function subIcbLabel(name: string | undefined, known: SubIcbLocation[]): string {
  if (!name) return "None recorded";
  const code = lastSegment(name);
  const found = known.find((l) => l.name === name);
  return found?.displayName ? `${found.displayName} (${code})` : code;
}

// What the catalogue says of roles, for pages that need more than a role's name.
import { api } from "./session.js";

/** The roles whose staff must be on a professional register (care co-ordinators, say, need none). */
export async function registeredRoles(): Promise<Set<string>> {
  const roles = (await api().GET("/v1/roles", { params: { query: { pageSize: 500 } } })).data?.roles ?? [];
  return new Set(roles.filter((r) => r.register && r.register !== "PROFESSIONAL_REGISTER_NONE").map((r) => r.name ?? ""));
}

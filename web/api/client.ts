// The typed REST client for arrs: openapi-fetch over the types that
// openapi-typescript generates (schema.d.ts, by `make generate`) from the
// OpenAPI document arrsd serves at /openapi.json. Paths, parameters, bodies
// and responses are checked by the compiler; readOnly fields are left out of
// request bodies.
import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, paths, Readable, Writable } from "./schema.js";

export type { components, paths };
export type Schemas = components["schemas"];
/**
 * What a client may send of a schema: its readOnly fields left out. openapi-fetch
 * infers a body's type from the literal, so a misspelt field is caught only
 * when the body is checked against this: `{...} satisfies Body<"v1Post">`.
 */
export type Body<Name extends keyof Schemas> = Writable<Schemas[Name]>;
/** What the server returns of a schema: readOnly fields included, as plain types. */
export type Resource<Name extends keyof Schemas> = Readable<Schemas[Name]>;
export type ArrsClient = Client<paths>;

/** A client for the arrsd at baseUrl, calling as the holder of token. */
export function arrsClient(baseUrl: string, token?: string): ArrsClient {
  const client = createClient<paths>({ baseUrl });
  if (token !== undefined) {
    const bearer: Middleware = {
      onRequest({ request }) {
        request.headers.set("Authorization", `Bearer ${token}`);
        return request;
      },
    };
    client.use(bearer);
  }
  return client;
}

/** A request id (UUID) for a create or a transition: a retry returns the first result. */
export function randomId(): string {
  return crypto.randomUUID();
}

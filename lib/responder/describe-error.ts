/**
 * A log-safe one-line description of an error: its name and code plus the ISC fields a person needs
 * to follow it up (status, detailCode, trackingId). Deliberately not the message: some messages
 * (JSON.parse, SDK errors) quote input text, which may hold a secret.
 */
export function describeError(error: unknown): string {
  if (typeof error !== "object" || error === null) return typeof error;
  const e = error as {
    name?: unknown;
    code?: unknown;
    status?: unknown;
    detailCode?: unknown;
    trackingId?: unknown;
  };
  const parts = [typeof e.name === "string" ? e.name : "Error"];
  if (typeof e.code === "string") parts.push(`code=${e.code}`);
  if (typeof e.status === "number") parts.push(`status=${e.status}`);
  if (typeof e.detailCode === "string") parts.push(`detailCode=${JSON.stringify(e.detailCode)}`);
  if (typeof e.trackingId === "string") parts.push(`trackingId=${e.trackingId}`);
  return parts.join(" ");
}

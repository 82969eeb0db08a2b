/**
 * The example policy's outside service: a risk score per requested item. With RISK_SERVICE_URL set,
 * `GET {RISK_SERVICE_URL}/items/{id}` answers `{"score": 0..100}`; without it, the built-in table
 * (what `npm start -- --rules examples/typescript/policy.ts` and the offline tests use).
 */

/** Scores of the sandbox directory's items that are not 0 (docs/sandbox.md). */
const BUILT_IN: Readonly<Record<string, number>> = {
  "2c9180887a1b2c3d017a1b2c3d4e0002": 85, // Production Database Admin (role)
  "2c9180887a1b2c3d017a1b2c3d4e0106": 90, // PostgreSQL prod: superuser
  "2c9180887a1b2c3d017a1b2c3d4e0113": 60, // Confluence: space admin
};

/** The item's risk score; rejects when the service fails (the decision then falls back: deny). */
export async function riskScore(itemId: string, signal: AbortSignal): Promise<number> {
  const base = process.env.RISK_SERVICE_URL;
  if (base === undefined || base === "") return BUILT_IN[itemId] ?? 0;
  // The signal aborts at the decision's deadline: the request stops with it.
  const response = await fetch(
    new URL(`items/${encodeURIComponent(itemId)}`, `${base.replace(/\/$/, "")}/`),
    {
      signal,
    },
  );
  if (!response.ok) throw new Error(`the risk service answered HTTP ${response.status}`);
  const body = (await response.json()) as { score?: unknown };
  if (typeof body.score !== "number") throw new Error("the risk service answered no score");
  return body.score;
}

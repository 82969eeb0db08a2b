/**
 * Baseline for the cold-start and warm-latency figures: a Function URL handler that only parses
 * the JSON body and answers a fixed pre-approval output. No auth, no validation, no rules: the
 * floor any real handler is compared against.
 */
interface FunctionUrlEvent {
  body?: string;
  isBase64Encoded?: boolean;
}

export const handler = async (event: FunctionUrlEvent) => {
  const text = event.isBase64Encoded ? Buffer.from(event.body ?? "", "base64").toString("utf8") : event.body;
  let body: unknown;
  try {
    body = JSON.parse(text ?? "");
  } catch {
    return { statusCode: 400, headers: { "content-type": "application/json" }, body: '{"error":"bad json"}' };
  }
  const ok = typeof body === "object" && body !== null;
  return {
    statusCode: ok ? 200 : 400,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ approved: ok, comment: "bare", approver: "" }),
  };
};

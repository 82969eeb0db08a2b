// Placeholder: the HTTP (Function URL) handler lands with the handlers work.
export const handler = async () => ({
  statusCode: 501,
  headers: { "content-type": "application/json" },
  body: "{}",
});

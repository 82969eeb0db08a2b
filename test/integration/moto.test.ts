import { expect, it } from "vitest";

it("moto_server answers on loopback", async () => {
  const url = process.env.AWS_ENDPOINT_URL;
  expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  const response = await fetch(`${url}/moto-api/`);
  expect(response.ok).toBe(true);
});

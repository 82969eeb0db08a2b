import { describe, expect, it } from "vitest";
import { MemorySecretsStore } from "../../../lib/adapters/local/secrets.ts";
import {
  emfMetrics,
  IscCredentialsError,
  parseIscCredentials,
  rotatingIscClient,
  WorkerConfigError,
  workerConfigFromEnv,
} from "../../../lib/worker/from-env.ts";
import { FakeClient } from "../responder/fixtures.ts";

const ENV = {
  SAIL_BASE_URL: "https://acme.api.identitynow.com",
  ISC_CREDENTIALS_SECRET_ID: "isc-creds",
  LEDGER_TABLE_NAME: "ledger",
  RESPONSE_DEADLINE_PRE_APPROVAL: "PT30M",
};

describe("workerConfigFromEnv", () => {
  it("reads the runtime contract's variables", () => {
    const config = workerConfigFromEnv(ENV);
    expect(config.ledgerTableName).toBe("ledger");
    expect(config.rulesPath).toBeUndefined();
    expect(config.responseDeadlineMs("idn:access-request-pre-approval")).toBe(1_800_000);
    expect(config.responseDeadlineMs("idn:access-request-dynamic-approver")).toBe(3_600_000);
  });

  it("names what is missing or malformed", () => {
    expect(() => workerConfigFromEnv({ ...ENV, LEDGER_TABLE_NAME: " " })).toThrow(
      /LEDGER_TABLE_NAME is required/,
    );
    expect(() => workerConfigFromEnv({ ...ENV, RESPONSE_DEADLINE_PRE_APPROVAL: "PT30S" })).toThrow(
      WorkerConfigError,
    );
  });
});

describe("workerConfigFromEnv: decision records", () => {
  it("are off without DECISION_RECORDS_TABLE_NAME, on with it, with the configured retention", () => {
    expect(workerConfigFromEnv(ENV)).toMatchObject({
      decisionRecordsTableName: undefined,
      recordRetentionDays: undefined,
    });
    expect(
      workerConfigFromEnv({
        ...ENV,
        DECISION_RECORDS_TABLE_NAME: "records",
        DECISION_RECORDS_RETENTION_DAYS: "730",
      }),
    ).toMatchObject({ decisionRecordsTableName: "records", recordRetentionDays: 730 });
  });

  it("refuses a retention that is not 1..3650 whole days", () => {
    for (const days of ["0", "3651", "1.5", "a year"]) {
      expect(() => workerConfigFromEnv({ ...ENV, DECISION_RECORDS_RETENTION_DAYS: days })).toThrow(
        /DECISION_RECORDS_RETENTION_DAYS must be a whole number of days/,
      );
    }
  });
});

describe("ISC credentials", () => {
  it("never quote the secret's text in an error", () => {
    const text = '{"clientId": "id", "clientSecret": ""} super-secret-value';
    expect(() => parseIscCredentials(text, "isc-creds")).toThrow(IscCredentialsError);
    try {
      parseIscCredentials('{"clientId": "id", "clientSecret": 42, "x": "super-secret-value"}', "isc-creds");
    } catch (error) {
      expect(String((error as Error).message)).not.toContain("super-secret-value");
    }
  });

  it("a rotated secret builds a new client; an unchanged one reuses it", async () => {
    const secrets = new MemorySecretsStore({ "isc-creds": '{"clientId": "a", "clientSecret": "1"}' });
    const built: string[] = [];
    const client = rotatingIscClient(secrets, "isc-creds", (credentials) => {
      built.push(`${credentials.clientId}:${credentials.clientSecret}`);
      return new FakeClient();
    });
    await client.createRoleInsightsRequest();
    await client.completeCampaign("c1");
    expect(built).toEqual(["a:1"]);
    secrets.set("isc-creds", '{"clientId": "a", "clientSecret": "2"}');
    await client.createRoleInsightsRequest();
    expect(built).toEqual(["a:1", "a:2"]);
  });
});

it("emfMetrics writes one embedded-metric-format line per point", () => {
  const lines: string[] = [];
  emfMetrics("Ns", "svc", (line) => lines.push(line)).record("Completions", "Count", 1, { trigger: "t" });
  const parsed = JSON.parse(lines[0] ?? "{}");
  expect(parsed._aws.CloudWatchMetrics[0]).toEqual({
    Namespace: "Ns",
    Dimensions: [["service", "trigger"]],
    Metrics: [{ Name: "Completions", Unit: "Count" }],
  });
  expect(parsed).toMatchObject({ service: "svc", trigger: "t", Completions: 1 });
});

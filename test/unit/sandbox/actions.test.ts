import { afterEach, describe, expect, it } from "vitest";
import { Tenant } from "./fixtures.ts";

let tenant: Tenant | undefined;
afterEach(async () => {
  await tenant?.close();
  tenant = undefined;
});

const PATCH = { contentType: "application/json-patch+json" };

describe("task status", () => {
  it("GET returns a seeded pending task; PATCH clears it (docs' 'Error' spelling accepted)", async () => {
    tenant = await Tenant.start();
    const [taskId] = tenant.sandbox.state.seeded.taskIds;
    const got = await tenant.call("GET", `/beta/task-status/${taskId}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id: taskId, completionStatus: null, completed: null });

    const patched = await tenant.call(
      "PATCH",
      `/beta/task-status/${taskId}`,
      [
        { op: "replace", path: "/completionStatus", value: "Error" },
        { op: "replace", path: "/completed", value: "2020-07-11T00:00:00Z" },
      ],
      PATCH,
    );
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      id: taskId,
      completionStatus: "ERROR",
      completed: "2020-07-11T00:00:00.000Z",
      percentComplete: 100,
    });
    expect(tenant.sandbox.state.tasks.get(taskId!)?.completionStatus).toBe("ERROR");
  });

  it("refuses other paths, bad values and other content types without changing the task", async () => {
    tenant = await Tenant.start();
    const task = tenant.sandbox.state.createTask({ uniqueName: "Created by the test" });
    const path = `/beta/task-status/${task.id}`;
    for (const body of [
      [{ op: "replace", path: "/uniqueName", value: "x" }],
      [{ op: "replace", path: "/completionStatus", value: "DONE" }],
      [{ op: "replace", path: "/completed", value: "yesterday" }],
      [{ op: "remove", path: "/completed" }],
      [
        { op: "replace", path: "/completionStatus", value: "SUCCESS" },
        { op: "replace", path: "/launcher", value: "x" },
      ],
      {},
    ]) {
      const result = await tenant.call("PATCH", path, body, PATCH);
      expect(result.status, JSON.stringify(body)).toBe(400);
    }
    const json = await tenant.call("PATCH", path, [
      { op: "replace", path: "/completionStatus", value: "SUCCESS" },
    ]);
    expect(json.status).toBe(400);
    expect(tenant.sandbox.state.tasks.get(task.id)?.completionStatus).toBeNull();
  });

  it("unknown task: 404; no experimental header needed in beta, v2024 or v2025", async () => {
    tenant = await Tenant.start();
    expect((await tenant.call("GET", "/beta/task-status/nope")).status).toBe(404);
    const patch = await tenant.call(
      "PATCH",
      "/beta/task-status/nope",
      [{ op: "replace", path: "/completionStatus", value: "SUCCESS" }],
      PATCH,
    );
    expect(patch.status).toBe(404);
    const [taskId] = tenant.sandbox.state.seeded.taskIds;
    for (const version of ["beta", "v2024", "v2025"]) {
      const noHeader = await tenant.call("GET", `/${version}/task-status/${taskId}`, undefined, {
        headers: { "x-sailpoint-experimental": "" },
      });
      expect(noHeader.status).toBe(200);
    }
  });

  it("versioned role insights need the experimental header unless the check is turned off", async () => {
    tenant = await Tenant.start();
    const refused = await tenant.call("POST", "/v2024/role-insights/requests", undefined, {
      headers: { "x-sailpoint-experimental": "" },
    });
    expect(refused.status).toBe(400);
    await tenant.close();
    tenant = await Tenant.start({ requireExperimentalHeader: false });
    const result = await tenant.call("POST", "/v2024/role-insights/requests", undefined, {
      headers: { "x-sailpoint-experimental": "" },
    });
    expect(result.status).toBe(201);
  });
});

describe("campaigns", () => {
  it("completes a past-due campaign (202 {}) on beta and v3, once", async () => {
    tenant = await Tenant.start();
    const { pastDueCampaignId } = tenant.sandbox.state.seeded;
    const done = await tenant.call("POST", `/beta/campaigns/${pastDueCampaignId}/complete`, {
      autoCompleteAction: "REVOKE",
    });
    expect(done.status).toBe(202);
    expect(done.body).toEqual({});
    expect(tenant.sandbox.state.campaigns.get(pastDueCampaignId)).toMatchObject({
      status: "COMPLETED",
      autoCompleteAction: "REVOKE",
    });
    const again = await tenant.call("POST", `/v3/campaigns/${pastDueCampaignId}/complete`);
    expect(again.status).toBe(400);

    const other = tenant.sandbox.state.createCampaign({ deadline: Date.now() - 1 });
    const v3 = await tenant.call("POST", `/v3/campaigns/${other.id}/complete`);
    expect(v3.status).toBe(202);
    expect(tenant.sandbox.state.campaigns.get(other.id)?.autoCompleteAction).toBe("APPROVE");
  });

  it("refuses a campaign that is not past due (400.1), an unknown one (404) and a bad action (400)", async () => {
    tenant = await Tenant.start();
    const { activeCampaignId, pastDueCampaignId } = tenant.sandbox.state.seeded;
    const active = await tenant.call("POST", `/beta/campaigns/${activeCampaignId}/complete`, {});
    expect(active.status).toBe(400);
    expect(active.body).toMatchObject({ detailCode: "400.1 Bad Request Content" });
    expect(tenant.sandbox.state.campaigns.get(activeCampaignId)?.status).toBe("ACTIVE");
    const unknown = await tenant.call("POST", "/v3/campaigns/nope/complete", {});
    expect(unknown.status).toBe(404);
    const badAction = await tenant.call("POST", `/beta/campaigns/${pastDueCampaignId}/complete`, {
      autoCompleteAction: "MAYBE",
    });
    expect(badAction.status).toBe(400);
    expect(tenant.sandbox.state.campaigns.get(pastDueCampaignId)?.status).toBe("ACTIVE");
  });
});

describe("role insights", () => {
  it("creates a request (201 CREATED) whose status advances per read to COMPLETED", async () => {
    tenant = await Tenant.start();
    const created = await tenant.call("POST", "/beta/role-insights/requests");
    expect(created.status).toBe(201);
    const body = created.body as { id: string; status: string; roleIds: string[]; numberOfUpdates: number };
    expect(body).toMatchObject({ status: "CREATED", numberOfUpdates: 0 });
    expect(body.roleIds.length).toBeGreaterThan(0);
    const statuses: string[] = [];
    for (let i = 0; i < 3; i++) {
      statuses.push(
        ((await tenant.call("GET", `/beta/role-insights/requests/${body.id}`)).body as { status: string })
          .status,
      );
    }
    expect(statuses).toEqual(["IN PROGRESS", "COMPLETED", "COMPLETED"]);
  });

  it("advances with time too", async () => {
    let now = 1_700_000_000_000;
    tenant = await Tenant.start({ now: () => now });
    const { id } = (await tenant.call("POST", "/beta/role-insights/requests")).body as { id: string };
    now += 5_000;
    const got = await tenant.call("GET", `/beta/role-insights/requests/${id}`);
    expect(got.body).toMatchObject({ status: "COMPLETED", numberOfUpdates: 3 });
  });

  it("unknown id: 400 400.1.404", async () => {
    tenant = await Tenant.start();
    const result = await tenant.call("GET", "/beta/role-insights/requests/nope");
    expect(result.status).toBe(400);
    expect(result.body).toMatchObject({ detailCode: "400.1.404 Referenced object not found" });
  });
});

/**
 * The console's sandbox controls, where the sandbox runs (`npm start`): fire a test invocation for a
 * chosen person and items in a chosen mode (as the dev runner fires its samples: the subscription
 * switched to the mode, POST /beta/trigger-invocations/test, waited for and checked), turn fault
 * injection on and off, and list the sandbox's invocations.
 *
 * What leaves here is copied field by field: a sandbox invocation holds its secret, which no reply
 * may carry; the list is the status ISC's own API gives, without the secret.
 */
import { randomBytes } from "node:crypto";
import * as z from "zod/mini";
import type { Directory } from "../context/directory.ts";
import { issuesFromZod, ResponderError, ValidationError } from "../errors.ts";
import type { Sample, SampleMode, SampleResult } from "../local/samples.ts";
import type { FaultOptions, Sandbox, SandboxInvocation } from "../sandbox/index.ts";
import { DYNAMIC_APPROVER, PRE_APPROVAL } from "../triggers/trigger-ids.ts";

const id = z.string().check(z.minLength(1), z.maxLength(200));

export const FireRequestSchema = z.object({
  triggerId: z.enum([PRE_APPROVAL, DYNAMIC_APPROVER]),
  mode: z.enum(["sync", "async", "dynamic", "eventbridge"]),
  personId: id,
  /** Who asked (default: the person). */
  requestedById: z.optional(id),
  itemIds: z.array(id).check(z.minLength(1), z.maxLength(10)),
  operation: z.optional(z.enum(["Add", "Remove"])),
  comment: z.optional(z.string().check(z.maxLength(500))),
});
export type FireRequest = z.infer<typeof FireRequestSchema>;

export const FaultsRequestSchema = z.object({
  enabled: z.boolean(),
  /** Probability 0..1 that a sandbox request gets a fault (default 0.2). */
  rate: z.optional(z.number().check(z.gte(0), z.lte(1))),
  target: z.optional(z.enum(["all", "contextReads", "otherRequests"])),
});
export type FaultsRequest = z.infer<typeof FaultsRequestSchema>;

export interface FaultsState {
  enabled: boolean;
  rate: number;
  target: "all" | "contextReads" | "otherRequests";
  /** Faults injected since the sandbox started, per kind. */
  injected: Record<string, number>;
}

export interface InvocationStatusRow {
  id: string;
  triggerId: string;
  subscriptionName: string;
  type: SandboxInvocation["type"];
  mode: SandboxInvocation["delivery"]["mode"];
  status: SandboxInvocation["status"];
  created: string;
  deadline: string;
  completed?: string;
  latencyMs?: number;
  error?: string;
  deliveryStatus?: number;
  deliveryError?: string;
  completions: { at: string; httpStatus: number; result: string; detailCode?: string }[];
}

export interface DirectoryChoices {
  people: { id: string; name: string; status?: string }[];
  items: { id: string; name: string; type: string }[];
}

export interface SandboxControls {
  choices(): DirectoryChoices;
  fire(request: FireRequest): Promise<SampleResult>;
  faults(): FaultsState;
  setFaults(request: FaultsRequest): FaultsState;
  invocations(limit?: number): { counts: Record<string, number>; invocations: InvocationStatusRow[] };
  /** Every value no console reply may hold (invocation secrets, the client secret, the webhook token). */
  secrets(): Iterable<string>;
}

/** What the controls need of the dev session (lib/local/dev.ts). */
export interface DevSessionLike {
  sandbox: Sandbox;
  bearerToken: string;
  fire(sample: Sample, mode: SampleMode): Promise<SampleResult>;
}

export class ControlError extends ResponderError {}

export function parseBody<T>(schema: z.ZodMiniType<T>, value: unknown, what: string): T {
  const parsed = z.safeParse(schema, value);
  if (!parsed.success) throw new ValidationError(what, issuesFromZod(parsed.error.issues));
  return parsed.data;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function invocationRow(invocation: SandboxInvocation): InvocationStatusRow {
  const row: InvocationStatusRow = {
    id: invocation.id,
    triggerId: invocation.triggerId,
    subscriptionName: invocation.subscriptionName,
    type: invocation.type,
    mode: invocation.delivery.mode,
    status: invocation.status,
    created: iso(invocation.created),
    deadline: iso(invocation.deadline),
    completions: invocation.completions.map((c) => ({
      at: iso(c.at),
      httpStatus: c.httpStatus,
      result: c.result,
      ...(c.detailCode === undefined ? {} : { detailCode: c.detailCode }),
    })),
  };
  if (invocation.completed !== undefined) {
    row.completed = iso(invocation.completed);
    row.latencyMs = invocation.completed - invocation.created;
  }
  if (invocation.error !== undefined) row.error = invocation.error.slice(0, 300);
  if (invocation.delivery.httpStatus !== undefined) row.deliveryStatus = invocation.delivery.httpStatus;
  if (invocation.delivery.error !== undefined) row.deliveryError = invocation.delivery.error.slice(0, 300);
  return row;
}

function itemsOf(directory: Directory): Map<string, { id: string; name: string; type: string }> {
  return new Map(directory.requestableItems().map((item) => [item.id, item]));
}

const DEFAULT_FAULT_RATE = 0.2;
/** Fired invocations wait one behind the other (each switches its trigger's subscription mode). */
const MAX_WAITING_FIRES = 5;

export function devSandboxControls(
  session: DevSessionLike,
  options: { ready?: Promise<unknown> } = {},
): SandboxControls {
  const { sandbox } = session;
  let faults: Omit<FaultsState, "injected"> = { enabled: false, rate: DEFAULT_FAULT_RATE, target: "all" };
  // The dev runner's own samples switch modes too: controls wait for them before firing.
  let chain: Promise<unknown> = (options.ready ?? Promise.resolve()).catch(() => {});
  let waiting = 0;

  return {
    choices() {
      const people = sandbox.directory.identities().map((person) => {
        const status = person.lifecycleState?.stateName;
        return { id: person.id, name: person.name, ...(typeof status === "string" ? { status } : {}) };
      });
      return { people, items: [...itemsOf(sandbox.directory).values()] };
    },
    async fire(request) {
      const directory = sandbox.directory;
      const person = directory.identity(request.personId);
      if (person === undefined) {
        throw new ControlError("UNKNOWN_PERSON", "no such person in the sandbox's directory", {
          httpStatus: 400,
        });
      }
      const requester =
        request.requestedById === undefined ? person : directory.identity(request.requestedById);
      if (requester === undefined) {
        throw new ControlError("UNKNOWN_PERSON", "no such requester in the sandbox's directory", {
          httpStatus: 400,
        });
      }
      const known = itemsOf(directory);
      const items = request.itemIds.map((itemId) => {
        const item = known.get(itemId);
        if (item === undefined) {
          throw new ControlError("UNKNOWN_ITEM", "no such item in the sandbox's directory", {
            httpStatus: 400,
          });
        }
        return {
          id: item.id,
          name: item.name,
          type: item.type,
          operation: request.operation ?? "Add",
          ...(request.comment ? { comment: request.comment } : {}),
        };
      });
      const sample: Sample = {
        name: "fired from the console",
        triggerId: request.triggerId,
        input: {
          accessRequestId: randomBytes(16).toString("hex"),
          requestedFor: { type: "IDENTITY", id: person.id, name: person.name },
          requestedItems: items,
          requestedBy: { type: "IDENTITY", id: requester.id, name: requester.name },
        },
      };
      if (waiting >= MAX_WAITING_FIRES) {
        throw new ControlError("BUSY", "too many invocations waiting to be fired; try again shortly", {
          httpStatus: 429,
        });
      }
      waiting++;
      const run = chain.then(() => session.fire(sample, request.mode));
      chain = run.catch(() => {});
      try {
        return await run;
      } catch (error) {
        throw new ControlError(
          "FIRE_FAILED",
          `the sandbox did not take the invocation (${(error as Error).name})`,
          {
            httpStatus: 502,
            cause: error,
          },
        );
      } finally {
        waiting--;
      }
    },
    faults() {
      return { ...faults, injected: { ...sandbox.state.faultsInjected } };
    },
    setFaults(request) {
      faults = {
        enabled: request.enabled,
        rate: request.rate ?? faults.rate,
        target: request.target ?? faults.target,
      };
      const next: FaultOptions | undefined = faults.enabled
        ? { rate: faults.rate, target: faults.target }
        : undefined;
      sandbox.setFaults(next);
      return this.faults();
    },
    invocations(limit = 50) {
      const all = [...sandbox.state.invocations.values()].sort((a, b) => b.created - a.created);
      return {
        counts: sandbox.state.countInvocations(),
        invocations: all.slice(0, limit).map(invocationRow),
      };
    },
    *secrets() {
      yield session.bearerToken;
      yield sandbox.clientSecret;
      for (const invocation of sandbox.state.invocations.values()) yield invocation.secret;
    },
  };
}

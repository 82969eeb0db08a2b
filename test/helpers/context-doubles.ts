/**
 * Test doubles for deciding with live context: rules that need the identity of the person the access
 * is for (approve when ACTIVE, deny otherwise), and a reader that answers, fails or hangs on demand.
 */
import type {
  ContextData,
  ContextReader,
  ContextReadOptions,
  ContextResult,
  ContextSubject,
} from "../../lib/context/types.ts";
import type { CompiledRules, Decision, Explanation } from "../../lib/rules/types.ts";
import type { Invocation } from "../../lib/triggers/invocation.ts";
import { DYNAMIC_APPROVER, PRE_APPROVAL } from "../../lib/triggers/trigger-ids.ts";

function explanation(ruleId: string, kind: Explanation["kind"], fallbackReason?: string): Explanation {
  return {
    ruleId,
    kind,
    matched: [],
    rulesVersion: "sha256:context",
    rulesEvaluated: 1,
    evaluationMicros: 1,
    ...(fallbackReason === undefined ? {} : { fallbackReason }),
  };
}

/** Denies unless the first person's identityStatus is ACTIVE; needs `identity`. */
export function identityRules(): CompiledRules & { evaluations: Array<ContextData | undefined> } {
  const evaluations: Array<ContextData | undefined> = [];
  const decisionFor = (invocation: Invocation, active: boolean): Decision => {
    if (invocation.triggerId === DYNAMIC_APPROVER) {
      return {
        triggerId: DYNAMIC_APPROVER,
        output: { id: "mgr-1", name: "Manager", type: "IDENTITY" },
        explanation: explanation("manager", "rule"),
        actions: [],
      };
    }
    return {
      triggerId: PRE_APPROVAL,
      output: { approved: active, comment: active ? "active" : "not active", approver: "rules" },
      explanation: explanation(active ? "active" : "inactive", "rule"),
      actions: [],
    } as Decision;
  };
  const rules = {
    version: "sha256:context",
    evaluations,
    contextNeeds: () => new Set(["identity"] as const),
    evaluate(invocation: Invocation, context?: ContextData) {
      evaluations.push(context);
      if (context?.identity === undefined) return { contextRequired: new Set(["identity"] as const) };
      return decisionFor(invocation, context.identity[0]?.identityStatus === "ACTIVE");
    },
    decide(): Decision {
      throw new Error("decide() without context");
    },
    fallback(triggerId: Invocation["triggerId"], reason: string): Decision {
      if (triggerId === DYNAMIC_APPROVER) {
        return {
          triggerId,
          output: { id: "gg-1", name: "Access Governance", type: "GOVERNANCE_GROUP" },
          explanation: explanation("fallback", "fallback", reason),
          actions: [],
        };
      }
      return {
        triggerId: PRE_APPROVAL,
        output: { approved: false, comment: "fallback", approver: "rules" },
        explanation: explanation("fallback", "fallback", reason),
        actions: [],
      } as Decision;
    },
  };
  return rules as CompiledRules & { evaluations: Array<ContextData | undefined> };
}

export type ReaderBehaviour =
  | { status: string }
  | { error: Record<string, unknown> }
  | { hang: true }
  | { delayMs: number; status: string };

/** A reader answering each read by the next behaviour (the last one repeats). */
export class ScriptedReader implements ContextReader {
  readonly calls: Array<{ subject: ContextSubject; needs: string[]; options: ContextReadOptions }> = [];
  readonly behaviours: ReaderBehaviour[];
  constructor(behaviours: ReaderBehaviour[]) {
    this.behaviours = behaviours;
  }

  async read(subject: ContextSubject, needs: ReadonlySet<string>, options: ContextReadOptions) {
    this.calls.push({ subject, needs: [...needs], options });
    const behaviour = this.behaviours.length > 1 ? this.behaviours.shift() : this.behaviours[0];
    if (behaviour === undefined) throw new Error("no behaviour");
    if ("hang" in behaviour) {
      return new Promise<ContextResult>((_, reject) => {
        options.signal?.addEventListener("abort", () =>
          reject(Object.assign(new Error("aborted"), { kind: "identities", reason: "timeout" })),
        );
      });
    }
    if ("error" in behaviour) throw Object.assign(new Error("context read failed"), behaviour.error);
    if ("delayMs" in behaviour) {
      const ms = Number(behaviour.delayMs);
      await new Promise((resolve) => setTimeout(resolve, ms));
    }
    return {
      data: {
        identity: subject.requestedFor.map((ref) => ({
          id: ref.id,
          name: ref.id,
          identityStatus: behaviour.status,
        })),
      },
      reads: [{ kind: "identities" as const, ids: subject.requestedFor.length, from: "api" as const, ms: 3 }],
      cacheHits: 0,
    };
  }
}

/**
 * `--shadow TRIGGER` of `dev` and `serve` (repeatable): the trigger runs in shadow mode with its
 * neutral answer (pre-approval: approve, dynamic approver: no extra approver), as
 * `triggers.<trigger>.shadow: true` does in a deployment (docs/going-live.md).
 */
import { defaultShadowAnswer, type ShadowSettings } from "../responder/shadow.ts";
import { DYNAMIC_APPROVER, PRE_APPROVAL } from "../triggers/trigger-ids.ts";
import { UsageError } from "./io.ts";

const TRIGGER_NAMES: Readonly<Record<string, typeof PRE_APPROVAL | typeof DYNAMIC_APPROVER>> = {
  "pre-approval": PRE_APPROVAL,
  [PRE_APPROVAL]: PRE_APPROVAL,
  "dynamic-approver": DYNAMIC_APPROVER,
  [DYNAMIC_APPROVER]: DYNAMIC_APPROVER,
};

export const SHADOW_FLAG_HELP =
  "--shadow TRIGGER     run pre-approval or dynamic-approver in shadow mode: the rules decide and are recorded,\n" +
  "                       ISC gets approve / no extra approver (repeatable; docs/going-live.md)";

/** The settings the flags name; undefined when none is given. */
export function shadowFromFlags(values: unknown): ShadowSettings | undefined {
  const names = values === undefined ? [] : Array.isArray(values) ? values : [values];
  if (names.length === 0) return undefined;
  const settings: ShadowSettings = {};
  for (const name of names) {
    const triggerId = TRIGGER_NAMES[String(name)];
    if (triggerId === undefined) {
      throw new UsageError(`--shadow ${String(name)}: expected pre-approval or dynamic-approver`);
    }
    if (triggerId === PRE_APPROVAL) settings[PRE_APPROVAL] = defaultShadowAnswer(PRE_APPROVAL) as never;
    else settings[DYNAMIC_APPROVER] = defaultShadowAnswer(DYNAMIC_APPROVER) as never;
  }
  return settings;
}

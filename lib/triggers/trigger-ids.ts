/** The trigger ids the responder knows. Anything else is refused as an unknown trigger. */
export const PRE_APPROVAL = "idn:access-request-pre-approval";
export const DYNAMIC_APPROVER = "idn:access-request-dynamic-approver";
/** FIRE_AND_FORGET: accepted so rules can act on it; nothing is ever completed for it. */
export const POST_APPROVAL = "idn:access-request-post-approval";

export const REQUEST_RESPONSE_TRIGGERS = [PRE_APPROVAL, DYNAMIC_APPROVER] as const;
export const FIRE_AND_FORGET_TRIGGERS = [POST_APPROVAL] as const;

export type RequestResponseTriggerId = (typeof REQUEST_RESPONSE_TRIGGERS)[number];
export type FireAndForgetTriggerId = (typeof FIRE_AND_FORGET_TRIGGERS)[number];
export type KnownTriggerId = RequestResponseTriggerId | FireAndForgetTriggerId;

export function isRequestResponseTrigger(id: string): id is RequestResponseTriggerId {
  return id === PRE_APPROVAL || id === DYNAMIC_APPROVER;
}

export function isKnownTrigger(id: string): id is KnownTriggerId {
  return isRequestResponseTrigger(id) || id === POST_APPROVAL;
}

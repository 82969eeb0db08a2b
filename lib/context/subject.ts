/**
 * The ids of an access request input that context is read for. requestedFor arrives as one object
 * (every documented payload) or a list (the current spec): both become a list here.
 */
import type { ContextSubject } from "./types.ts";

interface AccessRequestLike {
  requestedFor?: unknown;
  requestedBy?: unknown;
  requestedItems?: unknown;
  /** post-approval (FIRE_AND_FORGET) lists its items here. */
  requestedItemsStatus?: unknown;
}

function idOf(value: unknown): { id: string } | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const id = (value as { id?: unknown }).id;
  return typeof id === "string" ? { id } : undefined;
}

export function contextSubject(input: AccessRequestLike): ContextSubject {
  const people = Array.isArray(input.requestedFor) ? input.requestedFor : [input.requestedFor];
  const requestedFor = people.map(idOf).filter((ref) => ref !== undefined);
  const listed = input.requestedItems ?? input.requestedItemsStatus;
  const items = Array.isArray(listed) ? listed : [];
  const requestedItems = items.flatMap((item: unknown) => {
    const ref = idOf(item);
    if (ref === undefined) return [];
    const { type, operation } = item as { type?: unknown; operation?: unknown };
    return [
      {
        id: ref.id,
        type: typeof type === "string" ? type : "",
        operation: typeof operation === "string" ? operation : undefined,
      },
    ];
  });
  return { requestedFor, requestedBy: idOf(input.requestedBy), requestedItems };
}

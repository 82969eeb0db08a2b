/**
 * The cache key `kind:id` of an id, made once and reused each time a read asks for that id again.
 * A key made anew per read is a fresh string: every cache lookup and provenance entry would pay to
 * flatten and hash it again, which is most of what a read served from the cache costs. Bounded:
 * past `max` keys it forgets them all (they are simply made again).
 */
import type { ContextKind } from "./types.ts";

export class CacheKeys {
  private readonly max: number;
  private byKind = new Map<ContextKind, Map<string, string>>();
  private size = 0;

  constructor(max: number) {
    this.max = Math.max(1, max);
  }

  /** `kind:id`, the same string each time while remembered. */
  of(kind: ContextKind, id: string): string {
    const keys = this.byKind.get(kind);
    const known = keys?.get(id);
    if (known !== undefined) return known;
    if (this.size >= this.max) {
      this.byKind = new Map();
      this.size = 0;
    }
    const key = `${kind}:${id}`;
    let kindKeys = this.byKind.get(kind);
    if (kindKeys === undefined) {
      kindKeys = new Map();
      this.byKind.set(kind, kindKeys);
    }
    kindKeys.set(id, key);
    this.size += 1;
    return key;
  }
}

/**
 * The context reader of a deployment or a local run: the ISC client's reads, batched and cached per
 * container with the stack's settings (CONTEXT_SETTINGS).
 */
import type { IscContextReads } from "../isc/context-reads.ts";
import { IscContextFetcher } from "./isc-fetcher.ts";
import { CachedContextReader } from "./reader.ts";
import { type ContextSettings, DEFAULT_CONTEXT_SETTINGS, ttlMsByKind } from "./settings.ts";

export function contextReaderForClient(
  client: { readonly context: IscContextReads },
  settings: ContextSettings = DEFAULT_CONTEXT_SETTINGS,
): CachedContextReader {
  return new CachedContextReader(new IscContextFetcher(client), {
    ttlMs: ttlMsByKind(settings),
    maxEntries: settings.maxEntries,
  });
}

/**
 * The http function's live-context reader, built on its first read. functions/http.ts imports this
 * module dynamically: with the bundle split (infra/bundling.ts), everything only it reaches (the
 * reader and its cache, the context ISC client, the credentials rotation) is one chunk beside
 * index.mjs, loaded on the first context read and never by payload-only decisions. One module, one
 * dynamic import: each further lazy entry would add shared chunks that index.mjs loads at init.
 */
import { CachedSecretsStore } from "../adapters/cached-secrets.ts";
import { contextReaderForClient } from "../context/for-client.ts";
import type { CachedContextReader } from "../context/reader.ts";
import { type ContextSettings, iscRateLimits } from "../context/settings.ts";
import { IscContextClient } from "../isc/context-client.ts";
import { rotatingIscContextClient } from "../isc/credentials.ts";
import { countThrottles, type PipelineMetrics } from "../responder/observability.ts";

export interface HttpContextReaderOptions {
  /** Reads a secret's text (the extension or Secrets Manager, as the credentials are read). */
  readSecret: (secretId: string) => Promise<string>;
  /** The ISC API credentials' secret (ISC_CREDENTIALS_SECRET_ID). */
  iscCredentialsSecretId: string;
  tenantBaseUrl: string;
  context: ContextSettings;
  metrics: PipelineMetrics;
}

/** The cached reader over the context-only ISC client (the full IscClient is the worker's). */
export function buildHttpContextReader(options: HttpContextReaderOptions): CachedContextReader {
  const secrets = new CachedSecretsStore({ getSecretString: options.readSecret }, { ttlMs: 300_000 });
  const limits = iscRateLimits(options.context);
  const client = rotatingIscContextClient(
    secrets,
    options.iscCredentialsSecretId,
    (iscCredentials) =>
      new IscContextClient({
        baseUrl: options.tenantBaseUrl,
        ...iscCredentials,
        ...limits,
        onRetry: countThrottles(options.metrics),
      }),
  );
  return contextReaderForClient(client, options.context);
}

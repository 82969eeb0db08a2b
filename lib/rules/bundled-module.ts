/**
 * The functions' side of a TypeScript rules module (`rulesFile: policy.ts`). The stack bundles the
 * module into each function that loads rules: infra/typescript-rules.ts writes a small file that
 * esbuild injects (`inject`), which registers a loader, `() => import(policy)`, and the rules
 * version computed at synth. The import is dynamic so the module runs after init prepared RE2 (its
 * defineRules compiles `matches`), and in a split bundle it is a chunk of its own.
 *
 * Without a registered module (YAML or JSON rules) bundledRules() is undefined and the function
 * compiles rules.json as before. With one, rules.json is still the module's validated document
 * (RE2 is loaded from it), and the compiled rules are the module's, with the synth's version.
 */
import { RulesFileError } from "./errors.ts";
import type { CompiledRules } from "./types.ts";
import type { DefinedRules } from "./typescript-api.ts";

interface RegisteredModule {
  load: () => Promise<unknown>;
  version: string;
  source: string;
}

let registered: RegisteredModule | undefined;

/** Called by the injected file (infra/typescript-rules.ts), before the function's own code runs. */
export function registerRulesModule(load: () => Promise<unknown>, version: string, source: string): void {
  registered = { load, version, source };
}

/** The bundled module's rules, reporting the synth's version; undefined when no module is bundled. */
export async function bundledRules(): Promise<CompiledRules | undefined> {
  if (registered === undefined) return undefined;
  const { load, version, source } = registered;
  return definedRulesOf(await load(), source).withVersion(version);
}

/** What a module exports as its rules: the default export, else `rules`. Throws RulesFileError otherwise. */
export function definedRulesOf(exports: unknown, file: string): DefinedRules {
  const record = (exports ?? {}) as Record<string, unknown>;
  for (const candidate of [record.default, record.rules]) {
    if (isDefinedRules(candidate)) return candidate;
  }
  throw new RulesFileError(file, [
    {
      path: "",
      message:
        "the module exports no rules: `export default defineRules({...})` (lib/rules/typescript-api.ts)",
    },
  ]);
}

function isDefinedRules(value: unknown): value is DefinedRules {
  const v = value as Partial<DefinedRules> | null | undefined;
  return (
    typeof v === "object" &&
    v !== null &&
    typeof v.evaluate === "function" &&
    typeof v.withVersion === "function" &&
    typeof v.document === "object"
  );
}

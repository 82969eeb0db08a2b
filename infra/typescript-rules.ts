/**
 * The deploy side of a TypeScript rules module (`rulesFile: policy.ts`): esbuild bundles the module
 * into the functions that load rules, through a file it injects into the bundle
 * (lib/rules/bundled-module.ts has the functions' side). rules.json is still written: the module's
 * validated document, from which the functions load RE2 when the rules use `matches`.
 *
 * Synth imports the module (validating its document as `rules check` does) but does not type-check
 * it: run `tsc --noEmit` in CI for that.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT } from "./bundling.ts";

/** The module to bundle, and the version the functions report (infra/rules.ts ValidatedRules). */
export interface RulesModuleBundle {
  /** Absolute path of the module. */
  path: string;
  /** RulesVersion: the document's and the module's sources' (lib/rules/typescript-module.ts). */
  version: string;
}

/**
 * Writes the file esbuild injects (`inject: [file]`): it registers `() => import(module)` and the
 * version before the function's code runs. Under the OS temp dir, named by the version.
 */
export function writeRulesModuleInject(bundle: RulesModuleBundle): string {
  const folder = join(tmpdir(), "isc-responder-rules", `module-${bundle.version.slice(7, 23)}`);
  mkdirSync(folder, { recursive: true });
  const file = join(folder, "register-rules-module.mjs");
  const registry = join(PROJECT_ROOT, "lib/rules/bundled-module.ts");
  writeFileSync(
    file,
    [
      "// Generated at synth by infra/typescript-rules.ts: registers the bundled rules module.",
      `import { registerRulesModule } from ${JSON.stringify(registry)};`,
      `registerRulesModule(() => import(${JSON.stringify(bundle.path)}), ${JSON.stringify(bundle.version)}, ${JSON.stringify(bundle.path.split("/").pop() ?? "rules module")});`,
      "",
    ].join("\n"),
  );
  return file;
}

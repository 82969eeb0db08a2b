/** The rules engine's two paths, for tests that must hold on both: planned at compile, or precompiled at synth. */
import { compileRules } from "../../../lib/rules/compile.ts";
import { parseRulesFile } from "../../../lib/rules/load-file.ts";
import { precompiledRules } from "../../../lib/rules/precompiled.ts";
import type { RulesDocument } from "../../../lib/rules/schema.ts";
import type { CompiledRules } from "../../../lib/rules/types.ts";

/** As the stack ships it: the plan through JSON (rules.precompiled.json), the document compiled with it. */
export function compileWithPrecompiled(document: RulesDocument, source = "rules document"): CompiledRules {
  const version = compileRules(document).version;
  const precomputed: unknown = JSON.parse(JSON.stringify(precompiledRules(document, version)));
  return compileRules(document, {
    source,
    version,
    precomputed,
    onPrecomputedIgnored: (reason) => {
      throw new Error(`the precompiled plan was ignored: ${reason}`);
    },
  });
}

/** compileRulesText(...).compiled, through the precompiled path. */
export function compileTextWithPrecompiled(text: string, filename: string): CompiledRules {
  return compileWithPrecompiled(parseRulesFile(text, filename), filename);
}

/**
 * What `matches` accepts, checked at load (`rules check`, synth). Patterns are matched by RE2 (linear
 * time, everywhere: regex.ts), so what RE2 cannot run is refused with a message saying why:
 * backreferences (`\1`, `\k<name>`) and lookaround (`(?=`, `(?!`, `(?<=`, `(?<!`). A pattern must also
 * be valid JavaScript, so it reads the same to its author as to the engine. Nested repetition
 * (`(a+)+`) is accepted: it costs RE2 nothing, and no function matches with a backtracking engine.
 * At evaluation the whole value is tested (regex.ts).
 */
import { registeredRegexEngine } from "./regex.ts";

export const MAX_PATTERN_LENGTH = 200;

/** Why a pattern is refused, or undefined when it is acceptable. */
export function regexProblem(pattern: string): string | undefined {
  if (pattern.length > MAX_PATTERN_LENGTH) {
    return `pattern is longer than ${MAX_PATTERN_LENGTH} characters`;
  }
  const unsupported = re2Unsupported(pattern);
  if (unsupported !== undefined) return unsupported;
  try {
    new RegExp(pattern);
  } catch {
    return "is not a valid regular expression";
  }
  // Registered wherever rules are checked (tools) or loaded with a pattern (load-bundled.ts); where
  // it is not, compiling the pattern fails anyway (regex.ts).
  const engine = registeredRegexEngine();
  if (engine === undefined) return undefined;
  try {
    engine.compile(pattern, false);
  } catch (error) {
    return `RE2 cannot run it (${re2Message(error)})`;
  }
  return undefined;
}

/** Backreferences and lookaround, which a linear-time engine cannot run, outside character classes. */
function re2Unsupported(pattern: string): string | undefined {
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === "\\") {
      const next = pattern[i + 1] ?? "";
      if (!inClass && (/[1-9]/.test(next) || next === "k")) {
        return `backreferences ("\\${next}") need backtracking, which RE2 (linear-time matching) does not do`;
      }
      i++;
      continue;
    }
    if (inClass) {
      if (ch === "]") inClass = false;
      continue;
    }
    if (ch === "[") inClass = true;
    else if (ch === "(" && pattern[i + 1] === "?") {
      const kind = pattern.slice(i + 2, i + 4);
      if (kind[0] === "=" || kind[0] === "!" || kind === "<=" || kind === "<!") {
        const written = pattern.slice(i, i + 3 + (kind[0] === "<" ? 1 : 0));
        return `lookaround "${written}" is not supported by RE2 (linear-time matching): use two conditions under all/not instead`;
      }
    }
  }
  return undefined;
}

/** re2js's message without its "error parsing regexp: " prefix, bounded. */
function re2Message(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const text = message.replace(/^error parsing regexp: /, "");
  const hint = /`\\u/.test(text) ? "; write \\x{00e9} for a code point" : "";
  return `${text.slice(0, 120)}${hint}`;
}

/**
 * The regular expression engine behind `matches`. A requester writes the text a pattern is tested
 * on (a comment), so matching must take linear time: with backtracking, `\w+\s*\w+\s*\w+\s*approve`
 * on 250 characters took seconds, `a*a*a*b` on 1,000 took 40 s. The only engine is RE2 (re2js):
 * the tools register it by importing regex-re2.ts, the Lambda functions load it from re2.mjs when
 * their rules use `matches` (load-bundled.ts). There is no backtracking fallback on purpose: rules
 * with `matches` compiled where RE2 was not registered (a bundling mistake) fail to compile, loudly,
 * instead of running JavaScript's engine on a requester's text.
 */
import { ResponderError } from "../errors.ts";

/** Whether the pattern matches anywhere in the text. */
export type RegexTest = (text: string) => boolean;

export interface RegexEngine {
  readonly name: "re2";
  /** Throws an Error whose message says what is wrong with the pattern. */
  compile(pattern: string, ignoreCase: boolean): RegexTest;
}

let registered: RegexEngine | undefined;

/** Makes `engine` the one every rule set compiled from now on uses. */
export function useRegexEngine(engine: RegexEngine): void {
  registered = engine;
}

/** The registered engine, or undefined before RE2 is registered. */
export function registeredRegexEngine(): RegexEngine | undefined {
  return registered;
}

/** The registered engine; throws REGEX_ENGINE_MISSING when none is (never falls back to backtracking). */
export function regexEngine(): RegexEngine {
  if (registered !== undefined) return registered;
  throw new ResponderError(
    "REGEX_ENGINE_MISSING",
    "`matches` needs the RE2 engine, which is not loaded: tools import lib/rules/regex-re2.ts, the Lambda functions load re2.mjs beside index.mjs (lib/rules/load-bundled.ts)",
  );
}

/**
 * A `matches` test over a value: text only, all of it. RE2 is linear in the text and the body is
 * bounded (the http function's 256 KB), so nothing is cut: a cap would let a requester pad a comment
 * past a deny rule's pattern, or make `$` match where the text was cut.
 */
export function compileMatches(pattern: string, ignoreCase: boolean): (value: unknown) => boolean {
  const test = regexEngine().compile(pattern, ignoreCase);
  return (v) => typeof v === "string" && test(v);
}

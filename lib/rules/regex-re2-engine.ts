/**
 * RE2 (re2js, a pure-JavaScript port: linear time in the text, no backtracking) as a RegexEngine,
 * without registering it. It is the entry of the functions' separate `re2.mjs` (infra/bundling.ts):
 * it must import nothing of ours at run time, or re2.mjs would carry its own copy of the registry.
 */
import { RE2JS } from "re2js";
import type { RegexEngine } from "./regex.ts";

export const re2Engine: RegexEngine = {
  name: "re2",
  compile(pattern, ignoreCase) {
    const re = RE2JS.compile(pattern, ignoreCase ? RE2JS.CASE_INSENSITIVE : 0);
    return (text) => re.test(text);
  },
};

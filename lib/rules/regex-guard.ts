/**
 * Guard against regular expressions that can backtrack catastrophically (ReDoS): a rules file is
 * configuration, but one bad pattern must not stall a Lambda past ISC's deadline. Checked at load;
 * at evaluation the tested text is also capped (MAX_TESTED_LENGTH).
 *
 * Conservative on purpose: a repeated group may contain neither a repetition nor an alternative
 * (`(a+)+`, `(a|ab)*`), and backreferences are refused. Plain alternations and repeated classes are fine.
 */

export const MAX_PATTERN_LENGTH = 200;
/** Only the first characters of a value are matched against a pattern. */
export const MAX_TESTED_LENGTH = 1000;

/** Why a pattern is refused, or undefined when it is acceptable. */
export function regexProblem(pattern: string): string | undefined {
  if (pattern.length > MAX_PATTERN_LENGTH) {
    return `pattern is longer than ${MAX_PATTERN_LENGTH} characters`;
  }
  try {
    new RegExp(pattern);
  } catch {
    return "is not a valid regular expression";
  }
  if (/\\[1-9]|\\k</.test(pattern)) return "backreferences are not allowed";

  // One frame per open group: did it contain a repetition or an alternative?
  const stack: Array<{ risky: boolean }> = [{ risky: false }];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === "\\") {
      i++;
      continue;
    }
    if (inClass) {
      if (ch === "]") inClass = false;
      continue;
    }
    const top = stack[stack.length - 1] as { risky: boolean };
    if (ch === "[") inClass = true;
    else if (ch === "(") stack.push({ risky: false });
    else if (ch === "|") top.risky = true;
    else if (ch === ")") {
      const closed = stack.pop() as { risky: boolean };
      const parent = stack[stack.length - 1];
      const repeated = isQuantifierAt(pattern, i + 1);
      if (closed.risky && repeated) {
        return "a repeated group contains a repetition or alternatives (nested quantifiers can backtrack catastrophically)";
      }
      if (parent !== undefined && (closed.risky || repeated)) parent.risky = true;
    } else if (isQuantifierAt(pattern, i)) {
      top.risky = true;
    }
  }
  return undefined;
}

function isQuantifierAt(pattern: string, i: number): boolean {
  const ch = pattern[i];
  if (ch === "*" || ch === "+") return true;
  // `?` after `(` is a group modifier, not a quantifier.
  if (ch === "?") return pattern[i - 1] !== "(";
  if (ch === "{") return /^\{\d+(,\d*)?\}/.test(pattern.slice(i, i + 12));
  return false;
}

/**
 * What `rules check` says of a `time:` condition (and of a test's `at`), at its path: the zone is a
 * named IANA zone this runtime knows, weekdays, times of day and dates parse, and the condition can
 * hold. Apart from time-conditions.ts so the Lambda bundles do not carry the messages.
 */
import { dateKey, minuteOfDay, type TimeCondition, weekdayMask } from "./time-conditions.ts";

type Issue = { path: PropertyKey[]; message: string };

/** `Europe/Berlin`, `America/Argentina/Buenos_Aires`, `UTC`: names, not offsets (which ignore DST). */
const ZONE_NAME = /^(?:UTC|[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)+)$/;

export function zoneProblem(zone: string): string | undefined {
  if (!ZONE_NAME.test(zone)) {
    return `"${zone}" is not a named time zone: use an IANA name like Europe/Berlin or America/New_York (or UTC); a fixed offset ignores daylight saving time`;
  }
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
  } catch {
    return `unknown time zone "${zone}" (an IANA name like Europe/Berlin, America/New_York, or UTC)`;
  }
  return undefined;
}

export function checkTimeCondition(
  spec: TimeCondition,
  defaultZone: string | undefined,
  path: PropertyKey[],
): Issue[] {
  const issues: Issue[] = [];
  const at = (key: PropertyKey, ...rest: PropertyKey[]) => [...path, key, ...rest];
  if (spec.zone !== undefined) {
    const problem = zoneProblem(spec.zone);
    if (problem !== undefined) issues.push({ path: at("zone"), message: problem });
  } else if (defaultZone === undefined) {
    issues.push({
      path,
      message:
        "needs a zone: `zone: Europe/Berlin` here, or `timeZone:` at the top of the file (the clock is read in that zone)",
    });
  }
  if (spec.weekdays === undefined && spec.between === undefined && spec.date === undefined) {
    issues.push({ path, message: "always holds: give weekdays, between (times of day) or date" });
  }
  if (spec.weekdays !== undefined) {
    const mask = weekdayMask(spec.weekdays);
    if (typeof mask === "string") issues.push({ path: at("weekdays"), message: mask });
  }
  if (spec.between !== undefined) {
    const [from, until] = spec.between;
    const a = minuteOfDay(from);
    const b = minuteOfDay(until, true);
    if (a === undefined) issues.push({ path: at("between", 0), message: `expected a time of day HH:MM` });
    if (b === undefined)
      issues.push({ path: at("between", 1), message: `expected a time of day HH:MM (or 24:00)` });
    if (a !== undefined && a === b) {
      issues.push({
        path: at("between"),
        message:
          "starts when it ends: give two different times (22:00-06:00 crosses midnight; a whole day needs no between)",
      });
    }
  }
  const date = spec.date;
  if (date !== undefined) {
    const keys = (["after", "before"] as const).filter((k) => date[k] !== undefined);
    if (keys.length === 0 && date.between === undefined) {
      issues.push({ path: at("date"), message: "needs after, before or between" });
    }
    let bad = false;
    for (const key of keys) {
      if (dateKey(date[key]) === undefined) {
        bad = true;
        issues.push({ path: at("date", key), message: "expected a date YYYY-MM-DD" });
      }
    }
    date.between?.forEach((d, i) => {
      if (dateKey(d) === undefined) {
        bad = true;
        issues.push({ path: at("date", "between", i), message: "expected a date YYYY-MM-DD" });
      }
    });
    if (!bad) {
      // In days since 1970: after and before are exclusive, between inclusive.
      const day = (d: string) => Date.parse(d) / 86_400_000;
      const first = Math.max(
        date.after === undefined ? -Infinity : day(date.after) + 1,
        date.between === undefined ? -Infinity : day(date.between[0]),
      );
      const last = Math.min(
        date.before === undefined ? Infinity : day(date.before) - 1,
        date.between === undefined ? Infinity : day(date.between[1]),
      );
      if (first > last) {
        issues.push({
          path: at("date"),
          message:
            "never holds: no date is in this range (after and before exclude the date, between includes both ends)",
        });
      }
    }
  }
  return issues;
}

export const AT_MESSAGE =
  "expected an ISO-8601 date-time with its zone, like 2026-03-02T07:30:00Z or 2026-03-02T08:30:00+01:00";

/** A test of rules that read the clock, run at whatever time it is, passes only at some hours. */
export const CLOCK_NOT_FIXED =
  "the rules of this trigger read the clock (time or within): fix it with `at: 2026-03-02T07:30:00Z` on the test, or `testAt` for the file";

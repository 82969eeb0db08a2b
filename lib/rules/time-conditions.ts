/**
 * `time:` conditions: the decision's clock (the invocation's receivedAt, so every delivery of an
 * invocation decides the same) read in a named IANA time zone: weekdays, a time of day (`between`,
 * crossing midnight when it ends before it starts) and dates. Bundled into the Lambda functions:
 * the checks with their messages are in time-checks.ts.
 *
 * Cost: one Intl formatter per zone, made when the rules are compiled; a decision reads the zoned
 * parts once, lazily, and only if a time condition runs. The zone's UTC offset is cached per 15
 * minutes (every offset and transition in use today falls on a quarter hour), verified at both ends
 * of the quarter, so the clock is a few arithmetic operations, never a formatter call per decision.
 */
import type { CompiledCondition } from "./conditions.ts";

/** As written in a rules file (schema.ts). */
export interface TimeCondition {
  zone?: string | undefined;
  weekdays?: string | string[] | undefined;
  between?: [string, string] | undefined;
  date?: { after?: string | undefined; before?: string | undefined; between?: [string, string] | undefined };
}

export const WEEKDAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] as const;
const FULL_NAMES = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

/** A weekday name (Mon or Monday, any case) → 0 (Mon) .. 6 (Sun), or -1. */
function weekdayIndex(name: string): number {
  const lower = name.trim().toLowerCase();
  const index = FULL_NAMES.findIndex((full) => full === lower || full.slice(0, 3) === lower);
  return index;
}

/** `Mon-Fri`, `Sat`, `Sat, Sun`, `[Mon, Wed, Fri]`, `[Mon-Thu, Sat]` → a 7-bit mask (bit 0 = Monday), or a message. */
export function weekdayMask(spec: string | readonly string[]): number | string {
  let mask = 0;
  for (const part of typeof spec === "string" ? spec.split(",") : spec) {
    const [from, to, extra] = part.split("-");
    const a = weekdayIndex(from ?? "");
    const b = to === undefined ? a : weekdayIndex(to);
    if (a < 0 || b < 0 || extra !== undefined) {
      return `"${part.trim()}" is not a weekday or a range of them (Mon, Tue, ... Sun; Mon-Fri)`;
    }
    // Fri-Mon wraps over the weekend.
    for (let d = a; ; d = (d + 1) % 7) {
      mask |= 1 << d;
      if (d === b) break;
    }
  }
  return mask;
}

const TIME_OF_DAY = /^([01]?\d|2[0-3]):([0-5]\d)$/;

/** `08:00` → minutes since midnight; `24:00` too when `end`; undefined for anything else. */
export function minuteOfDay(text: unknown, end = false): number | undefined {
  if (typeof text !== "string") return undefined;
  if (end && text === "24:00") return 1440;
  const m = TIME_OF_DAY.exec(text);
  return m === null ? undefined : Number(m[1]) * 60 + Number(m[2]);
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** `2026-03-01` → 20260301, or undefined when it is not a calendar date. */
export function dateKey(text: unknown): number | undefined {
  if (typeof text !== "string") return undefined;
  const m = ISO_DATE.exec(text);
  if (m === null) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCMonth() === mo - 1 && date.getUTCDate() === d ? y * 10000 + mo * 100 + d : undefined;
}

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/i;

/**
 * Epoch ms of an ISO-8601 date-time with its zone (`2026-03-02T07:30:00Z`, `...T08:30+01:00`), or
 * undefined. Without a zone it is refused: "08:30" in a test of Berlin office hours is ambiguous.
 */
export function parseInstant(text: unknown): number | undefined {
  if (typeof text !== "string" || !INSTANT.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}

/** The clock read in one zone, for one instant (`at`). */
export interface ZonedParts {
  at: number;
  /** 0 = Monday .. 6 = Sunday. */
  weekday: number;
  /** Minutes since local midnight, 0..1439. */
  minute: number;
  /** yyyymmdd. */
  date: number;
}

const DAY = 86_400_000;
const QUARTER = 900_000;

class ZoneClock {
  private readonly format: Intl.DateTimeFormat;
  private quarter = Number.NaN;
  /** The offset of the whole quarter `quarter`, or NaN when it changes within it (a transition). */
  private quarterOffset = Number.NaN;
  private readonly parts: ZonedParts = { at: Number.NaN, weekday: 0, minute: 0, date: 0 };

  constructor(zone: string) {
    // Throws RangeError for a zone this runtime does not know.
    this.format = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
  }

  read(now: number): ZonedParts {
    const parts = this.parts;
    if (parts.at === now) return parts;
    const local = now + this.offsetAt(now);
    const days = Math.floor(local / DAY);
    // 1970-01-01 was a Thursday (3 when Monday is 0).
    parts.weekday = (((days + 3) % 7) + 7) % 7;
    parts.minute = Math.floor((local - days * DAY) / 60_000);
    const day = new Date(days * DAY);
    parts.date = day.getUTCFullYear() * 10000 + (day.getUTCMonth() + 1) * 100 + day.getUTCDate();
    parts.at = now;
    return parts;
  }

  private offsetAt(now: number): number {
    const quarter = Math.floor(now / QUARTER);
    if (quarter !== this.quarter) {
      const start = quarter * QUARTER;
      const first = this.exactOffset(start);
      this.quarterOffset = first === this.exactOffset(start + QUARTER - 1000) ? first : Number.NaN;
      this.quarter = quarter;
    }
    return Number.isNaN(this.quarterOffset) ? this.exactOffset(now) : this.quarterOffset;
  }

  /** Local wall-clock time minus UTC at `t`, to the second, from the formatter. */
  private exactOffset(t: number): number {
    const [mo, d, y, h, mi, s] = (this.format.format(t).match(/\d+/g) ?? []).map(Number);
    const wall = Date.UTC(y as number, (mo as number) - 1, d, h, mi, s);
    return wall - Math.floor(t / 1000) * 1000;
  }
}

/** One formatter per zone for the process: the parts are a pure function of the instant. */
const clocks = new Map<string, ZoneClock>();

function clockOf(zone: string): ZoneClock {
  let clock = clocks.get(zone);
  if (clock === undefined) {
    try {
      clock = new ZoneClock(zone);
    } catch {
      throw new Error(`unknown time zone "${zone}" (an IANA name like Europe/Berlin, or UTC)`);
    }
    clocks.set(zone, clock);
  }
  return clock;
}

/** The decision's clock in `zone` (for tests and tools). */
export function zonedParts(zone: string, at: number): ZonedParts {
  return { ...clockOf(zone).read(at) };
}

const hhmm = (minute: number) =>
  `${String(Math.floor(minute / 60)).padStart(2, "0")}:${String(minute % 60).padStart(2, "0")}`;

/** `Mon-Fri`, `Sat, Sun`, `Fri-Mon`: a mask written back as its runs. */
function describeWeekdays(mask: number): string {
  if (mask === 0x7f) return "every day";
  const runs: string[] = [];
  // Start at a day not in the mask, so a run over Sunday-Monday is one run.
  let start = 0;
  while (mask & (1 << start)) start++;
  for (let i = 1; i <= 7; i++) {
    const d = (start + i) % 7;
    if (!(mask & (1 << d))) continue;
    let end = d;
    while (i < 7 && mask & (1 << ((start + i + 1) % 7))) {
      i++;
      end = (start + i) % 7;
    }
    const name = WEEKDAY_NAMES[d] as string;
    runs.push(end === d ? name : `${name}-${WEEKDAY_NAMES[end]}`);
  }
  return runs.join(", ");
}

/**
 * A validated `time:` condition (time-checks.ts) → a closure reading the clock. Each part that is
 * given must hold, on the same reading: `weekdays: Fri, between: [22:00, 06:00]` holds on Friday
 * night before midnight and on Friday morning before 06:00, not on Saturday morning.
 */
export function compileTime(
  spec: TimeCondition,
  defaultZone: string | undefined,
  scope: { now: number },
): CompiledCondition {
  const zone = spec.zone ?? defaultZone;
  if (zone === undefined) throw new Error("time: needs a zone (or the file's timeZone)");
  const clock = clockOf(zone);
  const text: string[] = [];
  const days = spec.weekdays === undefined ? 0x7f : (weekdayMask(spec.weekdays) as number);
  if (spec.weekdays !== undefined) text.push(describeWeekdays(days));
  let from = 0;
  let until = 1440;
  if (spec.between !== undefined) {
    from = minuteOfDay(spec.between[0]) as number;
    until = minuteOfDay(spec.between[1], true) as number;
    text.push(`${hhmm(from)}-${hhmm(until)}`);
  }
  const crosses = from > until;
  const date = spec.date ?? {};
  let first = 0;
  let last = 99_999_999;
  if (date.after !== undefined) first = (dateKey(date.after) as number) + 1; // the day after (dates are compared as numbers)
  if (date.before !== undefined) last = (dateKey(date.before) as number) - 1;
  if (date.between !== undefined) {
    first = Math.max(first, dateKey(date.between[0]) as number);
    last = Math.min(last, dateKey(date.between[1]) as number);
  }
  if (date.after !== undefined) text.push(`date after ${date.after}`);
  if (date.before !== undefined) text.push(`date before ${date.before}`);
  if (date.between !== undefined) text.push(`date ${date.between[0]} to ${date.between[1]}`);
  return {
    test: () => {
      const p = clock.read(scope.now);
      if (!(days & (1 << p.weekday))) return false;
      const m = p.minute;
      if (crosses ? m < from && m >= until : m < from || m >= until) return false;
      return p.date >= first && p.date <= last;
    },
    description: `time in ${zone}: ${text.join(", ")}`,
  };
}

/** Whether a condition reads the decision's clock (`time`, or `within`): its tests must fix it. */
export function readsClock(c: unknown): boolean {
  if (c === null || typeof c !== "object") return false;
  const o = c as Record<string, unknown>;
  if (o.time !== undefined || o.within !== undefined) return true;
  for (const key of ["all", "any"]) {
    const list = o[key];
    if (Array.isArray(list) && list.some(readsClock)) return true;
  }
  const count = (o.countItems ?? o.count) as { where?: unknown } | undefined;
  return readsClock(o.not) || readsClock(o.anyItem) || readsClock(o.everyItem) || readsClock(count?.where);
}

// biome-ignore-all lint/suspicious/noThenProperty: `then` is the rules format's key for a decision (never callable).
import { afterEach, describe, expect, it, vi } from "vitest";
import { invocationForTools } from "../../../lib/rules/run-tests.ts";
import { zonedParts } from "../../../lib/rules/time-conditions.ts";
import type { CompiledRules } from "../../../lib/rules/types.ts";
import { compile, input, item, oneRule } from "./helpers.ts";

/** Whether the one-rule file's `when` holds at the instant `at` (ISO, with its zone). */
function holdsAt(rules: CompiledRules, at: string, payload: unknown = input()): boolean {
  return (
    rules.decide(invocationForTools(payload, "preApproval", Date.parse(at))).explanation.ruleId === "hit"
  );
}

const time = (spec: string) => oneRule(`time: ${spec}`);

describe("time: the decision's clock in a named zone", () => {
  it("weekdays and a time of day, in the zone (from included, until excluded)", () => {
    const office = time("{ zone: Europe/Berlin, weekdays: Mon-Fri, between: [08:00, 18:00] }");
    // 2026-03-02 is a Monday; Berlin is UTC+1 in March before the 29th.
    expect(holdsAt(office, "2026-03-02T06:59:59Z")).toBe(false); // 07:59 Berlin
    expect(holdsAt(office, "2026-03-02T07:00:00Z")).toBe(true); // 08:00
    expect(holdsAt(office, "2026-03-02T16:59:59Z")).toBe(true); // 17:59
    expect(holdsAt(office, "2026-03-02T17:00:00Z")).toBe(false); // 18:00
    expect(holdsAt(office, "2026-03-06T12:00:00Z")).toBe(true); // Friday
    expect(holdsAt(office, "2026-03-07T12:00:00Z")).toBe(false); // Saturday
    expect(holdsAt(office, "2026-03-08T12:00:00Z")).toBe(false); // Sunday
    // The weekday is Berlin's: Sunday 23:30 UTC is Monday 00:30 in Berlin.
    const monday = time("{ zone: Europe/Berlin, weekdays: Mon }");
    expect(holdsAt(monday, "2026-03-01T23:30:00Z")).toBe(true);
    expect(holdsAt(time("{ zone: UTC, weekdays: Mon }"), "2026-03-01T23:30:00Z")).toBe(false);
  });

  it("between crosses midnight when it ends before it starts; 24:00 ends the day", () => {
    const night = time("{ zone: UTC, between: ['22:00', '06:00'] }");
    expect(holdsAt(night, "2026-03-02T21:59:00Z")).toBe(false);
    expect(holdsAt(night, "2026-03-02T22:00:00Z")).toBe(true);
    expect(holdsAt(night, "2026-03-02T23:59:59Z")).toBe(true);
    expect(holdsAt(night, "2026-03-03T00:00:00Z")).toBe(true);
    expect(holdsAt(night, "2026-03-03T05:59:00Z")).toBe(true);
    expect(holdsAt(night, "2026-03-03T06:00:00Z")).toBe(false);
    expect(holdsAt(night, "2026-03-03T12:00:00Z")).toBe(false);
    const evening = time("{ zone: UTC, between: ['18:00', '24:00'] }");
    expect(holdsAt(evening, "2026-03-02T23:59:59Z")).toBe(true);
    expect(holdsAt(evening, "2026-03-03T00:00:00Z")).toBe(false);
  });

  it("every part holds on the same reading: Friday night is Friday, Saturday morning is not", () => {
    const fridayNight = time("{ zone: UTC, weekdays: Fri, between: ['22:00', '06:00'] }");
    expect(holdsAt(fridayNight, "2026-03-06T23:00:00Z")).toBe(true);
    expect(holdsAt(fridayNight, "2026-03-07T02:00:00Z")).toBe(false);
    expect(holdsAt(fridayNight, "2026-03-06T02:00:00Z")).toBe(true);
  });

  it("weekday lists, ranges wrapping over the weekend, full names in any case", () => {
    const weekend = time("{ zone: UTC, weekdays: [Sat, sunday] }");
    expect(holdsAt(weekend, "2026-03-07T12:00:00Z")).toBe(true);
    expect(holdsAt(weekend, "2026-03-08T12:00:00Z")).toBe(true);
    expect(holdsAt(weekend, "2026-03-09T12:00:00Z")).toBe(false);
    expect(holdsAt(time("{ zone: UTC, weekdays: 'Sat, Sun' }"), "2026-03-08T12:00:00Z")).toBe(true);
    const long = time("{ zone: UTC, weekdays: Fri-Mon }");
    expect(["06", "07", "08", "09", "10"].map((d) => holdsAt(long, `2026-03-${d}T12:00:00Z`))).toEqual([
      true,
      true,
      true,
      true,
      false,
    ]);
  });

  it("dates in the zone: after and before exclude the date, between includes both ends", () => {
    const freeze = time("{ zone: Europe/Berlin, date: { between: [2026-12-21, 2027-01-03] } }");
    expect(holdsAt(freeze, "2026-12-20T22:59:59Z")).toBe(false); // 23:59 on the 20th in Berlin
    expect(holdsAt(freeze, "2026-12-20T23:00:00Z")).toBe(true); // 00:00 on the 21st
    expect(holdsAt(freeze, "2027-01-03T22:59:59Z")).toBe(true);
    expect(holdsAt(freeze, "2027-01-03T23:00:00Z")).toBe(false);
    const after = time("{ zone: UTC, date: { after: 2026-03-01, before: 2026-03-04 } }");
    expect(["01", "02", "03", "04"].map((d) => holdsAt(after, `2026-03-${d}T12:00:00Z`))).toEqual([
      false,
      true,
      true,
      false,
    ]);
  });

  it("explains itself, and the file's timeZone is the default zone", () => {
    const rules = compile(`
approver: svc
timeZone: America/New_York
preApproval:
  rules:
    - id: hit
      when: { not: { time: { weekdays: Mon-Fri, between: ['09:00', '17:00'], date: { before: 2027-01-01 } } } }
      then: { decision: deny, comment: out of hours }
  default: { decision: approve, comment: ok }
`);
    // 2026-03-02 13:59 UTC = 08:59 in New York (UTC-5).
    const d = rules.decide(invocationForTools(input(), "preApproval", Date.parse("2026-03-02T13:59:00Z")));
    expect(d.explanation).toMatchObject({
      ruleId: "hit",
      matched: ["not (time in America/New_York: Mon-Fri, 09:00-17:00, date before 2027-01-01)"],
    });
    expect(holdsAt(rules, "2026-03-02T14:00:00Z")).toBe(false);
  });

  it("reads the invocation's receipt time, not the machine's: a later redelivery decides the same", () => {
    const office = time("{ zone: Europe/Berlin, between: [08:00, 18:00] }");
    const received = invocationForTools(input(), "preApproval", Date.parse("2026-03-02T09:00:00Z"));
    vi.useFakeTimers({ now: Date.parse("2026-03-02T22:00:00Z") });
    try {
      expect(office.decide(received).explanation.ruleId).toBe("hit");
      vi.setSystemTime(Date.parse("2026-03-03T03:00:00Z"));
      expect(office.decide(received).explanation.ruleId).toBe("hit");
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("daylight saving time in Europe/Berlin", () => {
  const office = time("{ zone: Europe/Berlin, between: [08:00, 18:00] }");

  it("2026-03-29: 08:00 is 07:00 UTC the day before and 06:00 UTC from that day", () => {
    expect(holdsAt(office, "2026-03-28T06:30:00Z")).toBe(false); // 07:30 CET
    expect(holdsAt(office, "2026-03-28T07:00:00Z")).toBe(true); // 08:00 CET
    expect(holdsAt(office, "2026-03-29T06:00:00Z")).toBe(true); // 08:00 CEST
    expect(holdsAt(office, "2026-03-29T15:59:00Z")).toBe(true); // 17:59 CEST
    expect(holdsAt(office, "2026-03-29T16:00:00Z")).toBe(false); // 18:00 CEST
    // The switch itself: 01:59:59 UTC... 02:00 CET jumps to 03:00 CEST at 01:00 UTC.
    expect(zonedParts("Europe/Berlin", Date.parse("2026-03-29T00:59:59Z")).minute).toBe(119);
    expect(zonedParts("Europe/Berlin", Date.parse("2026-03-29T01:00:00Z")).minute).toBe(180);
  });

  it("2026-10-25: back to 07:00 UTC, and the repeated hour 02:00-03:00 holds twice", () => {
    expect(holdsAt(office, "2026-10-24T06:00:00Z")).toBe(true); // 08:00 CEST
    expect(holdsAt(office, "2026-10-25T06:00:00Z")).toBe(false); // 07:00 CET
    expect(holdsAt(office, "2026-10-25T07:00:00Z")).toBe(true); // 08:00 CET
    expect(holdsAt(office, "2026-10-25T17:00:00Z")).toBe(false); // 18:00 CET
    const repeated = time("{ zone: Europe/Berlin, between: ['02:00', '03:00'] }");
    expect(holdsAt(repeated, "2026-10-25T00:30:00Z")).toBe(true); // 02:30 CEST
    expect(holdsAt(repeated, "2026-10-25T01:30:00Z")).toBe(true); // 02:30 CET
    expect(holdsAt(repeated, "2026-10-25T02:00:00Z")).toBe(false); // 03:00 CET
  });
});

/** Counts reads of Intl.DateTimeFormat's `format` (an accessor on the prototype). */
const spyOnFormat = () =>
  vi.spyOn(Intl.DateTimeFormat.prototype as unknown as { readonly format: unknown }, "format", "get");

describe("the zoned clock", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("agrees with Intl for random instants in zones with odd offsets and transitions", () => {
    const zones = [
      "Europe/Berlin",
      "America/New_York",
      "America/St_Johns",
      "Asia/Kathmandu",
      "Australia/Lord_Howe",
      "Pacific/Chatham",
      "Pacific/Kiritimati",
      "America/Sao_Paulo",
      "UTC",
    ];
    const weekdays = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let seed = 12345;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const start = Date.parse("2020-01-01T00:00:00Z");
    const span = Date.parse("2035-01-01T00:00:00Z") - start;
    for (const zone of zones) {
      const format = new Intl.DateTimeFormat("en-US", {
        timeZone: zone,
        hourCycle: "h23",
        weekday: "short",
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
      });
      for (let i = 0; i < 400; i++) {
        const at = start + Math.floor(random() * span);
        const parts = Object.fromEntries(format.formatToParts(at).map((p) => [p.type, p.value]));
        const expected = {
          weekday: weekdays.indexOf(parts.weekday as string),
          minute: Number(parts.hour) * 60 + Number(parts.minute),
          date: Number(`${parts.year}${parts.month}${parts.day}`),
        };
        const { weekday, minute, date } = zonedParts(zone, at);
        expect({ zone, at: new Date(at).toISOString(), weekday, minute, date }).toEqual({
          zone,
          at: new Date(at).toISOString(),
          ...expected,
        });
      }
    }
  });

  it("formats nothing per decision: the offset is cached per quarter hour and zone", () => {
    const rules = compile(`
approver: svc
preApproval:
  rules:
    - id: hit
      when:
        all:
          - { time: { zone: Asia/Tokyo, weekdays: Mon-Fri } }
          - { time: { zone: Asia/Tokyo, between: ['00:00', '23:00'] } }
      then: { decision: deny, comment: x }
  default: { decision: approve, comment: ok }
`);
    const spy = spyOnFormat();
    const base = Date.parse("2026-03-02T03:00:00Z");
    for (let i = 0; i < 500; i++) rules.decide(invocationForTools(input(), "preApproval", base + i * 1000));
    // Two reads (both ends of the quarter) for the first decision, none after.
    expect(spy.mock.calls.length).toBe(2);
  });

  it("a rule set without time conditions never reads the clock", () => {
    const rules = oneRule("anyItem: { field: type, equals: ROLE }");
    const spy = spyOnFormat();
    rules.decide(invocationForTools(input({ requestedItems: [item({ type: "ROLE" })] }), "preApproval"));
    expect(spy).not.toHaveBeenCalled();
  });
});

import { ResponderError } from "../errors.ts";

// PnDTnHnMnS (and PnW); ISC uses these for a subscription's responseDeadline.
const ISO_DURATION = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/** Milliseconds of an ISO-8601 duration such as `PT1H` or `PT30M`. Years and months are refused (not fixed lengths). */
export function parseIsoDuration(text: string): number {
  const m = ISO_DURATION.exec(text);
  if (!m || text === "P" || text.endsWith("T")) {
    throw new ResponderError("INVALID_DURATION", `"${text}" is not an ISO-8601 duration like PT1H or PT30M`, {
      httpStatus: 400,
    });
  }
  const [, weeks, days, hours, minutes, seconds] = m;
  return (
    (Number(weeks ?? 0) * 7 * 86_400 +
      Number(days ?? 0) * 86_400 +
      Number(hours ?? 0) * 3_600 +
      Number(minutes ?? 0) * 60 +
      Number(seconds ?? 0)) *
    1000
  );
}

/** ISC truncates a subscription's responseDeadline to whole minutes. */
export function responseDeadlineMs(text: string): number {
  const ms = parseIsoDuration(text);
  const truncated = Math.floor(ms / 60_000) * 60_000;
  if (truncated <= 0) {
    throw new ResponderError("INVALID_DURATION", `responseDeadline "${text}" is under one minute`, {
      httpStatus: 400,
    });
  }
  return truncated;
}

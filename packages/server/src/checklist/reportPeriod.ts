/**
 * The report's period. By default the last 30 days: the platform wants request examples "not older
 * than 1 month" (platform-guidelines §18 "Go-live"). `since` is an RFC 3339 time, a date, or a
 * duration back from now: `90m`, `12h`, `7d`.
 */
export const DEFAULT_PERIOD_MS = 30 * 24 * 60 * 60 * 1000;

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The start of the period, or null when `since` cannot be read. */
export function parseSince(since: string | undefined, now: Date): Date | null {
  if (since === undefined || since === '') return new Date(now.getTime() - DEFAULT_PERIOD_MS);
  const relative = /^(\d{1,6})([mhd])$/.exec(since);
  if (relative) return new Date(now.getTime() - Number(relative[1]) * (UNIT_MS[relative[2] as string] as number));
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(since)) return null;
  const date = new Date(since);
  return Number.isNaN(date.getTime()) ? null : date;
}

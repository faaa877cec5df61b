/**
 * Profile consent (platform-guidelines §13.1, §13.3): data shared in a payment flow is readable for
 * 168 hours after consent, and consent given within that window is not asked for again.
 */
export const CONSENT_WINDOW_MS = 168 * 60 * 60 * 1000;

export function consentIsFresh(consentedAt: Date, now: Date): boolean {
  return now.getTime() - consentedAt.getTime() < CONSENT_WINDOW_MS;
}

import type { Currency, Market } from './types.ts';

/** What the platform has approved or configured for a sales unit. Demo sales units enable everything. */
export interface SalesUnitSettings {
  pushMessageAllowed: boolean;
  expressAllowed: boolean;
  longLivingAllowed: boolean;
  /** The sales unit's own cap on `expiresAt`, in minutes ahead (Norway: 24 h, spec §14.3). */
  longLivingMaxMinutes: number;
  /** Danish/Finnish "late capture": capture deadline 180 instead of 14 days. */
  lateCapture: boolean;
  fullCaptureOnly: boolean;
  refundAllowed: boolean;
  bankAccountVerified: boolean;
  /** Scope tokens beyond the standard ones that this unit may request (e.g. `nin`). */
  extraScopes: string[];
  /** The platform's "test user must approve one payment by hand first" rule for force approve (10030). */
  requireManualApprovalFirst: boolean;
}

export interface SalesUnit {
  msn: string;
  name: string;
  market: Market;
  currency: Currency;
  settings: SalesUnitSettings;
}

export const marketCurrency: Record<Market, Currency> = { NO: 'NOK', DK: 'DKK', FI: 'EUR' };

/** Minimum amounts in minor units (spec §4.2, 6010). */
export const minimumAmount: Record<string, number> = { NOK: 100, DKK: 1, EUR: 1, SEK: 100, USD: 1, GBP: 1 };

export function defaultSettings(market: Market): SalesUnitSettings {
  return {
    pushMessageAllowed: true,
    expressAllowed: true,
    longLivingAllowed: true,
    longLivingMaxMinutes: market === 'NO' ? 24 * 60 : 60 * 24 * 60,
    lateCapture: false,
    fullCaptureOnly: false,
    refundAllowed: true,
    bankAccountVerified: true,
    extraScopes: [],
    requireManualApprovalFirst: false,
  };
}

export function settingsFrom(market: Market, stored: Partial<SalesUnitSettings> | null | undefined): SalesUnitSettings {
  return { ...defaultSettings(market), ...(stored ?? {}) };
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Capture deadline after authorization (spec §11.6): 180 days in Norway, 14 in Denmark/Finland unless late capture. */
export function captureWindowMs(unit: SalesUnit): number {
  return (unit.market === 'NO' || unit.settings.lateCapture ? 180 : 14) * DAY_MS;
}

/** Refunds are possible for 365 days from authorization (spec open question 13). */
export const REFUND_WINDOW_MS = 365 * DAY_MS;
export const DEFAULT_PAYMENT_LIFETIME_MS = 10 * 60 * 1000;

/**
 * A payment's timeline: everything that happened to it, from every source, in the order of the server
 * clock — its events, the webhook attempts that reported them, the API calls about it, card callbacks
 * to the PSP, and failed authorizations in the app. Each source is one entry of `timelineSources`; a
 * new kind of record joins the timeline by adding a source (its query lives in the store).
 */
import type { Payment } from '../payments/types.ts';
import {
  paymentAppAttempts,
  paymentCardCallbacks,
  paymentEvents,
  paymentRequests,
  paymentWebhookAttempts,
} from '../store/dashboardStore.ts';
import type { Queryable } from '../store/database.ts';
import { money } from './layout.ts';

export type TimelineSourceName = 'event' | 'webhook' | 'request' | 'card-callback' | 'app';

export interface TimelineEntry {
  at: Date;
  source: TimelineSourceName;
  title: string;
  detail: string;
  outcome: 'ok' | 'bad' | 'info';
  /** A page with more (a request's headers and body). */
  href?: string;
  /** A webhook delivery that can be sent again. */
  deliveryId?: number;
}

export interface TimelineSource {
  name: TimelineSourceName;
  load(db: Queryable, payment: Payment): Promise<TimelineEntry[]>;
}

export const timelineSources: TimelineSource[] = [
  {
    name: 'event',
    async load(db, payment) {
      return (await paymentEvents(db, payment.id)).map((e) => ({
        at: e.occurredAt,
        source: 'event',
        title: `${e.name} ${money(e.amount, e.currency)}`,
        detail: `pspReference ${e.pspReference}${e.idempotencyKey ? `, Idempotency-Key ${e.idempotencyKey}` : ''}${e.success ? '' : ', failed'}`,
        outcome: e.success ? 'ok' : 'bad',
      }));
    },
  },
  {
    name: 'webhook',
    async load(db, payment) {
      return (await paymentWebhookAttempts(db, payment.msn, payment.reference)).flatMap((a): TimelineEntry[] => {
        const copy = a.replayOf !== null ? ` (replay of delivery ${a.replayOf})` : '';
        if (a.attempt === null || a.startedAt === null) {
          return a.nextAttemptAt
            ? [
                {
                  at: a.nextAttemptAt,
                  source: 'webhook',
                  title: `${a.eventType} queued${copy}`,
                  detail: `delivery ${a.deliveryId} to ${a.url}${a.fault ? `; fault: ${a.fault}` : ''}`,
                  outcome: 'info',
                  deliveryId: a.deliveryId,
                },
              ]
            : [];
        }
        const answer = a.httpStatus !== null ? `HTTP ${a.httpStatus}` : (a.error ?? a.outcome ?? '');
        return [
          {
            at: a.startedAt,
            source: 'webhook',
            title: `${a.eventType} attempt ${a.attempt}: ${a.outcome}${copy}`,
            detail:
              `delivery ${a.deliveryId} to ${a.url}: ${answer} in ${a.durationMs} ms` +
              (a.nextAttemptAt ? `; next attempt ${a.nextAttemptAt.toISOString()}` : '') +
              (a.fault ? `; fault: ${a.fault}` : ''),
            outcome: a.outcome === 'delivered' ? 'ok' : 'bad',
            deliveryId: a.deliveryId,
          },
        ];
      });
    },
  },
  {
    name: 'request',
    async load(db, payment) {
      // The log times the answer; the timeline places a call when it arrived, before what it caused.
      return (await paymentRequests(db, payment.msn, payment.reference)).map((r) => ({
        at: new Date(r.at.getTime() - Math.ceil(r.latencyMs)),
        source: 'request',
        title: `${r.method} ${r.path} → ${r.status}${r.errorCode ? ` (${r.errorCode})` : ''}`,
        detail:
          `${Math.round(r.latencyMs)} ms` +
          (r.idempotencyKey ? `, Idempotency-Key ${r.idempotencyKey}` : '') +
          (r.fault ? `, fault: ${r.fault}` : '') +
          `, trace ${r.traceId}`,
        outcome: r.status < 400 ? 'ok' : 'bad',
        href: `/dashboard/requests/${r.id}`,
      }));
    },
  },
  {
    name: 'card-callback',
    async load(db, payment) {
      return (await paymentCardCallbacks(db, payment.id)).map((c) => ({
        at: c.sentAt,
        source: 'card-callback',
        title: `Card callback ${c.sequence}: ${c.outcome}${c.result ? ` → ${c.result}` : ''}`,
        detail: `${c.url}${c.httpStatus !== null ? `: HTTP ${c.httpStatus}` : ''}${c.durationMs !== null ? ` in ${c.durationMs} ms` : ''}${c.error ? `; ${c.error}` : ''}`,
        outcome: c.outcome === 'RESERVE' ? 'ok' : c.outcome === 'pending' || c.outcome === 'SOFT_DECLINE' ? 'info' : 'bad',
      }));
    },
  },
  {
    name: 'app',
    async load(db, payment) {
      return (await paymentAppAttempts(db, payment.id)).map((a) => ({
        at: a.attemptedAt,
        source: 'app',
        title: 'Authorization failed in the app',
        detail: `user ${a.phone}${a.cardId ? `, card ${a.cardId}` : ''}: ${a.reason}`,
        outcome: 'bad',
      }));
    },
  },
];

const SOURCE_ORDER: Record<TimelineSourceName, number> = { request: 0, 'card-callback': 1, app: 2, event: 3, webhook: 4 };

/** Entries of all sources, oldest first; at the same instant the call comes before what it caused. */
export function mergeTimeline(entries: TimelineEntry[]): TimelineEntry[] {
  return entries
    .map((entry, index) => ({ entry, index }))
    .sort(
      (a, b) =>
        a.entry.at.getTime() - b.entry.at.getTime() || SOURCE_ORDER[a.entry.source] - SOURCE_ORDER[b.entry.source] || a.index - b.index,
    )
    .map(({ entry }) => entry);
}

export async function loadTimeline(db: Queryable, payment: Payment): Promise<TimelineEntry[]> {
  const parts = await Promise.all(timelineSources.map((source) => source.load(db, payment)));
  return mergeTimeline(parts.flat());
}

/** The shape of one checklist item: its rule and its judgement over the traffic. */
import { eventsByPayment, firstOffenders, integrationRequests, LIST_LIMIT, requestsByPayment } from './traffic.ts';
import type { EventFacts, Evidence, ItemResult, ItemStatus, LoggedRequest, Offender, PaymentFacts, RequestExample } from './types.ts';

/** The evidence prepared once for every item. */
export interface Traffic {
  evidence: Evidence;
  /** The integration's own requests (force approve excluded), oldest first. */
  requests: LoggedRequest[];
  /** The integration's requests per payment (`msn/reference`), oldest first. */
  byPayment: Map<string, LoggedRequest[]>;
  /** Each payment's events in order. */
  events: Map<number, EventFacts[]>;
  payments: PaymentFacts[];
}

export function prepareTraffic(evidence: Evidence): Traffic {
  const requests = integrationRequests(evidence).sort((a, b) => a.at.getTime() - b.at.getTime() || a.id - b.id);
  return {
    evidence,
    requests,
    byPayment: requestsByPayment(requests),
    events: eventsByPayment(evidence.events),
    payments: evidence.payments,
  };
}

export type Judgement = Pick<ItemResult, 'status' | 'summary' | 'counts' | 'examples' | 'offenders'>;

export interface ChecklistItem {
  id: string;
  title: string;
  guideline: string;
  rule: string;
  judge(traffic: Traffic): Judgement;
}

export function judgement(
  status: ItemStatus,
  summary: string,
  parts: { counts?: Record<string, number>; examples?: RequestExample[]; offenders?: Offender[] } = {},
): Judgement {
  return {
    status,
    summary,
    counts: parts.counts ?? {},
    examples: (parts.examples ?? []).slice(0, LIST_LIMIT),
    offenders: firstOffenders(parts.offenders ?? []),
  };
}

export const notExercised = (summary: string, counts: Record<string, number> = {}): Judgement =>
  judgement('not_exercised', summary, { counts });

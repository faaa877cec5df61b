/**
 * "Integrate all endpoints" (platform-guidelines §18): create, get, the event log, capture, refund and
 * cancel, each answered 2XX at least once.
 */
import { type ChecklistItem, judgement, notExercised } from '../item.ts';
import { endpointOf, exampleOf, isSuccess, REQUIRED_ENDPOINTS } from '../traffic.ts';
import type { LoggedRequest } from '../types.ts';

const NAMES: Record<(typeof REQUIRED_ENDPOINTS)[number], string> = {
  create: 'POST /epayment/v1/payments',
  get: 'GET /epayment/v1/payments/{reference}',
  events: 'GET /epayment/v1/payments/{reference}/events',
  capture: 'POST /epayment/v1/payments/{reference}/capture',
  refund: 'POST /epayment/v1/payments/{reference}/refund',
  cancel: 'POST /epayment/v1/payments/{reference}/cancel',
};

export const endpointsItem: ChecklistItem = {
  id: 'endpoints',
  title: 'Endpoints integrated',
  guideline: 'platform-guidelines §18',
  rule: 'Create, get payment, get event log, capture, refund and cancel have each been answered 2XX at least once.',
  judge({ requests, evidence }) {
    const epayment = requests.filter((r) => r.route.startsWith('/epayment/'));
    if (epayment.length === 0) return notExercised('No ePayment API calls in the period.');
    const counts: Record<string, number> = {};
    const examples: LoggedRequest[] = [];
    const missing: string[] = [];
    for (const endpoint of REQUIRED_ENDPOINTS) {
      const successes = epayment.filter((r) => endpointOf(r) === endpoint && isSuccess(r.status));
      counts[endpoint] = successes.length;
      if (successes[0]) examples.push(successes[0]);
      else missing.push(NAMES[endpoint]);
    }
    if (missing.length > 0) {
      return judgement('not_met', `Never answered 2XX: ${missing.join(', ')}.`, {
        counts,
        examples: examples.map(exampleOf),
        offenders: missing.map((name) => ({ reference: null, msn: evidence.scope.msn ?? null, reason: `${name} never succeeded` })),
      });
    }
    return judgement('met', 'All six ePayment endpoints were used successfully.', { counts, examples: examples.map(exampleOf) });
  },
};

/**
 * The go-live checklist over recorded evidence (issue 7; platform-guidelines §18, §21): each item is
 * met, not met or not exercised, with its evidence. Pure: the same evidence gives the same report.
 */
import { type ChecklistItem, prepareTraffic } from './item.ts';
import { captureBeforeExpiryItem } from './items/captureBeforeExpiry.ts';
import { crossBorderItem } from './items/crossBorder.ts';
import { customerPresentItem } from './items/customerPresent.ts';
import { descriptionsItem } from './items/descriptions.ts';
import { endpointsItem } from './items/endpoints.ts';
import { errorHandlingItem } from './items/errorHandling.ts';
import { finalStatesItem } from './items/finalStates.ts';
import { idempotencyItem } from './items/idempotency.ts';
import { orderDetailsItem } from './items/orderDetails.ts';
import { pollingItem } from './items/polling.ts';
import { rateLimitsItem } from './items/rateLimits.ts';
import { releaseReservationsItem } from './items/releaseReservations.ts';
import { returnUrlItem } from './items/returnUrl.ts';
import { systemHeadersItem } from './items/systemHeaders.ts';
import { webhooksItem } from './items/webhooks.ts';
import type { ChecklistReport, Evidence, ItemResult, ItemStatus } from './types.ts';

/** In the order of the platform's checklist headings. */
export const checklistItems: readonly ChecklistItem[] = [
  endpointsItem,
  webhooksItem,
  pollingItem,
  rateLimitsItem,
  finalStatesItem,
  errorHandlingItem,
  systemHeadersItem,
  idempotencyItem,
  orderDetailsItem,
  customerPresentItem,
  descriptionsItem,
  returnUrlItem,
  captureBeforeExpiryItem,
  releaseReservationsItem,
  crossBorderItem,
];

export function evaluateChecklist(evidence: Evidence): ChecklistReport {
  const traffic = prepareTraffic(evidence);
  const items: ItemResult[] = checklistItems.map((item) => ({
    id: item.id,
    title: item.title,
    guideline: item.guideline,
    rule: item.rule,
    ...item.judge(traffic),
  }));
  const summary: Record<ItemStatus, number> = { met: 0, not_met: 0, not_exercised: 0 };
  for (const item of items) summary[item.status] += 1;
  const notes = [
    'Not judged from traffic: logging on your side (§15.1: endpoint, headers minus secrets, body, status, error, traceId), ' +
      'branding and the terms the customer accepts (§14 "T&C"). Check them yourself.',
  ];
  if (evidence.shortenedFrom) {
    notes.unshift(
      `The period was shortened to start at ${evidence.since.toISOString()} (asked: ${evidence.shortenedFrom.toISOString()}): ` +
        'the report reads at most the newest 50,000 requests.',
    );
  }
  return {
    scope: evidence.scope,
    since: evidence.since.toISOString(),
    until: evidence.now.toISOString(),
    passed: summary.not_met === 0,
    summary,
    items,
    notes,
  };
}

/**
 * Registering a webhook (platform-guidelines §4.1): the rules on `url` and `events`, the per-event-type
 * limit of the owner's bucket, and the secret that is shown once. Validation order as §4.1 [rec]: url,
 * then events, then the limit; all field errors of one request are reported together (400).
 */
import { randomUUID } from 'node:crypto';
import type { Mode } from '../config.ts';
import { type FieldError, ValidationError } from '../errors.ts';
import type { Database } from '../store/database.ts';
import { countRegistrationsByEvent, insertRegistration, lockOwnerRegistrations } from '../store/webhooksStore.ts';
import { KNOWN_EVENT_TYPES, registrationLimit } from './eventTypes.ts';
import type { WebhookOwner } from './types.ts';
import { newWebhookSecret, sealSecret, webhookSecretKey } from './webhookSecrets.ts';
import { webhookUrlProblem } from './webhookUrl.ts';

export interface RegistrationRequest {
  url: string;
  events: string[];
}

/** What is wrong with the request itself, before any limit is looked at. */
export function registrationErrors(request: RegistrationRequest, mode: Mode): FieldError[] {
  const errors: FieldError[] = [];
  const urlProblem = webhookUrlProblem(request.url, mode);
  if (urlProblem) errors.push({ name: 'url', reason: urlProblem });
  const seen = new Set<string>();
  request.events.forEach((eventType, index) => {
    if (!KNOWN_EVENT_TYPES.has(eventType)) {
      errors.push({ name: `events[${index}]`, reason: `The event type '${eventType}' is not known.` });
    } else if (seen.has(eventType)) {
      errors.push({ name: `events[${index}]`, reason: `The event type '${eventType}' is listed more than once.` });
    }
    seen.add(eventType);
  });
  return errors;
}

/**
 * Validates, checks the limits and stores the registration. The secret is in the result and nowhere
 * else readable: the database holds it sealed (webhookSecrets.ts).
 */
export async function registerWebhook(
  db: Database,
  owner: WebhookOwner,
  request: RegistrationRequest,
  context: { mode: Mode; createdBy: string; now: Date },
): Promise<{ id: string; secret: string }> {
  const errors = registrationErrors(request, context.mode);
  if (errors.length > 0) throw new ValidationError(errors);
  const key = await webhookSecretKey(db);
  const id = randomUUID();
  const secret = newWebhookSecret();
  await db.transaction(async (tx) => {
    await lockOwnerRegistrations(tx, owner);
    const counts = await countRegistrationsByEvent(tx, owner, request.events);
    const full = request.events.filter((eventType) => (counts.get(eventType) ?? 0) >= registrationLimit(eventType));
    if (full.length > 0) {
      throw new ValidationError(
        full.map((eventType) => ({
          name: 'events',
          reason: `The limit of ${registrationLimit(eventType)} registrations per event type is reached for '${eventType}'.`,
        })),
      );
    }
    await insertRegistration(tx, {
      id,
      owner,
      url: request.url,
      events: request.events,
      secretSealed: sealSecret(key, id, secret),
      createdBy: context.createdBy,
      createdAt: context.now,
    });
  });
  return { id, secret };
}

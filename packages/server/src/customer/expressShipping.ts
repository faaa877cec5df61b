/**
 * Express shipping in the app (epayment-api §14.1): the options come from `shipping.fixedOptions`, or
 * from the merchant's dynamic-options callback, called with the user's address, the merchant's
 * `Authorization` value as given, and an 8 s timeout (open question 15: camelCase body, 400 = cannot
 * ship there). The chosen option's cost is added to the amount the user approves.
 */
import { Type as T } from '@sinclair/typebox';
import { type ShippingGroup, ShippingGroupSchema } from '../api/epayment/schemas.ts';
import { validatorFor } from '../http/validation.ts';
import type { Approval } from '../operations/approvePayment.ts';
import type { Payment } from '../payments/types.ts';
import type { StoredUser } from '../store/usersStore.ts';

export const DYNAMIC_OPTIONS_TIMEOUT_MS = 8000;

export interface ShippingChoice {
  /** Form value: group index and option id (option ids need only be unique within a group). */
  key: string;
  group: ShippingGroup;
  option: ShippingGroup['options'][number];
  isDefault: boolean;
}

const byPriority = <X extends { priority?: number | undefined }>(a: X, b: X) => (a.priority ?? 0) - (b.priority ?? 0);

/** Every option, groups and options in display order (priority 0 first). */
export function shippingChoices(groups: ShippingGroup[]): ShippingChoice[] {
  const choices: ShippingChoice[] = [];
  const ordered = groups.map((group, index) => ({ group, index })).sort((a, b) => byPriority(a.group, b.group));
  for (const { group, index } of ordered) {
    for (const option of [...group.options].sort(byPriority)) {
      choices.push({ key: `${index}:${option.id}`, group, option, isDefault: Boolean(group.isDefault && option.isDefault) });
    }
  }
  if (choices.length > 0 && !choices.some((c) => c.isDefault)) {
    const groupDefault = choices.find((c) => c.group.isDefault || c.option.isDefault) ?? (choices[0] as ShippingChoice);
    groupDefault.isDefault = true;
  }
  return choices;
}

/** By default the address must be in the sales unit's country (epayment-api §14.1 `allowedCountries`). */
export function shipsTo(payment: Payment, market: string, user: StoredUser): boolean {
  const allowed = (payment.request.shipping as { allowedCountries?: string[] } | undefined)?.allowedCountries ?? [market];
  return allowed.includes(user.address.country);
}

const validGroups = validatorFor(T.Object({ groups: T.Array(ShippingGroupSchema) }));

/** Calls the merchant's dynamic-options callback; an error message is what the app shows the user. */
export async function fetchDynamicOptions(
  payment: Payment,
  user: StoredUser,
): Promise<{ groups: ShippingGroup[]; error: null } | { groups: null; error: string }> {
  const dynamic = (payment.request.shipping as { dynamicOptions?: { callbackUrl: string; callbackAuthorizationToken: string } })
    .dynamicOptions;
  if (!dynamic) return { groups: null, error: 'This payment has no dynamic shipping options.' };
  const { addressLine1, addressLine2, city, postCode, country } = user.address;
  let response: Response;
  try {
    response = await fetch(dynamic.callbackUrl, {
      method: 'POST',
      headers: { authorization: dynamic.callbackAuthorizationToken, 'content-type': 'application/json' },
      body: JSON.stringify({ reference: payment.reference, addressLine1, addressLine2, city, postCode, country }),
      redirect: 'manual',
      signal: AbortSignal.timeout(DYNAMIC_OPTIONS_TIMEOUT_MS),
    });
  } catch (error) {
    const timedOut = (error as Error).name === 'TimeoutError';
    return { groups: null, error: timedOut ? 'The store did not answer in time. Try again.' : 'Could not reach the store. Try again.' };
  }
  if (response.status === 400) return { groups: null, error: 'The store cannot ship to your address.' };
  if (response.status !== 200) return { groups: null, error: `The store answered with an error (HTTP ${response.status}). Try again.` };
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    return { groups: null, error: 'The store sent shipping options the app cannot read.' };
  }
  const problems = validGroups(body);
  if (problems.length > 0) return { groups: null, error: 'The store sent shipping options the app cannot read.' };
  const groups = (body as { groups: ShippingGroup[] }).groups;
  const wrongCurrency = groups.some((g) => g.options.some((o) => o.amount.currency !== payment.currency));
  if (wrongCurrency) return { groups: null, error: `The store sent shipping prices in another currency than ${payment.currency}.` };
  if (groups.length === 0) return { groups: null, error: 'The store cannot ship to your address.' };
  return { groups, error: null };
}

/** The `shipping` part of an approval: shippingDetails as GET and the authorized webhook show them (spec §6.1). */
export function shippingApproval(payment: Payment, user: StoredUser, choice: ShippingChoice): NonNullable<Approval['shipping']> {
  return {
    cost: choice.option.amount.value,
    details: {
      address: { ...user.address, firstName: user.firstName, lastName: user.lastName },
      shippingCost: { currency: payment.currency, value: choice.option.amount.value },
      shippingOptionId: choice.option.id,
      shippingOptionName: choice.option.name,
    },
  };
}

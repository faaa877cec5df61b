/** SQL for sales units and the key sets that reach them. */

import { type SalesUnit, type SalesUnitSettings, settingsFrom } from '../payments/salesUnits.ts';
import type { Currency, Market } from '../payments/types.ts';
import type { Queryable } from './database.ts';

interface SalesUnitRow {
  msn: string;
  name: string;
  market: Market;
  currency: Currency;
  settings: Partial<SalesUnitSettings>;
}

function toSalesUnit(row: SalesUnitRow): SalesUnit {
  return { msn: row.msn, name: row.name, market: row.market, currency: row.currency, settings: settingsFrom(row.market, row.settings) };
}

export async function findSalesUnit(db: Queryable, msn: string): Promise<SalesUnit | null> {
  const { rows } = await db.query<SalesUnitRow>('select msn, name, market, currency, settings from sales_units where msn = $1', [msn]);
  return rows[0] ? toSalesUnit(rows[0]) : null;
}

export async function listSalesUnits(db: Queryable): Promise<SalesUnit[]> {
  const { rows } = await db.query<SalesUnitRow>('select msn, name, market, currency, settings from sales_units order by msn');
  return rows.map(toSalesUnit);
}

/** Inserts or updates a sales unit (seeding is idempotent). */
export async function upsertSalesUnit(
  db: Queryable,
  unit: Omit<SalesUnit, 'settings'> & { settings?: Partial<SalesUnitSettings> },
): Promise<void> {
  await db.query(
    `insert into sales_units (msn, name, market, currency, settings) values ($1, $2, $3, $4, $5)
     on conflict (msn) do update set name = excluded.name, market = excluded.market, currency = excluded.currency,
       settings = sales_units.settings || excluded.settings`,
    [unit.msn, unit.name, unit.market, unit.currency, JSON.stringify(unit.settings ?? {})],
  );
}

export async function updateSalesUnitSettings(db: Queryable, msn: string, settings: Partial<SalesUnitSettings>): Promise<void> {
  await db.query('update sales_units set settings = settings || $2 where msn = $1', [msn, JSON.stringify(settings)]);
}

export interface KeySet {
  clientId: string;
  clientSecretHash: string;
  subscriptionKeyHash: string;
  kind: 'merchant' | 'psp';
  pspId: string | null;
  msns: string[];
}

interface KeySetRow {
  client_id: string;
  client_secret_hash: string;
  subscription_key_hash: string;
  kind: 'merchant' | 'psp';
  psp_id: string | null;
  msns: string[] | null;
}

const keySetSelect = `select k.client_id, k.client_secret_hash, k.subscription_key_hash, k.kind, k.psp_id,
    array_remove(array_agg(s.msn order by s.msn), null) as msns
  from key_sets k left join key_set_sales_units s on s.client_id = k.client_id`;

function toKeySet(row: KeySetRow): KeySet {
  return {
    clientId: row.client_id,
    clientSecretHash: row.client_secret_hash,
    subscriptionKeyHash: row.subscription_key_hash,
    kind: row.kind,
    pspId: row.psp_id,
    msns: row.msns ?? [],
  };
}

export async function findKeySetByClientId(db: Queryable, clientId: string): Promise<KeySet | null> {
  const { rows } = await db.query<KeySetRow>(`${keySetSelect} where k.client_id = $1 group by k.client_id`, [clientId]);
  return rows[0] ? toKeySet(rows[0]) : null;
}

export async function findKeySetBySubscriptionKeyHash(db: Queryable, hash: string): Promise<KeySet | null> {
  const { rows } = await db.query<KeySetRow>(`${keySetSelect} where k.subscription_key_hash = $1 group by k.client_id`, [hash]);
  return rows[0] ? toKeySet(rows[0]) : null;
}

/** Inserts a key set with its reach; an existing client_id keeps its secrets (seeding is idempotent). */
export async function insertKeySet(db: Queryable, keySet: KeySet): Promise<void> {
  await db.query(
    `insert into key_sets (client_id, client_secret_hash, subscription_key_hash, kind, psp_id) values ($1, $2, $3, $4, $5)
     on conflict (client_id) do nothing`,
    [keySet.clientId, keySet.clientSecretHash, keySet.subscriptionKeyHash, keySet.kind, keySet.pspId],
  );
  for (const msn of keySet.msns) {
    await db.query('insert into key_set_sales_units (client_id, msn) values ($1, $2) on conflict do nothing', [keySet.clientId, msn]);
  }
}

export async function serverSecret(db: Queryable, name: string, create: () => string): Promise<string> {
  await db.query('insert into server_secrets (name, value) values ($1, $2) on conflict (name) do nothing', [name, create()]);
  const { rows } = await db.query<{ value: string }>('select value from server_secrets where name = $1', [name]);
  return (rows[0] as { value: string }).value;
}

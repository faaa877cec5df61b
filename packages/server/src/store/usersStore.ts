/** SQL for test users, their per-sales-unit `sub` and QR check-in customer tokens. */
import { randomUUID } from 'node:crypto';
import type { TestUser } from '../customer/testUsers.ts';
import type { Queryable } from './database.ts';

interface UserRow {
  phone: string;
  market: TestUser['market'];
  first_name: string;
  last_name: string;
  email: string;
  birth_date: string;
  nin: string;
  address: TestUser['address'];
  cards: TestUser['cards'];
  can_pay_businesses: boolean;
  manual_approvals: number;
}

export type StoredUser = TestUser & { manualApprovals: number };

function toUser(row: UserRow): StoredUser {
  return {
    phone: row.phone,
    market: row.market,
    firstName: row.first_name,
    lastName: row.last_name,
    email: row.email,
    birthDate: row.birth_date,
    nin: row.nin,
    address: row.address,
    cards: row.cards,
    canPayBusinesses: row.can_pay_businesses,
    manualApprovals: row.manual_approvals,
  };
}

const userSelect = `select phone, market, first_name, last_name, email, to_char(birth_date, 'YYYY-MM-DD') as birth_date, nin,
  address, cards, can_pay_businesses, manual_approvals from test_users`;

export async function findUser(db: Queryable, phone: string): Promise<StoredUser | null> {
  const { rows } = await db.query<UserRow>(`${userSelect} where phone = $1`, [phone]);
  return rows[0] ? toUser(rows[0]) : null;
}

export async function listUsers(db: Queryable): Promise<StoredUser[]> {
  const { rows } = await db.query<UserRow>(`${userSelect} order by market, phone`);
  return rows.map(toUser);
}

export async function upsertUser(db: Queryable, user: TestUser): Promise<void> {
  await db.query(
    `insert into test_users (phone, market, first_name, last_name, email, birth_date, nin, address, cards, can_pay_businesses)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     on conflict (phone) do update set market = excluded.market, first_name = excluded.first_name, last_name = excluded.last_name,
       email = excluded.email, birth_date = excluded.birth_date, nin = excluded.nin, address = excluded.address,
       cards = excluded.cards, can_pay_businesses = excluded.can_pay_businesses`,
    [
      user.phone,
      user.market,
      user.firstName,
      user.lastName,
      user.email,
      user.birthDate,
      user.nin,
      JSON.stringify(user.address),
      JSON.stringify(user.cards),
      user.canPayBusinesses,
    ],
  );
}

export async function recordManualApproval(db: Queryable, phone: string): Promise<void> {
  await db.query('update test_users set manual_approvals = manual_approvals + 1 where phone = $1', [phone]);
}

/** The user's stable `sub` towards one sales unit, created on first use. */
export async function subFor(db: Queryable, msn: string, phone: string): Promise<string> {
  await db.query('insert into profile_subs (msn, phone, sub) values ($1, $2, $3) on conflict (msn, phone) do nothing', [
    msn,
    phone,
    randomUUID(),
  ]);
  const { rows } = await db.query<{ sub: string }>('select sub from profile_subs where msn = $1 and phone = $2', [msn, phone]);
  return (rows[0] as { sub: string }).sub;
}

export async function findCustomerToken(db: Queryable, token: string): Promise<{ msn: string; phone: string; expiresAt: Date } | null> {
  const { rows } = await db.query<{ msn: string; phone: string; expires_at: Date }>(
    'select msn, phone, expires_at from customer_tokens where token = $1',
    [token],
  );
  const row = rows[0];
  return row ? { msn: row.msn, phone: row.phone, expiresAt: row.expires_at } : null;
}

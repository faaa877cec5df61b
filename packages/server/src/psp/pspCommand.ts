/**
 * `kassa psps create --psp-id ID [--msn 123456 ...]`: a PSP key set with fresh credentials (printed
 * once), its Psp-Id and, optionally, sales units it has already onboarded (more come through
 * POST /merchant-management/psp/v1/merchants). The client secret is stored as a digest for
 * authentication and sealed for signing card callbacks (pspSecrets.ts).
 */
import { parseArgs } from 'node:util';
import { newCredentials } from '../auth/credentials.ts';
import type { Database } from '../store/database.ts';
import { findSalesUnit } from '../store/merchantsStore.ts';
import { findPspKeySet } from '../store/pspStore.ts';
import { insertPspKeySet } from './pspSecrets.ts';

const PSP_ID = /^[\w.-]{1,100}$/;

export async function createPspCommand(
  args: string[],
  withDatabase: <T>(work: (db: Database) => Promise<T>) => Promise<T>,
): Promise<string> {
  const { values } = parseArgs({ args, options: { 'psp-id': { type: 'string' }, msn: { type: 'string', multiple: true } } });
  const pspId = values['psp-id'];
  if (!pspId || !PSP_ID.test(pspId)) throw new Error('--psp-id is required: letters, digits, ".", "_" or "-" (at most 100)');
  const msns = values.msn ?? [];
  const credentials = newCredentials();
  await withDatabase(async (db) => {
    if (await findPspKeySet(db, pspId)) throw new Error(`a PSP with Psp-Id ${pspId} already exists`);
    for (const msn of msns) if (!(await findSalesUnit(db, msn))) throw new Error(`sales unit ${msn} does not exist`);
    await db.transaction((tx) => insertPspKeySet(tx, { pspId, ...credentials, msns }));
  });
  return (
    `${JSON.stringify(
      {
        psp_id: pspId,
        client_id: credentials.clientId,
        client_secret: credentials.clientSecret,
        subscription_key: credentials.subscriptionKey,
        merchant_serial_numbers: msns,
      },
      null,
      2,
    )}\n` + 'The secret and subscription key cannot be shown again; the secret also signs your card callbacks.\n'
  );
}

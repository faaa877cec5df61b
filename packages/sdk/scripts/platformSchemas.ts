/**
 * JSON Schemas of the APIs around ePayment that have no published OpenAPI document in ../shared/openapi
 * (access token, Webhooks, Userinfo, QR, the QR check-in webhook), written from platform-guidelines
 * §2.1, §4.1, §12.2 and §13.3. generateTypes.ts turns them into types; test/platformSchemas.test.ts checks
 * Kassa's real answers against them, so they cannot drift from the server unnoticed.
 */
import type { JSONSchema as Schema } from 'json-schema-to-typescript';

const string: Schema = { type: 'string' };
const nonEmpty: Schema = { type: 'string', minLength: 1 };

export const platformSchemas: Record<string, Schema> = {
  // §2.1: every field a string in the current guide, numbers in one older sample (open question 1).
  AccessTokenResponse: {
    type: 'object',
    description: 'The answer of `POST /accesstoken/get` (platform-guidelines §2.1).',
    properties: {
      token_type: string,
      expires_in: { type: ['string', 'number'] },
      ext_expires_in: { type: ['string', 'number'] },
      expires_on: { type: ['string', 'number'] },
      not_before: { type: ['string', 'number'] },
      resource: string,
      access_token: nonEmpty,
    },
    required: ['token_type', 'expires_in', 'access_token'],
  },
  // §4.1
  RegisterWebhookRequest: {
    type: 'object',
    properties: {
      url: { type: 'string', description: 'Public HTTPS URL that answers 2XX within 10 s and does not redirect.' },
      events: { type: 'array', items: string, minItems: 1, description: 'Event types, e.g. `epayments.payment.authorized.v1`.' },
    },
    required: ['url', 'events'],
  },
  RegisterWebhookResponse: {
    type: 'object',
    properties: {
      id: nonEmpty,
      secret: { type: 'string', minLength: 1, description: 'Returned only here, once: the HMAC key of `verifyWebhook`.' },
    },
    required: ['id', 'secret'],
  },
  Webhook: {
    type: 'object',
    properties: { id: nonEmpty, url: string, events: { type: 'array', items: string } },
    required: ['id', 'url', 'events'],
  },
  WebhookList: {
    type: 'object',
    properties: { webhooks: { type: 'array', items: { $ref: '#/Webhook' } } },
    required: ['webhooks'],
  },
  // §13.3: only consented claims appear.
  UserinfoAddress: {
    type: 'object',
    properties: {
      address_type: { type: 'string', description: '`home`, `work` or `other`.' },
      country: string,
      formatted: string,
      postal_code: string,
      region: string,
      street_address: string,
    },
  },
  Userinfo: {
    type: 'object',
    description: 'The claims of `GET /vipps-userinfo-api/userinfo/{sub}` (platform-guidelines §13.3).',
    properties: {
      sub: nonEmpty,
      sid: string,
      name: string,
      given_name: string,
      family_name: string,
      birthdate: { type: 'string', description: 'YYYY-MM-DD' },
      email: string,
      email_verified: { type: 'boolean' },
      phone_number: string,
      phone_number_verified: { type: 'boolean' },
      address: { $ref: '#/UserinfoAddress' },
      other_addresses: { type: 'array', items: { $ref: '#/UserinfoAddress' } },
      nin: string,
      accounts: {
        type: 'array',
        items: { type: 'object', properties: { account_name: string, account_number: string, bank_name: string } },
      },
    },
    required: ['sub'],
  },
  // §12.2
  OneTimeQr: {
    type: 'object',
    properties: { url: nonEmpty, expiresIn: { type: 'number', description: 'Seconds.' } },
    required: ['url'],
  },
  MerchantRedirectQrRequest: {
    type: 'object',
    properties: {
      id: { type: 'string', minLength: 1, maxLength: 128 },
      redirectUrl: { type: 'string', description: 'HTTPS URL the code opens.' },
      ttl: { type: 'integer', minimum: 300, description: 'Seconds until the code deletes itself.' },
    },
    required: ['id', 'redirectUrl'],
  },
  MerchantRedirectQr: {
    type: 'object',
    properties: {
      id: nonEmpty,
      url: { type: 'string', description: 'The image URL (or the target URL for `text/targetUrl`).' },
      redirectUrl: string,
      expiresIn: { type: ['number', 'null'] },
    },
    required: ['id', 'url', 'redirectUrl'],
  },
  MerchantCallbackQrRequest: {
    type: 'object',
    properties: {
      locationDescription: { type: 'string', maxLength: 36 },
      category: { enum: ['IN_STORE', 'VENDING', 'AGE_CHECK'] },
    },
    required: ['locationDescription'],
  },
  MerchantCallbackQr: {
    type: 'object',
    properties: {
      merchantSerialNumber: string,
      merchantQrId: nonEmpty,
      locationDescription: string,
      category: { enum: ['IN_STORE', 'VENDING', 'AGE_CHECK'] },
      qrImageUrl: string,
      qrContent: string,
    },
    required: ['merchantQrId', 'locationDescription', 'qrImageUrl'],
  },
  QrExchangeResponse: {
    type: 'object',
    properties: { msisdn: string, timestamp: { type: 'number' }, version: string },
    required: ['msisdn'],
  },
  // §12.2: `msn`, named `merchantSerialNumber` before 2024 (open question 20: accept both).
  QrCheckInEvent: {
    type: 'object',
    description: 'The `user.checked-in.v1` webhook: a customer scanned a merchant callback QR (platform-guidelines §12.2).',
    properties: {
      customerToken: { type: 'string', description: 'For `customer.customerToken` in a PUSH_MESSAGE payment; valid 15 minutes.' },
      merchantQrId: string,
      msn: string,
      initiatedAt: string,
    },
    required: ['customerToken', 'merchantQrId', 'msn', 'initiatedAt'],
  },
};

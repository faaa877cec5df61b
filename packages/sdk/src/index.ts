/**
 * @kassa/sdk — a TypeScript client for the Vipps MobilePay ePayment platform that does by itself what
 * the go-live checklist asks of an integration. Works against Kassa and the platform alike (base URL).
 * See docs/sdk.md.
 */
export { AccessTokenProvider, type CachedToken } from './accessToken.ts';
export {
  type CardCallbackCardInfo,
  type CardCallbackNetworkToken,
  type CardCallbackRequest,
  type CardCallbackResponse,
  type CardCallbackVerification,
  decryptPan,
  verifyCardCallback,
} from './cardCallback.ts';
export { Client, createClient } from './client.ts';
export { type ClientConfig, PRODUCTION_BASE_URL, type ResolvedConfig, SDK_VERSION, type SystemInfo, TEST_BASE_URL } from './config.ts';
export { type CallOptions, EPaymentApi, type ModifyingCallOptions } from './epayment.ts';
export { AccessTokenError, ApiError, type CallContext, ConfigurationError, NetworkError, SdkError, TimeoutError } from './errors.ts';
export type * from './generated/types.ts';
export { type HttpRequest, type HttpResponse, nodeHttpTransport, type Transport } from './httpTransport.ts';
export { jsonLinesLogger, type LogEntry, type Logger, type LogLevel, REDACTED, redactHeaders, silentLogger } from './logging.ts';
export {
  createPaymentTracker,
  FINAL_STATES,
  type PaymentTracker,
  type StateChange,
  type TrackerOptions,
  type Tracking,
  type TrackingOutcome,
} from './paymentTracker.ts';
export { type CallbackQrImageOptions, QrApi, type QrImageFormat, type QrImageOptions } from './qr.ts';
export {
  captureDeadlineDays,
  createReservationKeeper,
  type ReservationAction,
  type ReservationContext,
  type ReservationDecision,
  type ReservationKeeper,
  type ReservationKeeperOptions,
  type ReservationReport,
  type ReservationRule,
  type ReservationStore,
} from './reservationKeeper.ts';
export { defaultRetryOptions, type RetryOptions } from './retryPolicy.ts';
export { ManualScheduler, type Scheduler, systemScheduler } from './scheduler.ts';
export { UserinfoApi } from './userinfo.ts';
export {
  RECOMMENDED_MAX_SKEW_MS,
  type VerifyWebhookOptions,
  verifyWebhook,
  type WebhookHeaders,
  type WebhookRejection,
  type WebhookVerification,
} from './verifyWebhook.ts';
export { epaymentEventType, eventKey, parseWebhookEvent, type WebhookPayload } from './webhookEvents.ts';
export { type WebhookCallOptions, WebhooksApi } from './webhooksApi.ts';

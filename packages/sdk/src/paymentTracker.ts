/**
 * Follows payments until they reach a final state, from webhooks and polling together — the checklist
 * fails integrations that use only one (platform-guidelines §5). Polling starts 5 s after the payment was
 * created and repeats every 2 s (§5); it stops at a final state (`AUTHORIZED`, `ABORTED`, `EXPIRED`,
 * `TERMINATED`) or when the payment's time is up: 10 minutes, or `expiresAt`, plus one minute (§5 [rec]).
 *
 * Each state change is reported once, by whichever channel saw it first; repeated deliveries and polls
 * that find nothing new report nothing. A webhook that is not itself a state change (a capture, say)
 * for a payment still being followed triggers an early poll: the payload is a signal, the API the truth
 * (§4.3). Timers run on the injected scheduler, so tests move time instead of waiting.
 */
import type { EPaymentApi } from './epayment.ts';
import { ApiError } from './errors.ts';
import type { GetPaymentResponse, State, WebhookEvent } from './generated/types.ts';
import { type Logger, silentLogger } from './logging.ts';
import { type Scheduler, systemScheduler } from './scheduler.ts';
import { eventKey, type WebhookPayload } from './webhookEvents.ts';

export const FINAL_STATES: ReadonlySet<State> = new Set<State>(['AUTHORIZED', 'ABORTED', 'EXPIRED', 'TERMINATED']);

/** Webhook event names that are payment states (the others — CAPTURED, REFUNDED, CANCELLED — are not). */
const STATE_EVENTS: ReadonlySet<string> = new Set(['CREATED', 'AUTHORIZED', 'ABORTED', 'EXPIRED', 'TERMINATED']);

const DEFAULT_PAYMENT_LIFETIME_MS = 10 * 60 * 1000;
const STOP_MARGIN_MS = 60 * 1000;

export interface StateChange {
  reference: string;
  state: State;
  previous: State | undefined;
  source: 'webhook' | 'poll';
  /** When the tracker saw it (scheduler clock, ms). */
  observedAt: number;
  /** The payment as polled (source `poll`). */
  payment?: GetPaymentResponse;
  /** The event as delivered (source `webhook`). */
  event?: WebhookEvent;
}

export interface TrackingOutcome {
  reference: string;
  state: State | undefined;
  final: boolean;
  timedOut: boolean;
  stopped: boolean;
  changes: StateChange[];
}

export interface Tracking {
  readonly reference: string;
  readonly state: State | undefined;
  /** Resolves at a final state, at the timeout, or on `stop()`. */
  readonly done: Promise<TrackingOutcome>;
  stop(): void;
  /** Resolves once no poll is in flight. */
  idle(): Promise<void>;
}

export interface TrackOptions {
  /** Sales unit of the payment: webhooks of other units with the same reference are ignored. */
  msn?: string;
  /** When the payment was created (scheduler clock, ms); default now. Polling starts 5 s after it. */
  createdAt?: number;
  /** The payment's `expiresAt` for long-living payments; default 10 minutes after creation. */
  expiresAt?: Date | string;
  onChange?: (change: StateChange) => void | Promise<void>;
}

export interface TrackerOptions {
  epayment: Pick<EPaymentApi, 'getPayment'>;
  scheduler?: Scheduler;
  logger?: Logger;
  /** Default 5000 (§5). */
  firstPollDelayMs?: number;
  /** Default 2000 (§5). */
  pollIntervalMs?: number;
  /** Called for every state change of every tracked payment (after the per-payment `onChange`). */
  onChange?: (change: StateChange) => void | Promise<void>;
}

export interface PaymentTracker {
  track(reference: string, options?: TrackOptions): Tracking;
  /**
   * Feed a verified webhook. Returns true when it reported a new state change; false for duplicates,
   * events that are not state changes, and payments not being tracked.
   */
  handleWebhook(payload: WebhookPayload | WebhookEvent): boolean;
  tracked(): string[];
  stopAll(): void;
}

interface Entry {
  reference: string;
  options: TrackOptions;
  state: State | undefined;
  changes: StateChange[];
  seenEvents: Set<string>;
  pollTimer: unknown;
  deadlineTimer: unknown;
  inFlight: Promise<void> | undefined;
  finished: boolean;
  resolve: (outcome: TrackingOutcome) => void;
}

export function createPaymentTracker(options: TrackerOptions): PaymentTracker {
  const scheduler = options.scheduler ?? systemScheduler;
  const log = options.logger ?? silentLogger;
  const firstPollDelayMs = options.firstPollDelayMs ?? 5000;
  const pollIntervalMs = options.pollIntervalMs ?? 2000;
  const entries = new Map<string, Entry>();
  const handles = new Map<string, Tracking>();

  function finish(entry: Entry, how: { timedOut?: boolean; stopped?: boolean }): void {
    if (entry.finished) return;
    entry.finished = true;
    scheduler.clearTimeout(entry.pollTimer);
    scheduler.clearTimeout(entry.deadlineTimer);
    entries.delete(entry.reference);
    handles.delete(entry.reference);
    const final = entry.state !== undefined && FINAL_STATES.has(entry.state);
    if (how.timedOut) {
      log({
        level: 'warn',
        event: 'tracker.timed_out',
        message: `stopped following ${entry.reference} without a final state`,
        reference: entry.reference,
        state: entry.state,
      });
    }
    entry.resolve({
      reference: entry.reference,
      state: entry.state,
      final,
      timedOut: how.timedOut ?? false,
      stopped: how.stopped ?? false,
      changes: entry.changes,
    });
  }

  async function report(entry: Entry, change: Omit<StateChange, 'previous' | 'observedAt' | 'reference'>): Promise<boolean> {
    if (entry.finished || entry.state === change.state) return false;
    // Final states never change; a late CREATED (out-of-order delivery) must not move a payment back.
    if (entry.state !== undefined && (FINAL_STATES.has(entry.state) || change.state === 'CREATED')) return false;
    const full: StateChange = { reference: entry.reference, previous: entry.state, observedAt: scheduler.now(), ...change };
    entry.state = change.state;
    entry.changes.push(full);
    log({
      level: 'info',
      event: 'tracker.state_changed',
      message: `${entry.reference}: ${full.previous ?? '-'} → ${full.state} (${full.source})`,
      reference: entry.reference,
      state: full.state,
      previous: full.previous,
      source: full.source,
    });
    for (const listener of [entry.options.onChange, options.onChange]) {
      if (!listener) continue;
      try {
        await listener(full);
      } catch (error) {
        log({ level: 'error', event: 'tracker.listener_failed', message: (error as Error).message, reference: entry.reference });
      }
    }
    if (FINAL_STATES.has(full.state)) finish(entry, {});
    return true;
  }

  function schedulePoll(entry: Entry, delayMs: number): void {
    if (entry.finished) return;
    scheduler.clearTimeout(entry.pollTimer);
    entry.pollTimer = scheduler.setTimeout(() => {
      entry.inFlight = poll(entry).finally(() => {
        entry.inFlight = undefined;
      });
    }, delayMs);
  }

  async function poll(entry: Entry): Promise<void> {
    let nextDelay = pollIntervalMs;
    try {
      const payment = await options.epayment.getPayment(
        entry.reference,
        entry.options.msn ? { merchantSerialNumber: entry.options.msn } : {},
      );
      await report(entry, { state: payment.state, source: 'poll', payment });
    } catch (error) {
      // Keep polling until the deadline: the next poll may well succeed. Wait as long as a Retry-After asks;
      // a 429 says slow down (§5), so twice the interval at least.
      if (error instanceof ApiError) {
        nextDelay = Math.max(error.status === 429 ? 2 * pollIntervalMs : pollIntervalMs, error.retryAfterMs ?? 0);
      }
      log({
        level: 'warn',
        event: 'tracker.poll_failed',
        message: (error as Error).message,
        reference: entry.reference,
        retryInMs: nextDelay,
      });
    }
    schedulePoll(entry, nextDelay);
  }

  function track(reference: string, trackOptions: TrackOptions = {}): Tracking {
    const existing = handles.get(reference);
    if (existing) return existing;
    const createdAt = trackOptions.createdAt ?? scheduler.now();
    const expiresAt =
      trackOptions.expiresAt === undefined ? createdAt + DEFAULT_PAYMENT_LIFETIME_MS : new Date(trackOptions.expiresAt).getTime();
    let resolve!: (outcome: TrackingOutcome) => void;
    const done = new Promise<TrackingOutcome>((r) => {
      resolve = r;
    });
    const entry: Entry = {
      reference,
      options: trackOptions,
      state: undefined,
      changes: [],
      seenEvents: new Set(),
      pollTimer: undefined,
      deadlineTimer: undefined,
      inFlight: undefined,
      finished: false,
      resolve,
    };
    entries.set(reference, entry);
    const now = scheduler.now();
    schedulePoll(entry, Math.max(0, createdAt + firstPollDelayMs - now));
    entry.deadlineTimer = scheduler.setTimeout(() => finish(entry, { timedOut: true }), Math.max(0, expiresAt + STOP_MARGIN_MS - now));
    const handle: Tracking = {
      reference,
      get state() {
        return entry.state;
      },
      done,
      stop: () => finish(entry, { stopped: true }),
      idle: async () => {
        while (entry.inFlight) await entry.inFlight;
      },
    };
    handles.set(reference, handle);
    return handle;
  }

  function handleWebhook(payload: WebhookPayload | WebhookEvent): boolean {
    let event: WebhookEvent;
    if ('kind' in payload) {
      if (payload.kind !== 'epayment') return false;
      event = payload.data;
    } else {
      event = payload;
    }
    const entry = entries.get(event.reference);
    if (!entry || (entry.options.msn && entry.options.msn !== event.msn)) return false;
    const key = eventKey(event);
    if (entry.seenEvents.has(key)) {
      log({
        level: 'debug',
        event: 'tracker.duplicate_webhook',
        message: `duplicate ${event.name} for ${event.reference}`,
        reference: event.reference,
      });
      return false;
    }
    entry.seenEvents.add(key);
    if (event.success && STATE_EVENTS.has(event.name)) {
      const before = entry.changes.length;
      void report(entry, { state: event.name as State, source: 'webhook', event });
      return entry.changes.length > before;
    }
    // Not a state change of its own (or an unsuccessful operation): read the truth now instead of waiting.
    if (!entry.inFlight) schedulePoll(entry, 0);
    return false;
  }

  return {
    track,
    handleWebhook,
    tracked: () => [...entries.keys()],
    stopAll: () => {
      for (const entry of [...entries.values()]) finish(entry, { stopped: true });
    },
  };
}

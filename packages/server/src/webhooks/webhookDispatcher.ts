/**
 * Delivers the webhook outbox (platform-guidelines §4.5). Each server process runs one dispatcher; they
 * share the work through the database (claims with SKIP LOCKED and a lease), so an event reaches each
 * registration once, and a process killed mid-delivery leaves a lease that another process (or the
 * same one restarted) takes over when it expires.
 *
 * Wake-ups: a commit that queued deliveries notifies the `kassa_webhooks` channel (LISTEN/NOTIFY on both
 * PostgreSQL and PGlite), the API routes of this process call wake() after their commits, every finished
 * attempt wakes the dispatcher for the next event of that payment, and a poll picks up retries that came
 * due and leases that expired. In the tests' manual mode nothing runs by itself: deliverDue() delivers
 * what is due, now, and returns when nothing more is.
 *
 * Every attempt runs on its own, up to `concurrency` at once and `perRegistration` per receiver, each
 * bounded by the receiver deadline, so a receiver that hangs, resets or fails holds back only its own
 * queue.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../clock.ts';
import type { Mode } from '../config.ts';
import type { Database } from '../store/database.ts';
import { GroupCommit } from '../store/groupCommit.ts';
import {
  claimDeliveries,
  type DeliveredReport,
  type RecordedAttempt,
  recordDeliveries,
  recordFailedAttempt,
  releaseAllLeases,
  releaseDeliveries,
  repairQueueHeads,
  WEBHOOK_CHANNEL,
} from '../store/webhooksStore.ts';
import { postWebhook, RECEIVER_DEADLINE_MS } from './postWebhook.ts';
import { signRequest } from './signWebhook.ts';
import type { ClaimedDelivery } from './types.ts';
import { webhookBody } from './webhookPayload.ts';
import { openSecret, webhookSecretKey } from './webhookSecrets.ts';

/**
 * How long (real time) a success this process recorded stands for the next ones of that registration.
 * Short, so a failure recorded by another process is cleared again within a second of the next success.
 */
const HEALTH_MARK_REUSE_MS = 1000;

/** Poll ticks between repairs of every queue (repairQueueHeads): a minute at the default 1 s poll. */
const REPAIR_ALL_EVERY_TICKS = 60;

export interface DispatcherOptions {
  db: Database;
  clock: Clock;
  log: FastifyBaseLogger;
  mode: Mode;
  /** The receiver deadline (§4.5: 10 s). */
  timeoutMs?: number;
  /** Attempts running at once in this process (default 128). */
  concurrency?: number;
  /** Attempts running at once in this process for one registration (a quarter of `concurrency` unless set). */
  perRegistration?: number;
  /** How often the background loop looks for retries that came due and expired leases. */
  pollMs?: number;
  /**
   * Runs before an attempt with the claim held; false when the attempt must not be made now (fault
   * injection in test mode, control/injectFaults.ts, dropped or postponed the delivery).
   */
  beforeAttempt?: (delivery: ClaimedDelivery, worker: string) => Promise<boolean>;
}

interface InFlight {
  registrationId: string;
  abort: AbortController;
  done: Promise<void>;
}

export class WebhookDispatcher {
  readonly worker = `${process.pid}-${randomUUID().slice(0, 8)}`;
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #log: FastifyBaseLogger;
  readonly #mode: Mode;
  readonly #timeoutMs: number;
  readonly #concurrency: number;
  readonly #perRegistration: number;
  readonly #pollMs: number;
  readonly #beforeAttempt: DispatcherOptions['beforeAttempt'];
  /** A claim outlives the longest attempt by a wide margin, so it never expires under a live process. */
  readonly #leaseMs: number;
  readonly #inFlight = new Map<number, InFlight>();
  /** Payments whose queues may have been left without a head (webhooksStore.ts, repairQueueHeads). */
  readonly #toRepair = new Set<number>();
  #repairAll = false;
  /** Deliveries started, claimed or chained (deliverDue reports how many it made). */
  #launched = 0;
  /** Registrations this process recorded a success for, and when (real time); a failure removes them. */
  readonly #healthyAt = new Map<string, number>();
  /** Successes finished in one turn are recorded in one statement. */
  readonly #delivered: GroupCommit<DeliveredReport, RecordedAttempt>;
  #background = false;
  #stopped = false;
  #pumping: Promise<number> | null = null;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  #unlisten: (() => Promise<void>) | undefined;

  constructor(options: DispatcherOptions) {
    this.#db = options.db;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#mode = options.mode;
    this.#timeoutMs = options.timeoutMs ?? RECEIVER_DEADLINE_MS;
    this.#concurrency = options.concurrency ?? 128;
    // A receiver that hangs can hold at most a quarter of the attempts; a fast one gets enough of them
    // to keep up with peak load: 32 at once for the bench's single receiver kept its lag at peak under
    // 0.2 s, where 16 let a backlog of seconds build up (a payment's events go one after another, and 32
    // payments were in progress at once).
    this.#perRegistration = options.perRegistration ?? Math.max(1, Math.floor(this.#concurrency / 4));
    this.#pollMs = options.pollMs ?? 1000;
    this.#beforeAttempt = options.beforeAttempt;
    this.#leaseMs = 2 * this.#timeoutMs + 5000;
    this.#delivered = new GroupCommit((delivered) => recordDeliveries(this.#db, delivered));
  }

  /** Prepares the outbox for this process; on the embedded store, leases left by a crashed run are released. */
  async prepare(): Promise<void> {
    // PGlite is opened by one process at a time, so any lease found now belongs to a process that died.
    if (this.#db.kind === 'pglite') await releaseAllLeases(this.#db);
  }

  /** Runs in the background until stop(): LISTEN for new events, poll for retries. */
  async start(): Promise<void> {
    await this.prepare();
    this.#background = true;
    this.#unlisten = await this.#db.listen(WEBHOOK_CHANNEL, (payload) => {
      if (payload) this.#toRepair.add(Number(payload));
      this.wake();
    });
    let ticks = 0;
    const tick = () => {
      // At start (whatever an earlier run left) and then every minute, a repair of every queue: a safety
      // net for a notification lost with a database connection.
      if (ticks++ % REPAIR_ALL_EVERY_TICKS === 0) this.#repairAll = true;
      this.wake();
      if (!this.#stopped) this.#timer = setTimeout(tick, this.#pollMs);
    };
    tick();
  }

  /** New events were committed (or an attempt finished): look for due deliveries now. */
  wake(): void {
    if (!this.#background || this.#stopped) return;
    this.#pump().catch((error) => this.#log.error({ err: error }, 'webhook dispatcher failed'));
  }

  /**
   * Delivers everything due by the server clock, in order, and returns the number of attempts made when
   * nothing more is due and nothing is in flight. Retries scheduled later wait for the clock to move.
   */
  async deliverDue(): Promise<number> {
    // Without a background dispatcher nobody LISTENs for the repairs writers ask for: do them all here.
    this.#repairAll = true;
    const before = this.#launched;
    for (;;) {
      const claimed = await this.#pump();
      if (this.#inFlight.size === 0) {
        if (claimed === 0) return this.#launched - before;
        continue;
      }
      await Promise.race([...this.#inFlight.values()].map((job) => job.done));
    }
  }

  /**
   * Stops claiming; attempts still running get `graceMs` to finish, then are abandoned and their claims
   * released, so another process delivers them at once (at worst a duplicate, never a loss).
   */
  async stop(graceMs = 2000): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#unlisten?.().catch(() => {});
    await this.#pumping?.catch(() => {});
    const running = [...this.#inFlight.values()];
    if (running.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([Promise.all(running.map((job) => job.done)), grace]);
    clearTimeout(timer);
    for (const job of this.#inFlight.values()) job.abort.abort();
    await Promise.all([...this.#inFlight.values()].map((job) => job.done));
  }

  /** Claims as many due deliveries as there is room for and starts them; returns how many it started. */
  #pump(): Promise<number> {
    if (this.#pumping) {
      this.#again = true;
      return this.#pumping.then(() => 0);
    }
    const run = async () => {
      let started = 0;
      do {
        this.#again = false;
        const room = this.#concurrency - this.#inFlight.size;
        if (room <= 0 || this.#stopped) break;
        if (this.#repairAll || this.#toRepair.size > 0) await this.#repair();
        const inFlight = new Map<string, number>();
        for (const job of this.#inFlight.values()) inFlight.set(job.registrationId, (inFlight.get(job.registrationId) ?? 0) + 1);
        const claimed = await claimDeliveries(this.#db, {
          now: this.#clock.now(),
          unitOffsets: this.#clock.unitOffsets(),
          limit: room,
          perRegistration: this.#perRegistration,
          inFlight,
          leaseMs: this.#leaseMs,
          worker: this.worker,
        });
        for (const delivery of claimed) this.#launch(delivery);
        started += claimed.length;
        if (claimed.length === room) this.#again = true;
      } while (this.#again && !this.#stopped);
      return started;
    };
    this.#pumping = run().finally(() => {
      this.#pumping = null;
      // A wake-up that arrived after the loop's last claim must not be lost.
      if (this.#again) this.wake();
    });
    return this.#pumping;
  }

  /** Runs the repairs asked for; they stay asked for when the database fails meanwhile. */
  async #repair(): Promise<void> {
    const all = this.#repairAll;
    const payments = [...this.#toRepair];
    this.#repairAll = false;
    this.#toRepair.clear();
    try {
      await repairQueueHeads(this.#db, all ? 'all' : payments);
    } catch (error) {
      if (all) this.#repairAll = true;
      for (const id of payments) this.#toRepair.add(id);
      throw error;
    }
  }

  #launch(delivery: ClaimedDelivery): void {
    this.#launched += 1;
    const abort = new AbortController();
    const done = this.#attempt(delivery, abort.signal)
      .catch((error) => this.#log.error({ err: error, deliveryId: delivery.id }, 'webhook attempt could not be recorded'))
      .finally(() => {
        this.#inFlight.delete(delivery.id);
        this.wake();
      });
    this.#inFlight.set(delivery.id, { registrationId: delivery.registrationId, abort, done });
  }

  async #attempt(delivery: ClaimedDelivery, signal: AbortSignal): Promise<void> {
    if (this.#beforeAttempt && !(await this.#beforeAttempt(delivery, this.worker))) {
      // A fault dropped or reordered it, promoting without a lock shared with new events.
      this.#toRepair.add(delivery.paymentId);
      return;
    }
    const secret = openSecret(await webhookSecretKey(this.#db), delivery.registrationId, delivery.secretSealed);
    const body = webhookBody(delivery.event);
    // Every attempt is signed afresh with its own date (§4.5 [rec], open question 7). Retries are
    // scheduled on the clock of the event's sales unit.
    const startedAt = this.#clock.now(delivery.event.msn);
    const signed = signRequest({ url: delivery.url, body, secret, date: startedAt });
    const sentAt = this.#wallClock();
    const result = await postWebhook({
      url: delivery.url,
      body,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'x-ms-date': signed['x-ms-date'],
        'x-ms-content-sha256': signed['x-ms-content-sha256'],
        authorization: signed.Authorization,
        // epayment-api §15: deliveries also carry the id of the registration they are for.
        'webhook-id': delivery.registrationId,
        'user-agent': 'Kassa-Webhooks/1',
      },
      timeoutMs: this.#timeoutMs,
      refusePrivateAddresses: this.#mode === 'production',
      signal,
    });
    if (result.outcome === 'aborted') {
      await releaseDeliveries(this.#db, [delivery.id], this.worker);
      return;
    }
    // The payment's next event for this registration comes back claimed when it is due, and goes out
    // at once in this slot: no claim round, no wait for a wake-up (unless this process is stopping).
    const chain = this.#stopped ? undefined : { leaseMs: this.#leaseMs, now: this.#clock.now(delivery.event.msn) };
    const report = {
      deliveryId: delivery.id,
      registrationId: delivery.registrationId,
      worker: this.worker,
      scheduledAt: delivery.scheduledAt,
      startedAt,
      endedAt: this.#clock.now(delivery.event.msn),
      xMsDate: signed['x-ms-date'],
      sentAt,
      durationMs: result.durationMs,
      httpStatus: result.httpStatus,
      outcome: result.outcome,
      error: result.error,
      healthyJustNow: this.#healthyJustNow(delivery.registrationId),
    };
    const recorded =
      result.outcome === 'delivered'
        ? await this.#delivered.submit({ report, chain })
        : await recordFailedAttempt(this.#db, { ...report, outcome: result.outcome }, chain);
    if (result.outcome === 'delivered') this.#healthyAt.set(delivery.registrationId, performance.now());
    else this.#healthyAt.delete(delivery.registrationId);
    if (recorded.disabled) {
      this.#log.warn({ registrationId: delivery.registrationId }, 'webhook registration unresponsive for 14 days: removed');
    }
    if (recorded.leftQueueHeadless) this.#toRepair.add(delivery.paymentId);
    if (recorded.next && this.#stopped) await releaseDeliveries(this.#db, [recorded.next.id], this.worker);
    else if (recorded.next) this.#launch(recorded.next);
  }

  #healthyJustNow(registrationId: string): boolean {
    const at = this.#healthyAt.get(registrationId);
    return at !== undefined && performance.now() - at < HEALTH_MARK_REUSE_MS;
  }

  /**
   * Real time, for the delivery-lag figures only (the server clock may have been moved in test mode;
   * lag is measured against the database's wall clock at commit).
   */
  #wallClock(): Date {
    return new Date(this.#clock.nowMs() - this.#clock.offsetMs);
  }
}

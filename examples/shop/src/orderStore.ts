/**
 * Orders and the webhook registration, kept in memory and written to one JSON file after every change
 * (write to a temporary file, then rename, so a crash never leaves half a file). A real shop uses its
 * database; the point here is that the shop — not the payment API, which cannot list payments — knows
 * which references exist and which of them still hold a reservation.
 *
 * Changes to one order are serialised (`update`), so a webhook and a poll for the same payment, or two
 * clicks on "Ship", never interleave.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Order } from './orders.ts';

export interface WebhookRegistration {
  id: string;
  url: string;
  /** The HMAC key of the deliveries. Returned once by the platform; keep it like a password. */
  secret: string;
}

interface Saved {
  nextNumber: number;
  orders: Order[];
  webhook?: WebhookRegistration;
}

export class OrderStore {
  readonly #file: string | undefined;
  readonly #orders = new Map<string, Order>();
  readonly #locks = new Map<string, Promise<unknown>>();
  #nextNumber = 1001;
  #webhook: WebhookRegistration | undefined;

  /** `file` undefined keeps everything in memory (tests). */
  constructor(file?: string) {
    this.#file = file;
    if (!file) return;
    let saved: Saved | undefined;
    try {
      saved = JSON.parse(readFileSync(file, 'utf8')) as Saved;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (saved) {
      this.#nextNumber = saved.nextNumber;
      for (const order of saved.orders) this.#orders.set(order.reference, order);
      this.#webhook = saved.webhook;
    }
  }

  nextNumber(): number {
    const number = this.#nextNumber++;
    this.#save();
    return number;
  }

  add(order: Order): void {
    this.#orders.set(order.reference, order);
    this.#save();
  }

  get(reference: string): Order | undefined {
    return this.#orders.get(reference);
  }

  all(): Order[] {
    return [...this.#orders.values()].sort((a, b) => b.number - a.number);
  }

  /** Orders whose payment may still hold money: authorized, with something neither captured nor cancelled. */
  withReservation(): string[] {
    return this.all()
      .filter(
        (order) => order.paymentState === 'AUTHORIZED' && order.amounts.authorized - order.amounts.captured - order.amounts.cancelled > 0,
      )
      .map((order) => order.reference);
  }

  /** Runs `change` on the order with no other change of the same order in between, then saves. */
  async update<T>(reference: string, change: (order: Order) => T | Promise<T>): Promise<T> {
    const previous = this.#locks.get(reference) ?? Promise.resolve();
    const run = previous.then(async () => {
      const order = this.#orders.get(reference);
      if (!order) throw new Error(`no order ${reference}`);
      try {
        return await change(order);
      } finally {
        this.#save();
      }
    });
    const settled = run.catch(() => {});
    this.#locks.set(reference, settled);
    void settled.then(() => {
      if (this.#locks.get(reference) === settled) this.#locks.delete(reference);
    });
    return run;
  }

  get webhook(): WebhookRegistration | undefined {
    return this.#webhook;
  }

  set webhook(registration: WebhookRegistration | undefined) {
    this.#webhook = registration;
    this.#save();
  }

  #save(): void {
    if (!this.#file) return;
    const saved: Saved = {
      nextNumber: this.#nextNumber,
      orders: [...this.#orders.values()],
      ...(this.#webhook ? { webhook: this.#webhook } : {}),
    };
    mkdirSync(dirname(this.#file), { recursive: true });
    const temporary = `${this.#file}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(saved, null, 1), { mode: 0o600 });
    renameSync(temporary, this.#file);
  }
}

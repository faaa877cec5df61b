/**
 * A group commit: the items submitted in one turn of the event loop are written by one call of `write`
 * (one statement), so under load many share a round trip, a commit and a WAL flush, and a lone item
 * pays nothing but a setImmediate. When a shared write fails, each of its items is written again on its
 * own, so one item's failure (a conflict, a constraint) is never another's.
 */

/** Items per write: large enough to gather a loaded turn, small enough to keep the statement quick. */
const MAX_BATCH = 64;

interface Waiting<In, Out> {
  item: In;
  resolve: (result: Out) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit<In, Out> {
  readonly #write: (items: In[]) => Promise<Out[]>;
  #waiting: Waiting<In, Out>[] = [];

  /** `write` stores the items atomically and returns one result per item, in their order. */
  constructor(write: (items: In[]) => Promise<Out[]>) {
    this.#write = write;
  }

  submit(item: In): Promise<Out> {
    return new Promise((resolve, reject) => {
      if (this.#waiting.push({ item, resolve, reject }) === 1) setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    const waiting = this.#waiting;
    this.#waiting = [];
    for (let i = 0; i < waiting.length; i += MAX_BATCH) void this.#run(waiting.slice(i, i + MAX_BATCH));
  }

  async #run(batch: Waiting<In, Out>[]): Promise<void> {
    try {
      const results = await this.#write(batch.map((w) => w.item));
      for (const [i, w] of batch.entries()) w.resolve(results[i] as Out);
    } catch (error) {
      // Nothing was written; alone, each item meets its own outcome.
      if (batch.length === 1) batch[0]?.reject(error);
      else await Promise.all(batch.map((w) => this.#run([w])));
    }
  }
}

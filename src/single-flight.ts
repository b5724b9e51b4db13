/**
 * Single-flight: concurrent calls with the same key share one in-flight load. The entry is
 * removed as soon as the load settles, so nothing is cached: a call made after a load settled
 * starts a new one, and a call only ever receives a load that was under way when it was made. A
 * failed load fails every call that shared it.
 */
export class SingleFlight<T> {
  private readonly inFlight = new Map<string, Promise<T>>();

  run(key: string, load: () => Promise<T>): Promise<T> {
    const running = this.inFlight.get(key);
    if (running) return running;
    const started = (async () => {
      try {
        return await load();
      } finally {
        this.inFlight.delete(key);
      }
    })();
    this.inFlight.set(key, started);
    return started;
  }

  /** Loads under way now (for tests and metrics). */
  get size(): number {
    return this.inFlight.size;
  }
}

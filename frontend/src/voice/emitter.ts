/** A tiny typed event source: `on(listener)` answers the unsubscribe function, `emit(value)` calls them all. */
export class Emitter<T> {
  private readonly listeners = new Set<(value: T) => void>();

  /** Subscribes `listener`; returns the unsubscribe function. */
  on(listener: (value: T) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(value: T): void {
    for (const listener of this.listeners) listener(value);
  }
}

/**
 * A boolean derived from `read()` whose changes are announced: call {@link changed} whenever the inputs of
 * `read` may have changed; listeners hear only real changes.
 */
export class Flag extends Emitter<boolean> {
  private last = false;

  constructor(private readonly read: () => boolean) {
    super();
  }

  changed(): void {
    const value = this.read();
    if (value === this.last) return;
    this.last = value;
    this.emit(value);
  }
}

/**
 * Typed listener lists for a set of events (an interface of methods). A listener that throws is reported as a
 * process warning and does not stop the others, nor the emitter.
 */
export class Listeners<E extends { [K in keyof E]: (...args: never[]) => void }> {
  private readonly lists: { [K in keyof E]?: E[K][] } = {};

  constructor(private readonly owner: string) {}

  add<K extends keyof E>(event: K, fn: E[K]): void {
    (this.lists[event] ??= []).push(fn);
  }

  remove<K extends keyof E>(event: K, fn: E[K]): void {
    const l = this.lists[event];
    const i = l ? l.indexOf(fn) : -1;
    if (l && i >= 0) l.splice(i, 1);
  }

  emit<K extends keyof E>(event: K, ...args: Parameters<E[K]>): void {
    for (const fn of [...(this.lists[event] ?? [])] as ((...a: Parameters<E[K]>) => void)[]) {
      try {
        fn(...args);
      } catch (e) {
        process.emitWarning(`${this.owner}: a '${String(event)}' listener threw: ${(e as Error)?.stack ?? e}`);
      }
    }
  }
}

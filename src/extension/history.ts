/**
 * The bounded history of one session's steps, kept as the worker packed them (snapshotCodec.packStep): the
 * buffers are the ones the engine delivered, posted to the webview as they are.
 * Bounded in count and in bytes whatever the number of steps: when over either bound, every other
 * step of the older half is dropped ("thinned"), so the history still spans the whole session.
 */
export interface HistoryEntry {
  index: number;
  buffer: ArrayBuffer;
}

export class StepHistory {
  private items: HistoryEntry[] = [];
  private byteCount = 0;
  /** how many steps were dropped to stay within bounds */
  thinned = 0;
  /** how many steps were ever pushed */
  total = 0;

  constructor(
    readonly maxSteps: number,
    readonly maxBytes: number,
  ) {}

  get length(): number {
    return this.items.length;
  }
  get bytes(): number {
    return this.byteCount;
  }

  push(index: number, buffer: ArrayBuffer): void {
    this.items.push({ index, buffer });
    this.byteCount += buffer.byteLength;
    this.total++;
    while (this.items.length > 1 && (this.items.length > this.maxSteps || this.byteCount > this.maxBytes)) this.thin();
  }

  private thin(): void {
    const n = this.items.length;
    if (n < 4) {
      this.drop([0]);
      return;
    }
    // every other step of the older half, keeping the very first step
    const half = Math.floor(n / 2);
    const idx: number[] = [];
    for (let i = 1; i < half; i += 2) idx.push(i);
    this.drop(idx);
  }

  private drop(positions: number[]): void {
    const set = new Set(positions);
    const kept: HistoryEntry[] = [];
    this.items.forEach((e, i) => {
      if (set.has(i)) {
        this.byteCount -= e.buffer.byteLength;
        this.thinned++;
      } else kept.push(e);
    });
    this.items = kept;
  }

  entries(): readonly HistoryEntry[] {
    return this.items;
  }

  /** the newest entries whose buffers fit in `maxBytes` (at least the newest one), oldest first */
  newest(maxBytes: number): HistoryEntry[] {
    const out: HistoryEntry[] = [];
    let bytes = 0;
    for (let i = this.items.length - 1; i >= 0; i--) {
      const e = this.items[i];
      if (out.length && bytes + e.buffer.byteLength > maxBytes) break;
      bytes += e.buffer.byteLength;
      out.push(e);
    }
    return out.reverse();
  }
}

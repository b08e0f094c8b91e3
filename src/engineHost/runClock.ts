/**
 * The `timeoutMs` budget of one run: it counts the script's own running time. The clock starts when the
 * script has compiled and stands still while the worker is paused; before that, start-up gets a generous
 * guard of its own (compiling and loading tfjs is not the script's time).
 */
export type ClockPhase = 'start-up' | 'run';

export class RunClock {
  private timer: NodeJS.Timeout | null = null;
  private budgetMs: number;
  private runningSince: number | null = null;
  private disposed = false;

  constructor(
    readonly timeoutMs: number,
    private readonly onExpire: (phase: ClockPhase) => void,
  ) {
    this.budgetMs = timeoutMs;
  }

  /** how long start-up may take before the run is given up */
  get startUpGuardMs(): number {
    return Math.max(60_000, this.timeoutMs);
  }

  /** the engine started the worker: guard the start-up */
  startUp(): void {
    this.set(this.startUpGuardMs, 'start-up');
  }

  /** the script runs (compiled, or resumed): spend the budget; nothing if already running */
  run(): void {
    if (this.disposed || this.runningSince !== null) return;
    this.runningSince = performance.now();
    this.set(Math.max(0, this.budgetMs), 'run');
  }

  /** the worker paused: the clock stands still */
  pause(): void {
    if (this.runningSince === null) return;
    this.clear();
    this.budgetMs -= performance.now() - this.runningSince;
    this.runningSince = null;
  }

  dispose(): void {
    this.disposed = true;
    this.clear();
  }

  private set(ms: number, phase: ClockPhase): void {
    this.clear();
    if (!this.disposed) this.timer = setTimeout(() => this.onExpire(phase), ms);
  }

  private clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

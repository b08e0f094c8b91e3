/**
 * When the worker pauses at a step point, and how it hears the host while running or paused: the pause policy
 * ('none', 'next', or 'line': run to the first step point at or after a line), commands read synchronously from
 * the command port, and the block on WorkerInit.control (Atomics.wait) until a command comes.
 *
 * A 'line' policy whose step point is reached only as model building (not a step, see modelBuilding.ts) pauses
 * at the next real step instead: run to a line of model-building code stops after it, not at the script's end.
 */
import { receiveMessageOnPort, type MessagePort as NodePort } from 'node:worker_threads';
import type { HostToWorker, PausePolicy } from '../shared/protocol';
import type { CompiledScript } from './compileScript';

export class PauseControl {
  private policy: PausePolicy;
  /** for a 'line' policy: the step point (file index, point index) it resolves to; null = none */
  private target: { file: number; point: number } | null = null;
  /** the 'line' target was reached as model building: pause at the next step, wherever it is */
  private targetPassed = false;
  /** the compiled script, once there is one (a 'line' policy resolves against its step points) */
  script: CompiledScript | null = null;

  /**
   * @param control the Int32Array over WorkerInit.control, which the host bumps after each command
   * @param onStop the host asked to stop: does not return
   */
  constructor(
    private readonly control: Int32Array,
    private readonly commandPort: NodePort,
    initial: PausePolicy,
    private readonly onStop: () => never,
  ) {
    this.policy = initial;
  }

  resolvePolicy(p: PausePolicy = this.policy): void {
    this.policy = p;
    this.target = null;
    this.targetPassed = false;
    const compiled = this.script;
    if (p.kind !== 'line' || !compiled) return;
    const f = compiled.files.indexOf(p.file);
    if (f < 0) return;
    // the first step point at or after the line (run to cursor)
    const pts = compiled.points[f];
    let best = -1;
    for (let k = 0; k < pts.length; k++)
      if (pts[k].line >= p.line && (best < 0 || pts[k].start < pts[best].start)) best = k;
    if (best >= 0) this.target = { file: f, point: best };
  }

  private handleCommand(cmd: HostToWorker): void {
    if (cmd.type === 'stop') this.onStop();
    if (cmd.type === 'resume') this.resolvePolicy(cmd.pause);
  }

  /** Commands that came while running (a new policy, stop): read without blocking. */
  pollCommands(): void {
    for (let m = receiveMessageOnPort(this.commandPort); m; m = receiveMessageOnPort(this.commandPort))
      this.handleCommand(m.message as HostToWorker);
  }

  /** Blocks the worker until the host sends a command. */
  waitForCommand(): void {
    for (;;) {
      const seen = Atomics.load(this.control, 0);
      const m = receiveMessageOnPort(this.commandPort);
      if (m) {
        this.handleCommand(m.message as HostToWorker);
        return;
      }
      Atomics.wait(this.control, 0, seen);
    }
  }

  private isTarget(file: number, point: number): boolean {
    return (
      this.policy.kind === 'line' && this.target !== null && this.target.file === file && this.target.point === point
    );
  }

  /** A step point was reached only as model building (no step): a 'line' target passes to the next step. */
  passedAsModelBuilding(file: number, point: number): void {
    if (this.isTarget(file, point)) this.targetPassed = true;
  }

  /** Whether to pause at this step (a step, not model building). */
  shouldPause(file: number, point: number): boolean {
    if (this.policy.kind === 'next') return true;
    return this.targetPassed || this.isTarget(file, point);
  }
}

/**
 * A shorter path through tfjs 4.22's engine for what every kernel call and every gradient computation does
 * (issue 11: ~10,000 kernel calls a MobileNetV2 fit, a third of which are the engine's clones of the tensors a
 * gradient will need). Installed on the engine instance (own properties shadowing Engine.prototype's methods,
 * removed again by the undo), so tfjs's own code stays in place underneath:
 *
 * - runKernel: the registered-kernel path of Engine.runKernel + runKernelFunc with the same steps in the same
 *   order (kernel lookup and its error, kernelDepth around the kernel, outputs made into tracked tensors, the
 *   tensors the gradient needs saved, the tape node) without what costs on every call there: the kernel looked up
 *   twice by a string key built each time (here once, from a cache emptied on every registry change), four
 *   closures and an array map, scopedRun, numDataIds read for a leak check that only runs under the IS_TEST flag.
 *   With the DEBUG or IS_TEST flags on, or tf.profile running, tfjs's own path runs.
 * - gradients: tfjs's own algorithm (tape, forward in a tidy, the tape filtered to the nodes between the xs and y,
 *   backpropagation in reverse order, the saved tensors freed), with one fix: the filter's inner loop ran once
 *   per x (the trainable weights: ~160 in MobileNetV2) for every tape node input, though its test does not depend
 *   on the loop variable; here it runs once, on Sets. Same nodes, same order, same gradients.
 * - the tape keeps only what the gradient can use: while the outermost gradients() runs its forward, a kernel call
 *   none of whose inputs comes from the xs (a frozen backbone under a trainable head: most of a fine-tune's calls) is
 *   not recorded and saves no tensors. The filter drops exactly those nodes (its first pass: a node is "from x" when
 *   an input is an x or an output of such a node, in tape order, which is the order the calls run in), so the
 *   gradients are the same; the saved tensors and the tape nodes are what it saves. Before deciding, a call reads
 *   the tape nodes added since the last one (ours, and those of tfjs's own runKernelFunc: customGrad, tf.profile)
 *   and marks their outputs, so nothing is missed whoever adds a node (no wrapper to lose: a profiler that wraps
 *   and later deletes engine.addTapeNode did). Inside a nested gradients() (a gradient of a gradient) every call is
 *   recorded again until the outermost one ends, as in tfjs.
 * - no gradient nobody uses: tfjs's fused convolutions (customGrad ops) compute the gradients of all their inputs,
 *   though backpropagation only asks for those that come from the xs; the first layer's input (the data) does not.
 *   There its input gradient (the whole backward convolution: 4.7 ms of the small CNN's 122 ms step) is a zero fill
 *   instead; the value is never read (the pruned node has no such input), so the gradients are the same.
 * - a gradient known to be zero (kernels/knownZeros.ts: a BatchNormalization's moments path, which its
 *   normalisation's gradient carries) is not added to the tensor's gradient: x + 0 is x, one pass fewer; where its
 *   thunk says so and the tensor already has a gradient, the zeros are not even made (one x-sized fill fewer).
 *
 * Only on the engine of tfjs 4.22 whose methods look as expected (checked at install); elsewhere nothing is
 * installed. Works with any tfjs instance passed in (no tfjs import here).
 *
 * One unit (over 250 lines): the two replaced engine methods, the check that the engine is the one they were
 * written against and the undo share the engine's internal types and state, most of the file; the unused input
 * gradient is state the two methods share (backpropagation marks the call, runKernel answers it).
 */
import { isKnownZero, isKnownZeroThunk } from './kernels/knownZeros';

type TF = typeof import('@tensorflow/tfjs');
type Tensor = import('@tensorflow/tfjs').Tensor;

interface TensorInfo {
  dataId: object;
  shape: number[];
  dtype: string;
  rank?: number;
}
interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, Tensor>;
  outputs: Tensor[];
  saved: Tensor[];
  gradient?: (dys: Tensor[]) => Record<string, () => Tensor>;
  /** on the filtered tape: the inputs pruned (none of the xs leads to them), whose gradients are never asked for */
  unneeded?: Record<string, Tensor>;
}
interface EngineState {
  profiling: boolean;
  gradientDepth: number;
  kernelDepth: number;
  activeTape: TapeNode[] | null;
}
type KernelFunc = (args: { inputs: unknown; attrs: unknown; backend: unknown }) => TensorInfo | TensorInfo[];
/** the members of tfjs 4.22's Engine this module uses */
interface Engine {
  state: EngineState;
  backendName: string | null;
  readonly backend: unknown;
  ENV: { getBool(flag: string): boolean };
  runKernel(kernelName: string, inputs: unknown, attrs?: unknown): Tensor | Tensor[];
  runKernelFunc(params: { kernelName: string; inputs: unknown; attrs: unknown }): Tensor | Tensor[];
  makeTensorFromTensorInfo(info: TensorInfo): Tensor;
  getTensorsForGradient(kernelName: string, inputs: unknown, outputs: Tensor[]): Tensor[];
  saveTensorsForBackwardMode(tensors: Tensor[]): Tensor[];
  addTapeNode(
    kernelName: string,
    inputs: unknown,
    outputs: Tensor[],
    gradientsFunc: null,
    saved: Tensor[],
    attrs: unknown,
  ): void;
  gradients(f: () => Tensor, xs: Tensor[], dy?: Tensor, allowNoGradients?: boolean): { value: Tensor; grads: Tensor[] };
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  startTape(): void;
  endTape(): void;
  tidy<T>(nameOrFn: string | (() => T), fn?: () => T): T;
}

/** the engine methods replaced here, as tfjs 4.22 has them (checked before anything is installed) */
const NEEDED = [
  'runKernel',
  'runKernelFunc',
  'makeTensorFromTensorInfo',
  'getTensorsForGradient',
  'saveTensorsForBackwardMode',
  'addTapeNode',
  'gradients',
  'scopedRun',
  'startTape',
  'endTape',
  'tidy',
] as const;

/**
 * The tape nodes on a path from one of xs to y, their inputs pruned to those that come from xs: tfjs 4.22's
 * getFilteredNodesXToY (tape_util.ts), with its inner test run once instead of once per x.
 */
export function filterTapeXToY(tape: TapeNode[], xs: Tensor[], y: Tensor): TapeNode[] {
  // Sets, not tfjs's objects keyed by tensor id: ids run into the millions, where such objects turn into slow
  // dictionaries (~40 ms for an 8,000-node tape, measured)
  const tensorsFromX = new Set<number>();
  const nodesFromX = new Set<number>();
  for (const x of xs) tensorsFromX.add(x.id);
  for (const node of tape) {
    // xs.length > 0 always (gradients asserts it): the stock loop over xs runs its test at least once
    for (const inputName in node.inputs) {
      if (tensorsFromX.has(node.inputs[inputName].id)) {
        for (const output of node.outputs) tensorsFromX.add(output.id);
        nodesFromX.add(node.id);
        break;
      }
    }
  }
  const tensorsLeadToY = new Set<number>([y.id]);
  const nodesToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    for (const output of node.outputs) {
      if (tensorsLeadToY.has(output.id)) {
        for (const inputName in node.inputs) {
          tensorsLeadToY.add(node.inputs[inputName].id);
          nodesToY.add(node.id);
        }
        break;
      }
    }
  }
  const filtered: TapeNode[] = [];
  for (const node of tape) {
    if (!nodesFromX.has(node.id) || !nodesToY.has(node.id)) continue;
    const prunedInputs: Record<string, Tensor> = {};
    const unneeded: Record<string, Tensor> = {};
    for (const inputName in node.inputs) {
      const input = node.inputs[inputName];
      if (tensorsFromX.has(input.id)) prunedInputs[inputName] = input;
      else unneeded[inputName] = input;
    }
    filtered.push({ ...node, inputs: prunedInputs, unneeded, outputs: node.outputs });
  }
  return filtered;
}

/**
 * tfjs 4.22's customGrad ops whose gradient computes input 0's gradient by one call of this kernel (before any other
 * call of it), with attrs.inputShape that input's shape (ops/fused/conv2d.ts, depthwise_conv2d.ts: xDer first)
 */
const INPUT0_GRADIENT: Record<string, string> = {
  fusedConv2d__op: 'Conv2DBackpropInput',
  fusedDepthwiseConv2d__op: 'DepthwiseConv2dNativeBackpropInput',
};

/** the kernel call that computes a gradient nobody uses, while a tape node's gradient runs (null: none) */
interface UnusedGradient {
  kernelName: string | null;
  shape: number[];
}

/**
 * tfjs 4.22's backpropagateGradients (tape_util.ts), with the gradient of a fused convolution's pruned input 0 marked
 * unused while its node's gradient runs (the outermost gradients() only), and a gradient known to be zero
 * (kernels/knownZeros.ts) not added: x + 0 is x
 */
function backpropagate(
  tf: TF,
  accumulated: Record<number, Tensor>,
  tape: TapeNode[],
  tidy: (f: () => Tensor) => Tensor,
  unused: UnusedGradient | null,
): void {
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    const dys = node.outputs.map((o) => accumulated[o.id] ?? null) as Tensor[];
    if (node.gradient == null)
      throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
    const input0 = node.unneeded?.['0'];
    const skip = unused !== null && input0 !== undefined ? INPUT0_GRADIENT[node.kernelName] : undefined;
    if (skip !== undefined) {
      unused!.kernelName = skip;
      unused!.shape = input0!.shape;
    }
    let inputGradients: Record<string, () => Tensor>;
    try {
      inputGradients = node.gradient(dys);
    } finally {
      if (unused !== null) unused.kernelName = null;
    }
    for (const inputName in node.inputs) {
      if (!(inputName in inputGradients))
        throw new Error(
          `Cannot backprop through input ${inputName}. Available gradients found: ${Object.keys(inputGradients)}.`,
        );
      const x = node.inputs[inputName];
      // a known zero added to a gradient already there: not even made (kernels/knownZeros.ts)
      if (isKnownZeroThunk(inputGradients[inputName]) && accumulated[x.id] != null) continue;
      const dx = tidy(() => inputGradients[inputName]());
      if (dx.dtype !== 'float32')
        throw new Error(
          `Error in gradient for op ${node.kernelName}. The gradient of input ${inputName} must have 'float32' dtype, but has '${dx.dtype}'`,
        );
      if (!tf.util.arraysEqual(dx.shape, x.shape))
        throw new Error(
          `Error in gradient for op ${node.kernelName}. The gradient of input '${inputName}' has shape '${dx.shape}', which does not match the shape of the input '${x.shape}'`,
        );
      const current = accumulated[x.id];
      if (current == null) accumulated[x.id] = dx;
      else if (isKnownZero(dx)) dx.dispose();
      else if (isKnownZero(current)) {
        accumulated[x.id] = dx;
        current.dispose();
      } else {
        accumulated[x.id] = tf.add(current, dx);
        current.dispose();
      }
    }
  }
}

type KernelConfig = NonNullable<ReturnType<TF['getKernel']>>;

/**
 * tf.getKernel(name, backendName) without its string key built on every call: a per-backend Map of the kernels
 * looked up, emptied whenever tfjs's (global) kernel registry changes. The registry Map's own set, delete and clear
 * are wrapped to count the changes (registerKernel and unregisterKernel go through them); `undo` unwraps them.
 * Without the registry where tfjs 4.22 keeps it, every call goes to tf.getKernel.
 */
export function kernelLookup(tf: TF): {
  get(kernelName: string, backendName: string): KernelConfig | undefined;
  undo(): void;
} {
  const globals = (globalThis as { _tfGlobals?: unknown })._tfGlobals;
  const registry = globals instanceof Map ? globals.get('kernelRegistry') : undefined;
  if (!(registry instanceof Map) || Object.getOwnPropertyNames(registry).length > 0)
    return { get: (k, b) => tf.getKernel(k, b), undo: () => {} };
  let changes = 0;
  for (const m of ['set', 'delete', 'clear'] as const) {
    const orig = Map.prototype[m] as (...a: unknown[]) => unknown;
    Object.defineProperty(registry, m, {
      value: function (this: Map<string, unknown>, ...a: unknown[]) {
        changes++;
        return orig.apply(this, a);
      },
      configurable: true,
      writable: true,
    });
  }
  let seen = -1;
  let backend: string | null = null;
  const cache = new Map<string, KernelConfig | undefined>();
  return {
    get(kernelName, backendName) {
      if (seen !== changes || backend !== backendName) {
        cache.clear();
        seen = changes;
        backend = backendName;
      }
      let k = cache.get(kernelName);
      if (k === undefined && !cache.has(kernelName)) {
        k = tf.getKernel(kernelName, backendName);
        cache.set(kernelName, k);
      }
      return k;
    },
    undo() {
      for (const m of ['set', 'delete', 'clear']) delete (registry as unknown as Record<string, unknown>)[m];
    },
  };
}

/**
 * The tensors (ids) that come from the xs of the outermost gradients() while its forward runs; null when every
 * call is recorded (no gradients running, a nested one). `seen`: the tape nodes whose outputs are marked so far.
 */
interface FromX {
  ids: Set<number> | null;
  seen: number;
}

/**
 * One of `inputs` (a kernel's named tensors) comes from the xs. An absent optional input (undefined, null) is none;
 * anything else without a numeric id counts as one (recorded, as tfjs would).
 */
export function usesX(fromX: Set<number>, inputs: unknown): boolean {
  if (typeof inputs !== 'object' || inputs === null) return false;
  const named = inputs as Record<string, { id?: unknown } | null | undefined>;
  for (const k in named) {
    const input = named[k];
    if (input == null) continue;
    const id = input.id;
    if (typeof id !== 'number' || fromX.has(id)) return true;
  }
  return false;
}

/** marks the outputs of the tape nodes added since the last look whose inputs come from the xs */
function catchUp(fromX: FromX, ids: Set<number>, tape: TapeNode[] | null): void {
  if (!tape) return;
  for (let i = fromX.seen; i < tape.length; i++) {
    const node = tape[i];
    if (usesX(ids, node.inputs)) for (const o of node.outputs) ids.add(o.id);
  }
  fromX.seen = tape.length;
}

const sameShape = (a: unknown, b: number[]): boolean =>
  Array.isArray(a) && a.length === b.length && a.every((d, i) => d === b[i]);

function fastRunKernel(
  engine: Engine,
  stockRunKernel: Engine['runKernel'],
  getKernel: (kernelName: string, backendName: string) => KernelConfig | undefined,
  fromX: FromX,
  unused: UnusedGradient,
): Engine['runKernel'] {
  return function runKernel(this: Engine, kernelName: string, inputs: unknown, attrs?: unknown) {
    if (this !== engine) return stockRunKernel.call(this, kernelName, inputs, attrs);
    const state = this.state;
    if (state.profiling || this.ENV.getBool('DEBUG') || this.ENV.getBool('IS_TEST'))
      return stockRunKernel.call(this, kernelName, inputs, attrs);
    if (this.backendName == null) void this.backend; // the getter picks and initialises the backend
    let kernel = getKernel(kernelName, this.backendName!);
    if (kernel == null) throw new Error(`Kernel '${kernelName}' not registered for backend '${this.backendName}'`);
    if (unused.kernelName === kernelName) {
      // the gradient nobody uses (backpropagate): zeros of its shape instead, once
      unused.kernelName = null;
      const fill = getKernel('Fill', this.backendName!);
      if (fill != null && sameShape((attrs as { inputShape?: unknown } | undefined)?.inputShape, unused.shape)) {
        kernel = fill;
        inputs = {};
        attrs = { shape: unused.shape, value: 0, dtype: 'float32' };
      }
    }
    // recorded: the tape is on and (while the outermost gradients' forward runs) an input comes from its xs
    let isTapeOn = state.gradientDepth > 0 && state.kernelDepth === 0;
    const ids = fromX.ids;
    if (isTapeOn && ids !== null) {
      if (state.activeTape !== null && state.activeTape.length !== fromX.seen) catchUp(fromX, ids, state.activeTape);
      isTapeOn = usesX(ids, inputs);
    }
    let saved: Tensor[] = [];
    let out: TensorInfo | TensorInfo[];
    let outputs: Tensor[];
    state.kernelDepth++;
    try {
      out = (kernel.kernelFunc as unknown as KernelFunc)({ inputs, attrs, backend: this.backend });
      const infos = Array.isArray(out) ? out : [out];
      outputs = new Array<Tensor>(infos.length);
      for (let i = 0; i < infos.length; i++) {
        const info = infos[i];
        outputs[i] = info.rank != null ? (info as unknown as Tensor) : this.makeTensorFromTensorInfo(info);
      }
      if (isTapeOn) saved = this.saveTensorsForBackwardMode(this.getTensorsForGradient(kernelName, inputs, outputs));
    } finally {
      state.kernelDepth--;
    }
    if (isTapeOn) this.addTapeNode(kernelName, inputs, outputs, null, saved, attrs);
    return Array.isArray(out) ? outputs : outputs[0];
  };
}

function fastGradients(
  engine: Engine,
  stockGradients: Engine['gradients'],
  tf: TF,
  fromX: FromX,
  unused: UnusedGradient,
): Engine['gradients'] {
  return function gradients(this: Engine, f, xs, dy, allowNoGradients = false) {
    if (this !== engine) return stockGradients.call(this, f, xs, dy, allowNoGradients);
    tf.util.assert(xs.length > 0, () => 'gradients() received an empty list of xs.');
    if (dy != null && dy.dtype !== 'float32') throw new Error(`dy must have 'float32' dtype, but has '${dy.dtype}'`);
    const outermost = this.state.gradientDepth === 0;
    // the outermost: record only what comes from xs; nested: every call from here to the outermost's end
    fromX.ids = outermost ? new Set(xs.map((x) => x.id)) : null;
    fromX.seen = 0;
    let y: Tensor;
    try {
      y = this.scopedRun(
        () => this.startTape(),
        () => this.endTape(),
        () => this.tidy('forward', f),
      );
    } finally {
      if (outermost) fromX.ids = null;
    }
    tf.util.assert(y instanceof tf.Tensor, () => 'The result y returned by f() must be a tensor.');
    const filteredTape = filterTapeXToY(this.state.activeTape!, xs, y);
    if (!allowNoGradients && filteredTape.length === 0 && xs.length > 0)
      throw new Error(
        'Cannot compute gradient of y=f(x) with respect to x. Make sure that the f you passed encloses all operations that lead from x to y.',
      );
    return this.tidy('backward', () => {
      const accumulated: Record<number, Tensor> = {};
      accumulated[y.id] = dy == null ? tf.ones(y.shape) : dy;
      // nested (a gradient of a gradient): every gradient computed, as in tfjs, since the tape may be recording
      backpropagate(tf, accumulated, filteredTape, (g) => this.tidy(g), outermost ? unused : null);
      const grads = xs.map((x) => accumulated[x.id]);
      if (this.state.gradientDepth === 0) {
        for (const node of this.state.activeTape!) for (const t of node.saved) t.dispose();
        this.state.activeTape = null;
      }
      return { value: y, grads };
    }) as { value: Tensor; grads: Tensor[] };
  };
}

/** marks the engine this module is installed on */
const INSTALLED = Symbol.for('bn-inspector.engineFastPath');

/**
 * Installs the shorter runKernel and gradients on tf.engine(); returns the undo, or null when the engine is not the
 * tfjs 4.22 one this was written from (nothing installed) or already has them.
 */
export function installEngineFastPath(tf: TF): (() => void) | null {
  const engine = tf.engine() as unknown as Engine & Record<symbol, unknown>;
  if (engine[INSTALLED]) return null;
  const version = (tf.version as Record<string, string>)['tfjs-core'] ?? tf.version_core;
  if (version !== '4.22.0') return null;
  for (const m of NEEDED) if (typeof (engine as unknown as Record<string, unknown>)[m] !== 'function') return null;
  if (!engine.state || typeof engine.state.kernelDepth !== 'number' || typeof engine.state.gradientDepth !== 'number')
    return null;
  const own = (name: string) => Object.prototype.hasOwnProperty.call(engine, name);
  if (own('runKernel') || own('gradients')) return null; // someone else's patch: leave it
  const lookup = kernelLookup(tf);
  const fromX: FromX = { ids: null, seen: 0 };
  const unused: UnusedGradient = { kernelName: null, shape: [] };
  engine.runKernel = fastRunKernel(engine, engine.runKernel, lookup.get, fromX, unused);
  engine.gradients = fastGradients(engine, engine.gradients, tf, fromX, unused);
  engine[INSTALLED] = true;
  return () => {
    lookup.undo();
    delete (engine as unknown as Record<string, unknown>).runKernel;
    delete (engine as unknown as Record<string, unknown>).gradients;
    delete engine[INSTALLED];
  };
}

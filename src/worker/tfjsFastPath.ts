/**
 * Cheaper versions of tfjs 4.22 work that runs around the kernels of a training step (issue 11: a third of a
 * MobileNetV2 fit was outside kernels), each giving the same values, bit for bit, as the code it replaces:
 *
 * - the gradients of Mean and Sum: tfjs builds `ones(x.shape)` in JavaScript (a fill of x's size, then a copy to
 *   the wasm heap) only to multiply the broadcast dy by 1, and Mean then divides the whole x-sized product by the
 *   reduced size. Here: dy (÷ size for Mean, on the small tensor) broadcast to x's shape by one Tile. dy·1 = dy and
 *   (dy·1)/n = dy/n element for element, so the values are the same. Every training-mode BatchNormalization
 *   runs two Means (tf.moments), so this was ~10 % of a MobileNetV2 fit (CPU profile).
 * - Cast to the dtype the tensor already has (tf.moments casts x to float32, the Relu, Relu6 and Square gradients
 *   cast float32 masks and inputs to float32): the stock wasm kernel copies the data; here the output shares it,
 *   as tfjs's cpu backend does and as the wasm backend's own Reshape does (backend.incRef; the data is freed with
 *   the last tensor using it). tf.memory().numTensors and numBytes count it as the stock kernel does.
 * - tfjs-layers' ReLU with a maxValue (ReLU6): one kernel call forward and one backward instead of two each
 *   (kernels/relu6Fused.ts), where the engine's kernels would have run both.
 * - GatherV2 along the first axis (what model.fit does to cut each batch out of x and y): the stock wasm kernel
 *   runs an index computation per element (~9 ms for an 8×96×96×3 batch, 7 % of the frozen MobileNetV2 fit);
 *   here one block copy per index on the heap. Other axes, batch dims and dtypes: the stock kernel.
 *
 * Only while the wasm backend is active (the gradients) / registered for wasm only (the kernels): tfjs's cpu backend, the
 * tests' stock reference, keeps its own code. The gradient and kernel registries are global to the process:
 * installTfjsFastPath is idempotent, uninstallTfjsFastPath puts tfjs's own back (tests, benchmarks).
 * Works with any tfjs instance passed in (no tfjs import here).
 */
import { registerGradientQuietly } from './kernels/registerGradientQuietly';
import { installRelu6Layer } from './kernels/relu6Fused';

type TF = typeof import('@tensorflow/tfjs');
type Tensor = import('@tensorflow/tfjs').Tensor;
type GradConfig = NonNullable<ReturnType<TF['getGradient']>>;
type KernelConfig = NonNullable<ReturnType<TF['getKernel']>>;
type Thunks = Record<string, () => Tensor>;

/** marks our gradient configs and kernel functions */
const OURS = Symbol.for('bn-inspector.fastPath');

const isOurs = (o: unknown): boolean => !!o && (o as Record<symbol, unknown>)[OURS] === true;
const markOurs = <T extends object>(o: T): T => {
  (o as Record<symbol, unknown>)[OURS] = true;
  return o;
};

/** stock configs replaced by installTfjsFastPath, to put back */
const stockGradients = new Map<string, GradConfig>();
const stockKernels = new Map<string, KernelConfig>();

/** the reduced axes of a reduction's `axis` attribute (null / undefined: all), as tfjs's parseAxisParam */
export function reductionAxes(axis: unknown, rank: number): number[] {
  const list = axis == null ? [...Array(rank).keys()] : Array.isArray(axis) ? (axis as number[]) : [axis as number];
  return list.map((a) => {
    if (!Number.isInteger(a) || a < -rank || a >= rank)
      throw new Error(`reduction axis ${a} is out of range for rank ${rank}`);
    return a < 0 ? a + rank : a;
  });
}

/**
 * The gradient of Mean (isMean) or Sum: dy reshaped to x's rank with 1 on the reduced axes, divided by the reduced
 * size for Mean, broadcast to x's shape. tfjs's own where dy is not float32 or the backend is not wasm.
 */
export function fastReduceGradient(tf: TF, stock: GradConfig, isMean: boolean): GradConfig {
  const gradFunc = (dy: Tensor | Tensor[], saved: Tensor[], attrs: Record<string, unknown>): Thunks => {
    if (Array.isArray(dy) || dy.dtype !== 'float32' || tf.getBackend() !== 'wasm')
      return stock.gradFunc(dy, saved, attrs as never) as Thunks;
    const [x] = saved;
    const axes = reductionAxes(attrs.axis, x.shape.length);
    const expanded = x.shape.slice();
    let reduceSize = 1;
    for (const a of axes) {
      reduceSize *= x.shape[a];
      expanded[a] = 1;
    }
    return {
      x: () => {
        const d = tf.reshape(dy, expanded);
        return tf.broadcastTo(isMean ? tf.div(d, reduceSize) : d, x.shape);
      },
    };
  };
  return markOurs({ ...stock, gradFunc } as GradConfig);
}

type CastArgs = {
  inputs: { x: { dataId: object; shape: number[]; dtype: string } };
  attrs: { dtype: string };
  backend: { incRef(dataId: object): void };
};

/** Cast on wasm: to the same dtype, the output shares x's data; anything else goes to the stock kernel. */
export function fastCast(stock: KernelConfig['kernelFunc']): KernelConfig['kernelFunc'] {
  const run = stock as unknown as (a: CastArgs) => unknown;
  const f = (args: CastArgs) => {
    const { x } = args.inputs;
    const dtype = args.attrs.dtype;
    if (x.dtype !== dtype || dtype === 'string' || dtype === 'complex64') return run(args);
    args.backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape.slice(), dtype };
  };
  return markOurs(f) as unknown as KernelConfig['kernelFunc'];
}

interface HeapBackend {
  readSync(dataId: object): ArrayLike<number>;
  makeOutput(shape: number[], dtype: string): { dataId: object; shape: number[]; dtype: string };
  typedArrayFromHeap(t: { dataId: object; shape: number[]; dtype: string }): Float32Array | Int32Array;
}
type GatherArgs = {
  inputs: {
    x: { dataId: object; shape: number[]; dtype: string };
    indices: { dataId: object; shape: number[]; dtype: string };
  };
  attrs: { axis: number; batchDims: number };
  backend: HeapBackend;
};

/** GatherV2 on wasm along axis 0 (no batch dims, float32 / int32): a block copy per index; else the stock kernel */
export function fastGather(tf: TF, stock: KernelConfig['kernelFunc']): KernelConfig['kernelFunc'] {
  const run = stock as unknown as (a: GatherArgs) => unknown;
  const f = (args: GatherArgs) => {
    const { x, indices } = args.inputs;
    const { axis, batchDims } = args.attrs;
    const rank = x.shape.length;
    if ((batchDims ?? 0) !== 0 || rank === 0 || (axis !== 0 && axis !== -rank)) return run(args);
    if ((x.dtype !== 'float32' && x.dtype !== 'int32') || indices.shape.length !== 1) return run(args);
    const backend = args.backend;
    const idx = backend.readSync(indices.dataId);
    const dim = x.shape[0];
    for (let i = 0; i < idx.length; i++) {
      const index = idx[i];
      tf.util.assert(
        index <= dim - 1 && index >= 0,
        () => `GatherV2: the index value ${index} is not in [0, ${dim - 1}]`,
      );
    }
    const slice = tf.util.sizeFromShape(x.shape.slice(1));
    const out = backend.makeOutput([idx.length, ...x.shape.slice(1)], x.dtype);
    if (slice === 0 || idx.length === 0) return out;
    const xs = backend.typedArrayFromHeap(x);
    const os = backend.typedArrayFromHeap(out); // views of the same heap: made after makeOutput (which may grow it)
    for (let i = 0; i < idx.length; i++) os.set(xs.subarray(idx[i] * slice, (idx[i] + 1) * slice), i * slice);
    return out;
  };
  return markOurs(f) as unknown as KernelConfig['kernelFunc'];
}

/**
 * Installs the fast paths above in tfjs's (global) registries; returns what it installed ('gradient:Mean',
 * 'gradient:Sum', 'wasm/Cast', 'wasm/GatherV2', 'layers/ReLU' once the engine's kernels are registered); a second
 * call installs nothing.
 */
export function installTfjsFastPath(tf: TF): string[] {
  const done: string[] = [];
  for (const [name, isMean] of [
    ['Mean', true],
    ['Sum', false],
  ] as const) {
    const stock = tf.getGradient(name);
    if (!stock || isOurs(stock)) continue;
    stockGradients.set(name, stock);
    registerGradientQuietly(tf, fastReduceGradient(tf, stock, isMean));
    done.push(`gradient:${name}`);
  }
  for (const [name, make] of [
    ['Cast', (k: KernelConfig) => fastCast(k.kernelFunc)],
    ['GatherV2', (k: KernelConfig) => fastGather(tf, k.kernelFunc)],
  ] as const) {
    const stock = tf.getKernel(name, 'wasm');
    if (!stock || isOurs(stock.kernelFunc)) continue;
    stockKernels.set(name, stock);
    tf.unregisterKernel(name, 'wasm'); // no "already registered" warning
    tf.registerKernel({ ...stock, kernelFunc: make(stock) });
    done.push(`wasm/${name}`);
  }
  // BN_INSPECTOR_FUSED_RELU6=0: tfjs's own ReLU.call (A/B measurements)
  if (!undoRelu6 && process.env.BN_INSPECTOR_FUSED_RELU6 !== '0') {
    undoRelu6 = installRelu6Layer(tf);
    if (undoRelu6) done.push('layers/ReLU');
  }
  return done;
}

/** the undo of the ReLU layer's patch while installed */
let undoRelu6: (() => void) | null = null;

/** Puts tfjs's own gradients and kernels back. */
export function uninstallTfjsFastPath(tf: TF): void {
  undoRelu6?.();
  undoRelu6 = null;
  for (const config of stockGradients.values()) registerGradientQuietly(tf, config);
  stockGradients.clear();
  for (const [name, config] of stockKernels) {
    if (tf.getKernel(name, 'wasm')) tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(config);
  }
  stockKernels.clear();
}

/**
 * The gradients of Sum and Mean without a tensor of ones, on the wasm backend. tfjs-core 4.22 spreads dy over the
 * reduced axes as `mul(reshape(dy, kept), ones(x.shape))` (Mean: then `/ n`): the ones are filled element by
 * element in JavaScript and copied into the heap, every call, at x's full size. Every BatchNormalization in
 * training reduces its input twice (tf.moments: the mean, and the mean of the squared difference), so a MobileNetV2
 * step filled ~100 such tensors (a CPU profile put `makeOnesTypedArray` at ~5 % of the fit). Here the same values
 * come from a broadcast of dy (`broadcastTo`: the wasm Tile kernel, wasmFast.ts), then the same division: x·1 is x,
 * so the results are identical, bit for bit, to tfjs's. Only while wasm is the active backend and dy is float32;
 * elsewhere tfjs's own gradient runs. Registered by registerMissingKernels, undone by unregisterMissingKernels.
 */
type TF = typeof import('@tensorflow/tfjs');
type Tensor = import('@tensorflow/tfjs').Tensor;
type GradConfig = NonNullable<ReturnType<TF['getGradient']>>;

const OURS = Symbol.for('bn-inspector.gradient');
export const REDUCE_GRADIENTS = ['Sum', 'Mean'] as const;
type Reduce = (typeof REDUCE_GRADIENTS)[number];

/** the stock configs while ours are registered */
const stockConfigs = new Map<Reduce, GradConfig>();

export function fastReduceGradient(tf: TF, kernel: Reduce, stock: GradConfig): GradConfig {
  const gradFunc = (dy: Tensor | Tensor[], saved: Tensor[], attrs: Record<string, unknown>) => {
    if (tf.getBackend() !== 'wasm' || Array.isArray(dy) || dy.dtype !== 'float32')
      return stock.gradFunc(dy, saved, attrs as never);
    const [x] = saved;
    const axes = tf.util.parseAxisParam(attrs.axis as number | number[], x.shape);
    const kept = x.shape.slice();
    for (const a of axes) kept[a] = 1;
    if (kernel === 'Sum') {
      // as tfjs: computed now, handed out by the thunk
      const derX = tf.broadcastTo(tf.reshape(dy, kept), x.shape);
      return { x: () => derX };
    }
    const n = axes.reduce((p, a) => p * x.shape[a], 1);
    return { x: () => tf.div(tf.broadcastTo(tf.reshape(dy, kept), x.shape), n) };
  };
  const config = { ...stock, gradFunc } as GradConfig;
  (config as unknown as Record<symbol, boolean>)[OURS] = true;
  return config;
}

/** tfjs warns when a gradient is replaced: these are replaced on purpose */
function quietly(f: () => void): void {
  const warn = console.warn;
  console.warn = () => {};
  try {
    f();
  } finally {
    console.warn = warn;
  }
}

/** registers ours in place of tfjs's Sum and Mean gradients; the names replaced */
export function registerReduceGradients(tf: TF): string[] {
  const done: string[] = [];
  for (const k of REDUCE_GRADIENTS) {
    const stock = tf.getGradient(k);
    if (!stock || (stock as unknown as Record<symbol, boolean>)[OURS]) continue;
    stockConfigs.set(k, stock);
    quietly(() => tf.registerGradient(fastReduceGradient(tf, k, stock)));
    done.push(k);
  }
  return done;
}

/** puts tfjs's own gradients back */
export function unregisterReduceGradients(tf: TF): void {
  for (const [, config] of stockConfigs) quietly(() => tf.registerGradient(config));
  stockConfigs.clear();
}

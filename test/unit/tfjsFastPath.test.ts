/**
 * The engine's shorter tfjs paths (src/worker/tfjsFastPath.ts: Mean/Sum gradients, same-dtype Cast;
 * src/worker/tfjsEngineFastPath.ts: runKernel, gradients) give the same values as tfjs's own, bit for bit:
 * the Mean/Sum gradients against a float64 reference and against stock; whole-model gradients (MobileNetV2 blocks,
 * dense + BN) with and without them, on wasm with the engine's kernels and on cpu; tf.memory() as stock, no leak;
 * tfjs's errors, tf.profile, higher-order gradients and customGrad unchanged; install and undo.
 */
import * as assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerMissingKernels, unregisterMissingKernels } from '../../src/worker/kernels/registerKernels';
import { installTfjsFastPath, reductionAxes, uninstallTfjsFastPath } from '../../src/worker/tfjsFastPath';
import { filterTapeXToY, installEngineFastPath, usesX } from '../../src/worker/tfjsEngineFastPath';
import { shipWasm } from './shippedWasm';

shipWasm(tf);

let undoEngine: (() => void) | null = null;
/** what the last fast(true) installed (installTfjsFastPath) */
let installed: string[] = [];
function fast(on: boolean): void {
  undoEngine?.();
  undoEngine = null;
  uninstallTfjsFastPath(tf);
  installed = [];
  if (on) {
    installed = installTfjsFastPath(tf);
    undoEngine = installEngineFastPath(tf);
    assert.ok(undoEngine, 'the engine fast path installs on tfjs 4.22');
  }
}
async function useBackend(name: string): Promise<void> {
  assert.ok(await tf.setBackend(name));
  await tf.ready();
  const cpu = tf.engine().findBackend('cpu') as unknown as { firstUse?: boolean } | null;
  if (cpu && cpu.firstUse) cpu.firstUse = false; // the "install tfjs-node" banner
}
const bitsEqual = (a: ArrayLike<number>, b: ArrayLike<number>, what: string) => {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++)
    if (!Object.is(a[i], b[i])) assert.fail(`${what}: element ${i}: ${a[i]} vs ${b[i]}`);
};
const sineData = (n: number, k = 0.37, phase = 0) =>
  Float32Array.from({ length: n }, (_, i) => Math.sin(i * k + phase));

/** deterministic weights for a model: gamma and moving variance near 1, the others small */
function setSineWeights(model: tf.LayersModel): void {
  model.setWeights(
    model.weights.map((w, k) =>
      tf.tensor(
        sineData(
          w.shape.reduce((a, b) => a! * b!, 1)!,
          0.71,
          k,
        ).map((v) => (/gamma|variance/.test(w.name) ? 1 + 0.2 * v : 0.3 * v)),
        w.shape as number[],
      ),
    ),
  );
}

describe('tfjs fast paths (src/worker/tfjsFastPath.ts, tfjsEngineFastPath.ts)', function () {
  this.timeout(600000);
  let backend0 = 'wasm';
  before(() => {
    backend0 = tf.getBackend() ?? 'wasm';
  });
  after(async () => {
    fast(false);
    unregisterMissingKernels(tf);
    await useBackend(backend0);
  });

  describe('Mean / Sum gradients', () => {
    const cases: Array<{ shape: number[]; axis: number | number[] | null; keepDims: boolean }> = [
      { shape: [4, 5, 6, 8], axis: [0, 1, 2], keepDims: false }, // BN moments, NHWC
      { shape: [4, 5, 6, 8], axis: [0, 1, 2], keepDims: true },
      { shape: [3, 7], axis: 0, keepDims: false },
      { shape: [3, 7], axis: -1, keepDims: true },
      { shape: [2, 3, 4], axis: [1], keepDims: false },
      { shape: [2, 3, 4], axis: [-3, 2], keepDims: false },
      { shape: [2, 3, 4], axis: null, keepDims: false },
      { shape: [5], axis: 0, keepDims: false },
    ];
    /** d/dx of Σ w·reduce(x): the float64 reference is w at x's reduced position (÷ n for mean), in float32 */
    function reference(shape: number[], axes: number[], w: Float32Array, isMean: boolean): Float32Array {
      const size = shape.reduce((a, b) => a * b, 1);
      const n = axes.reduce((a, ax) => a * shape[ax], 1);
      const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
      const out = new Float32Array(size);
      const idx = new Array(shape.length).fill(0);
      for (let i = 0; i < size; i++) {
        let j = 0;
        for (let d = 0; d < shape.length; d++) j = j * outShape[d] + (axes.includes(d) ? 0 : idx[d]);
        out[i] = isMean ? Math.fround(w[j] / n) : w[j];
        for (let d = shape.length - 1; d >= 0 && ++idx[d] === shape[d]; d--) idx[d] = 0;
      }
      return out;
    }
    for (const backend of ['wasm', 'cpu']) {
      for (const isMean of [true, false]) {
        it(`${isMean ? 'Mean' : 'Sum'} on ${backend}: the float64 reference and tfjs's own gradient, bit for bit`, async () => {
          await useBackend(backend);
          registerMissingKernels(tf);
          for (const c of cases) {
            const x = tf.tensor(sineData(c.shape.reduce((a, b) => a * b, 1)), c.shape);
            const reduce = (t: tf.Tensor) =>
              isMean ? tf.mean(t, c.axis ?? undefined, c.keepDims) : tf.sum(t, c.axis ?? undefined, c.keepDims);
            const outShape = tf.tidy(() => reduce(x).shape);
            const w = tf.tensor(
              sineData(
                outShape.reduce((a, b) => a * b, 1),
                1.3,
                0.5,
              ),
              outShape,
            );
            const gradOf = () => {
              const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(reduce(t), w)))(x);
              const v = g.dataSync().slice();
              g.dispose();
              return v;
            };
            fast(false);
            const stock = gradOf();
            fast(true);
            const before = tf.memory().numTensors;
            const ours = gradOf();
            assert.equal(tf.memory().numTensors, before, 'no tensor leak');
            const what = `${isMean ? 'mean' : 'sum'} ${JSON.stringify(c)} on ${backend}`;
            bitsEqual(ours, stock, `${what}: ours vs tfjs's`);
            const axes = reductionAxes(c.axis, c.shape.length);
            bitsEqual(ours, reference(c.shape, axes, w.dataSync() as Float32Array, isMean), `${what}: vs reference`);
            tf.dispose([x, w]);
          }
          fast(false);
        });
      }
    }
    it('reductionAxes: null = all, negative axes, out of range is an error', () => {
      assert.deepEqual(reductionAxes(null, 3), [0, 1, 2]);
      assert.deepEqual(reductionAxes(-1, 3), [2]);
      assert.deepEqual(reductionAxes([0, -2], 4), [0, 2]);
      assert.throws(() => reductionAxes(3, 3), /out of range/);
    });
  });

  describe('Cast to the same dtype on wasm', () => {
    it('shares the data, keeps it alive past its source, counts in tf.memory() as the stock kernel', async () => {
      await useBackend('wasm');
      const v = sineData(24);
      const measure = () => {
        const x = tf.tensor(v, [4, 6]);
        const m0 = tf.memory();
        const y = tf.cast(x, 'float32');
        const m1 = tf.memory();
        x.dispose();
        const values = y.dataSync().slice();
        const m2 = tf.memory();
        y.dispose();
        const m3 = tf.memory();
        return {
          values,
          tensors: [m1.numTensors - m0.numTensors, m2.numTensors - m0.numTensors, m3.numTensors - m0.numTensors],
          bytes: [m1.numBytes - m0.numBytes, m2.numBytes - m0.numBytes, m3.numBytes - m0.numBytes],
        };
      };
      fast(false);
      const stock = measure();
      fast(true);
      const ours = measure();
      bitsEqual(ours.values, v, 'values after the source is disposed');
      assert.deepEqual(ours.tensors, stock.tensors, 'numTensors');
      assert.deepEqual(ours.bytes, stock.bytes, 'numBytes');
      // the output is the same buffer: (same dataId), still readable after the source is gone
      const x = tf.tensor(v, [4, 6]);
      const y = tf.cast(x, 'float32');
      assert.equal(y.dataId, x.dataId, 'the same data');
      tf.dispose([x, y]);
      fast(false);
    });
    it('other casts, int32 and bool, unchanged (values as the stock kernel)', async () => {
      await useBackend('wasm');
      const run = () =>
        tf.tidy(() => {
          const f = tf.tensor([-2.7, -0.5, 0, 0.5, 1.9, 3]);
          const i = tf.tensor([-2, 0, 5], [3], 'int32');
          const b = tf.tensor([1, 0, 1], [3], 'bool');
          return [
            tf.cast(f, 'int32'),
            tf.cast(f, 'bool'),
            tf.cast(i, 'float32'),
            tf.cast(i, 'int32'),
            tf.cast(b, 'float32'),
            tf.cast(b, 'bool'),
          ].map((t) => ({ dtype: t.dtype, v: Array.from(t.dataSync()) }));
        });
      fast(false);
      const stock = run();
      fast(true);
      const ours = run();
      assert.deepEqual(ours, stock);
      fast(false);
    });
  });

  describe('GatherV2 on wasm (the batches model.fit cuts)', () => {
    it('axis 0: the rows at the indices, as a plain-JS reference and the stock kernel; other cases unchanged', async () => {
      await useBackend('wasm');
      const cases: Array<{
        shape: number[];
        dtype: 'float32' | 'int32';
        idx: number[];
        axis?: number;
        batchDims?: number;
      }> = [
        { shape: [8, 6, 5, 3], dtype: 'float32', idx: [0, 1, 2, 3, 4, 5, 6, 7] },
        { shape: [8, 6, 5, 3], dtype: 'float32', idx: [7, 2, 2, 0] },
        { shape: [5, 4], dtype: 'int32', idx: [4, 0, 3] },
        { shape: [5], dtype: 'float32', idx: [1, 1, 4] },
        { shape: [5, 4], dtype: 'float32', idx: [] },
        { shape: [5, 4], dtype: 'float32', idx: [3, 1], axis: 1 }, // stock
        { shape: [5, 4], dtype: 'float32', idx: [2, 0], axis: -2 },
        { shape: [2, 4, 3], dtype: 'float32', idx: [1, 0, 2, 3, 3, 1], axis: 1, batchDims: 1 }, // stock
      ];
      const run = () =>
        cases.map((c) =>
          tf.tidy(() => {
            const n = c.shape.reduce((a, b) => a * b, 1);
            const x = tf.tensor(
              sineData(n).map((v, i) => (c.dtype === 'int32' ? i * 3 - 7 : v)),
              c.shape,
              c.dtype,
            );
            const indices = c.batchDims ? tf.tensor2d(c.idx, [2, 3], 'int32') : tf.tensor1d(c.idx, 'int32');
            const g = tf.gather(x, indices, c.axis ?? 0, c.batchDims ?? 0);
            return { shape: g.shape, dtype: g.dtype, v: Array.from(g.dataSync()), x: Array.from(x.dataSync()) };
          }),
        );
      fast(false);
      const stock = run();
      fast(true);
      const before = tf.memory().numTensors;
      const ours = run();
      assert.equal(tf.memory().numTensors, before, 'no tensor leak');
      ours.forEach((o, k) => {
        assert.deepEqual(o.shape, stock[k].shape, `case ${k}: shape`);
        assert.equal(o.dtype, stock[k].dtype, `case ${k}: dtype`);
        bitsEqual(o.v, stock[k].v, `case ${k}: vs the stock kernel`);
        const c = cases[k];
        if ((c.axis ?? 0) === 0 && !c.batchDims) {
          const slice = c.shape.slice(1).reduce((a, b) => a * b, 1);
          const ref = c.idx.flatMap((i) => o.x.slice(i * slice, (i + 1) * slice));
          bitsEqual(o.v, ref, `case ${k}: vs the rows of x`);
        }
      });
      assert.throws(
        () => tf.tidy(() => tf.gather(tf.ones([3, 2]), tf.tensor1d([0, 3], 'int32'))),
        /GatherV2: the index value 3 is not in \[0, 2\]/,
      );
      fast(false);
    });
  });

  describe('whole models: gradients and tf.memory() with the fast paths equal tfjs without them', () => {
    const L = tf.layers;
    type T = tf.SymbolicTensor;
    const mobileNetBlocks = () => {
      const bn = (x: T) => L.batchNormalization({ momentum: 0.999, epsilon: 1e-3 }).apply(x) as T;
      const relu6 = (x: T) => L.reLU({ maxValue: 6 }).apply(x) as T;
      const conv1 = (x: T, filters: number) => L.conv2d({ filters, kernelSize: 1, useBias: false }).apply(x) as T;
      const block = (x: T, inC: number, outC: number, stride: number): T => {
        let h = relu6(bn(conv1(x, inC * 6)));
        h = L.depthwiseConv2d({ kernelSize: 3, strides: stride, padding: 'same', useBias: false }).apply(h) as T;
        h = bn(conv1(relu6(bn(h)), outC));
        return stride === 1 && inC === outC ? (L.add().apply([x, h]) as T) : h;
      };
      const input = tf.input({ shape: [16, 16, 8] });
      let x = block(input, 8, 8, 1);
      x = block(x, 8, 16, 2);
      x = relu6(bn(conv1(x, 32)));
      x = L.globalAveragePooling2d({}).apply(x) as T;
      return tf.model({ inputs: input, outputs: L.dense({ units: 5 }).apply(x) as T });
    };
    const denseBn = () =>
      tf.sequential({
        layers: [
          L.dense({ inputShape: [12], units: 32 }),
          L.batchNormalization(),
          L.activation({ activation: 'relu' }),
          L.dense({ units: 16, activation: 'tanh' }),
          L.batchNormalization(),
          L.dense({ units: 5 }),
        ],
      });
    /**
     * One gradient computation of the softmax cross-entropy w.r.t. `vars`: loss, gradients, what it adds to
     * tf.memory(), and the length of the tape when the forward ends
     */
    const gradStep = (model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor, vars: tf.Variable[]) => {
      const engine = tf.engine() as unknown as { state: { activeTape: unknown[] | null } };
      let tapeNodes = -1;
      const m0 = tf.memory();
      const { value, grads } = tf.variableGrads(() => {
        const loss = tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
        tapeNodes = engine.state.activeTape?.length ?? -1;
        return loss;
      }, vars);
      const m1 = tf.memory();
      const out = {
        tapeNodes,
        loss: value.dataSync()[0],
        grads: vars.map((v) => grads[v.name].dataSync().slice()),
        tensors: m1.numTensors - m0.numTensors,
        bytes: m1.numBytes - m0.numBytes,
      };
      tf.dispose([value, ...Object.values(grads)]);
      return out;
    };
    /** a 3x3 depthwise convolution with a bias by tf.fused.depthwiseConv2d (a customGrad op) */
    class FusedDepthwise extends tf.layers.Layer {
      static className = 'FusedDepthwise';
      private w!: tf.LayerVariable;
      private b!: tf.LayerVariable;
      override build(inputShape: tf.Shape): void {
        const c = inputShape[inputShape.length - 1]!;
        this.w = this.addWeight('dw_kernel', [3, 3, c, 1], 'float32', tf.initializers.ones());
        this.b = this.addWeight('dw_bias', [c], 'float32', tf.initializers.zeros());
      }
      override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        return tf.fused.depthwiseConv2d({
          x: x as tf.Tensor4D,
          filter: this.w.read() as tf.Tensor4D,
          bias: this.b.read(),
          strides: 1,
          pad: 'same',
        });
      }
    }
    const models = [
      { name: 'MobileNetV2 blocks', build: mobileNetBlocks, input: [4, 16, 16, 8] },
      { name: 'dense + BN', build: denseBn, input: [6, 12] },
    ];
    for (const backend of ['wasm', 'cpu'])
      for (const m of models)
        it(`${m.name} on ${backend}${backend === 'wasm' ? ' (+ the engine kernels)' : ''}: bit for bit, memory as stock, no leak`, async () => {
          await useBackend(backend);
          if (backend === 'wasm') registerMissingKernels(tf);
          const model = m.build();
          setSineWeights(model);
          const x = tf.tensor(sineData(m.input.reduce((a, b) => a * b, 1)), m.input);
          const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 0].slice(0, m.input[0]), 'int32'), 5);
          const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
          const step = () => gradStep(model, x, y, vars);
          fast(false);
          step();
          const stock = step();
          fast(true);
          // with the engine's kernels, the model's ReLU6 layers run as one kernel (relu6Fused.ts)
          if (backend === 'wasm') assert.ok(installed.includes('layers/ReLU'), installed.join(' '));
          const start = tf.memory().numTensors;
          const ours = step();
          const ours2 = step();
          assert.equal(tf.memory().numTensors, start, 'no tensor leak');
          assert.ok(Number.isFinite(stock.loss) && stock.loss > 0);
          assert.ok(
            stock.grads.some((g) => g.some((v) => v !== 0)),
            'the stock gradients are not all zero',
          );
          bitsEqual([ours.loss, ours2.loss], [stock.loss, stock.loss], 'loss');
          stock.grads.forEach((g, i) => {
            bitsEqual(ours.grads[i], g, `${m.name} on ${backend}: gradient of ${vars[i].name}`);
            bitsEqual(ours2.grads[i], g, `${m.name} on ${backend}: gradient of ${vars[i].name}, second step`);
          });
          assert.equal(ours.tensors, stock.tensors, 'numTensors the step adds (its results)');
          assert.equal(ours.bytes, stock.bytes, 'numBytes the step adds (its results)');
          fast(false);
          tf.dispose([x, y]);
          model.dispose();
        });

    it('a frozen backbone under a trainable head: its calls are not on the tape, the gradients bit for bit', async () => {
      await useBackend('wasm');
      registerMissingKernels(tf);
      const model = mobileNetBlocks();
      setSineWeights(model);
      // freeze all but the last dense layer (a fine-tune's new head)
      model.layers.slice(0, -1).forEach((l) => (l.trainable = false));
      const x = tf.tensor(sineData(4 * 16 * 16 * 8), [4, 16, 16, 8]);
      const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 5);
      const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
      assert.equal(vars.length, 2, 'the head: kernel and bias');
      const step = () => gradStep(model, x, y, vars);
      fast(false);
      step();
      const stock = step();
      fast(true);
      const ours = step();
      const ours2 = step();
      fast(false);
      assert.ok(
        stock.grads.every((g) => g.some((v) => v !== 0)),
        'the stock gradients are not all zero',
      );
      bitsEqual([ours.loss, ours2.loss], [stock.loss, stock.loss], 'loss');
      stock.grads.forEach((g, i) => {
        bitsEqual(ours.grads[i], g, `gradient of ${vars[i].name}`);
        bitsEqual(ours2.grads[i], g, `gradient of ${vars[i].name}, second step`);
      });
      assert.equal(ours.tensors, stock.tensors, 'numTensors the step adds (its results)');
      // stock records every call of the backbone (328 nodes); here the head's dense layer and the loss (35, measured)
      assert.ok(stock.tapeNodes > 200, `stock tape: ${stock.tapeNodes} nodes`);
      assert.ok(ours.tapeNodes > 0 && ours.tapeNodes < 50, `tape: ${ours.tapeNodes} nodes (stock ${stock.tapeNodes})`);
      tf.dispose([x, y]);
      model.dispose();
    });

    it("a fused convolution's input gradient nobody asks for (the data's) is not computed; asked for, it is; bit for bit", async () => {
      await useBackend('wasm');
      registerMissingKernels(tf);
      // tfjs-layers' DepthwiseConv2D calls the unfused op (lazy gradients); graph models run the fused one
      const dwFirst = () => {
        const input = tf.input({ shape: [8, 8, 4] });
        const dw = new FusedDepthwise();
        const h = L.conv2d({ filters: 8, kernelSize: 3, padding: 'same', useBias: false }).apply(dw.apply(input)) as T;
        const out = L.dense({ units: 5 }).apply(L.flatten().apply(L.batchNormalization().apply(h)) as T) as T;
        return tf.model({ inputs: input, outputs: out });
      };
      // every kernel call counted by name while the step runs (the registry's kernelFunc wrapped)
      const counted = ['Conv2DBackpropInput', 'DepthwiseConv2dNativeBackpropInput', 'Fill'];
      const calls = (f: () => void): Record<string, number> => {
        const n: Record<string, number> = {};
        const undo = counted.map((k) => {
          const config = tf.getKernel(k, 'wasm') as unknown as { kernelFunc: (a: unknown) => unknown };
          const orig = config.kernelFunc;
          n[k] = 0;
          config.kernelFunc = (a) => (n[k]++, orig(a));
          return () => (config.kernelFunc = orig);
        });
        try {
          f();
        } finally {
          undo.forEach((u) => u());
        }
        return n;
      };
      for (const [build, input, kernel, convs] of [
        [mobileNetBlocks, [4, 16, 16, 8], 'Conv2DBackpropInput', 5],
        [dwFirst, [3, 8, 8, 4], 'DepthwiseConv2dNativeBackpropInput', 1],
      ] as const) {
        const model = build();
        setSineWeights(model);
        const x = tf.variable(tf.tensor(sineData(input.reduce((a, b) => a * b, 1)), [...input]));
        const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3].slice(0, input[0]), 'int32'), 5);
        const weights = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
        for (const vars of [weights, [x, ...weights]]) {
          const withX = vars[0] === x;
          let stock!: ReturnType<typeof gradStep>, ours!: ReturnType<typeof gradStep>;
          fast(false);
          const stockCalls = calls(() => (stock = gradStep(model, x, y, vars)));
          fast(true);
          const ourCalls = calls(() => (ours = gradStep(model, x, y, vars)));
          fast(false);
          const what = `${model.layers[0].getClassName()} first, gradients of ${withX ? 'x and ' : ''}the weights`;
          assert.equal(stockCalls[kernel], convs, `${what}: tfjs computes every input gradient`);
          assert.equal(ourCalls[kernel], withX ? convs : convs - 1, `${what}: ${kernel} calls`);
          assert.equal(ourCalls.Fill - stockCalls.Fill, withX ? 0 : 1, `${what}: the zeros in its place`);
          assert.ok(
            stock.grads.every((g) => g.some((v) => v !== 0)),
            'no gradient all zero',
          );
          stock.grads.forEach((g, i) => bitsEqual(ours.grads[i], g, `${what}: gradient of ${vars[i].name}`));
          assert.equal(ours.tensors, stock.tensors, 'numTensors the step adds (its results)');
        }
        tf.dispose([x, y]);
        model.dispose();
      }
    });

    it('fit() with the fast paths: the same losses as without, tf.memory() flat', async () => {
      await useBackend('wasm');
      registerMissingKernels(tf);
      const train = async () => {
        const model = mobileNetBlocks();
        setSineWeights(model);
        model.compile({ optimizer: tf.train.sgd(0.05), loss: 'categoricalCrossentropy' });
        const x = tf.tensor(sineData(4 * 16 * 16 * 8), [4, 16, 16, 8]);
        const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3], 'int32'), 5);
        const counts: number[] = [];
        const losses: number[] = [];
        const start = tf.memory().numTensors;
        for (let i = 0; i < 4; i++) {
          const h = await model.fit(x, y, { epochs: 1, batchSize: 4, shuffle: false, verbose: 0 });
          losses.push(h.history.loss[0] as number);
          counts.push(tf.memory().numTensors - start);
        }
        const weights = model.getWeights().map((w) => w.dataSync().slice());
        tf.dispose([x, y]);
        model.dispose();
        return { counts, losses, weights, left: tf.memory().numTensors - start };
      };
      fast(false);
      const stock = await train();
      fast(true);
      const ours = await train();
      fast(false);
      bitsEqual(ours.losses, stock.losses, 'losses');
      ours.weights.forEach((w, i) => bitsEqual(w, stock.weights[i], `weight #${i} after 4 steps`));
      assert.deepEqual(ours.counts, stock.counts, 'numTensors after each fit');
      assert.equal(ours.left, stock.left, 'numTensors once the model is disposed');
      assert.equal(new Set(ours.counts.slice(1)).size, 1, 'flat');
    });
  });

  describe("tfjs's behaviour around the engine fast path", () => {
    beforeEach(async () => {
      await useBackend('wasm');
      registerMissingKernels(tf);
      fast(true);
    });
    afterEach(() => fast(false));

    it("a kernel that is not registered: tfjs's error; a throwing kernel leaves the engine as it was", () => {
      assert.throws(
        () => tf.engine().runKernel('NoSuchKernel', {}, {}),
        /Kernel 'NoSuchKernel' not registered for backend 'wasm'/,
      );
      const state = (tf.engine() as unknown as { state: { kernelDepth: number } }).state;
      const depth = state.kernelDepth;
      const a = tf.ones([2, 3]);
      const b = tf.ones([2, 3]);
      const before = tf.memory().numTensors;
      assert.throws(() => tf.matMul(a, b)); // inner dimensions differ
      assert.equal(state.kernelDepth, depth, 'kernelDepth restored');
      assert.equal(tf.memory().numTensors, before, 'the failed call leaves no tensor');
      tf.dispose([a, b]);
      // tape and gradients still work after the error
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.square(t)))(tf.tensor([1, 2, 3]));
      assert.deepEqual(Array.from(g.dataSync()), [2, 4, 6]);
    });
    it('a kernel registered, replaced or removed after install is seen at once (the lookup cache follows the registry)', () => {
      const name = 'BnInspectorFastPathTestKernel';
      const call = () => {
        const r = tf.engine().runKernel(name, { x: tf.scalar(1) }, {}) as tf.Tensor;
        const v = r.dataSync()[0];
        r.dispose();
        return v;
      };
      const constant = (c: number) => ({
        kernelName: name,
        backendName: 'wasm',
        kernelFunc: ((args: {
          backend: { makeOutput(s: number[], d: string): unknown; typedArrayFromHeap(t: unknown): Float32Array };
        }) => {
          const out = args.backend.makeOutput([], 'float32');
          args.backend.typedArrayFromHeap(out)[0] = c;
          return out;
        }) as never,
      });
      assert.throws(call, /not registered for backend 'wasm'/);
      tf.registerKernel(constant(7));
      try {
        assert.equal(call(), 7);
        tf.unregisterKernel(name, 'wasm');
        tf.registerKernel(constant(9));
        assert.equal(call(), 9);
      } finally {
        tf.unregisterKernel(name, 'wasm');
      }
      assert.throws(call, /not registered for backend 'wasm'/);
    });
    it("gradients: tfjs's errors (no path from x to y; gradient dtype)", () => {
      const a = tf.tensor([1, 2]);
      const b = tf.tensor([3, 4]);
      assert.throws(() => tf.grad(() => tf.sum(b))(a), /Cannot compute gradient of y=f\(x\) with respect to x/);
      assert.throws(
        () => tf.grad((t: tf.Tensor) => tf.sum(t))(a, tf.scalar(1, 'int32')),
        /dy must have 'float32' dtype/,
      );
      tf.dispose([a, b]);
    });
    it('higher-order gradients and customGrad: as without the fast path', () => {
      const run = () =>
        tf.tidy(() => {
          const x = tf.tensor([0.5, -1.5, 2]);
          const d2 = tf.grad(tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.mul(t, t), t))))(x); // 6x
          // `any`: tfjs types customGrad's arguments as (Tensor | GradSaveFunc)[]
          const custom = tf.customGrad(((t: tf.Tensor, save: tf.GradSaveFunc) => {
            save([t]);
            return {
              value: tf.square(t),
              gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.mul(dy, tf.mul(saved[0], 3))],
            };
          }) as any);
          const dc = tf.grad((t: tf.Tensor) => tf.sum(custom(t) as tf.Tensor))(x);
          return [Array.from(d2.dataSync()), Array.from(dc.dataSync())];
        });
      const ours = run();
      fast(false);
      const stock = run();
      assert.deepEqual(ours, stock);
      assert.deepEqual(ours[0], [3, -9, 12]);
      assert.deepEqual(ours[1], [1.5, -4.5, 6]);
    });
    it('someone else wrapping engine.addTapeNode, then deleting the wrapper (a profiler does): the same gradients', async () => {
      const engine = tf.engine() as unknown as { addTapeNode?: (...a: unknown[]) => unknown };
      const f = (t: tf.Tensor) => tf.sum(tf.mul(tf.square(t), tf.scalar(3)));
      const x = tf.tensor([1, 2, 3]);
      const grad = () => tf.tidy(() => Array.from(tf.grad(f)(x).dataSync()));
      const first = grad();
      const stockAdd = engine.addTapeNode!;
      let wrapped = 0;
      engine.addTapeNode = function (this: unknown, ...a: unknown[]) {
        wrapped++;
        return stockAdd.apply(this, a);
      };
      const during = grad();
      assert.ok(wrapped > 0, 'the wrapper saw the tape nodes');
      delete engine.addTapeNode;
      const after = grad();
      // and inside tf.profile (tfjs's own runKernel records every call)
      const profiled = (await tf.profile(() => tf.tidy(() => tf.grad(f)(x)))).result as tf.Tensor;
      const inProfile = Array.from(profiled.dataSync());
      profiled.dispose();
      x.dispose();
      for (const g of [first, during, after, inProfile]) assert.deepEqual(g, [6, 12, 18]);
    });
    it("tf.profile still sees every kernel (tfjs's own path while profiling)", async () => {
      const info = await tf.profile(() => tf.tidy(() => tf.sum(tf.mul(tf.ones([4]), tf.scalar(2)))));
      const names = info.kernels.map((k) => k.name);
      for (const k of ['Multiply', 'Sum']) assert.ok(names.includes(k), `${k} in ${names}`);
    });
    it('usesX: an input from the xs counts, an absent optional input does not, an input without an id does', () => {
      const t = (id: number) => ({ id });
      const xs = new Set([1, 5]);
      assert.equal(usesX(xs, { x: t(2), filter: t(3) }), false);
      assert.equal(usesX(xs, { x: t(2), filter: t(5) }), true);
      assert.equal(usesX(xs, { x: t(2), bias: undefined, preluActivationWeights: null }), false);
      assert.equal(usesX(xs, { x: t(2), other: {} }), true);
      assert.equal(usesX(xs, {}), false);
    });
    it('filterTapeXToY keeps the nodes between x and y, inputs pruned to those from x, in tape order', () => {
      const t = (id: number) => ({ id }) as unknown as tf.Tensor;
      const node = (id: number, ins: number[], outs: number[]) => ({
        id,
        kernelName: `k${id}`,
        inputs: Object.fromEntries(ins.map((i, k) => [`in${k}`, t(i)])),
        outputs: outs.map(t),
        saved: [],
      });
      // x = 1, w = 2 (not an x), y = 6: 1 -> 3 (with 2), 3 -> 4 -> 6, 5 from 2 alone -> 6, 3 -> 7 (not to y)
      const tape = [
        node(1, [1, 2], [3]),
        node(2, [3], [4]),
        node(3, [2], [5]),
        node(4, [4, 5], [6]),
        node(5, [3], [7]),
      ];
      const f = filterTapeXToY(tape, [t(1)], t(6));
      assert.deepEqual(
        f.map((n) => [n.id, Object.values(n.inputs).map((i) => i.id)]),
        [
          [1, [1]],
          [2, [3]],
          [4, [4]],
        ],
      );
    });
    it("install is idempotent; the undo puts tfjs's own methods back", () => {
      const engine = tf.engine() as unknown as Record<string, unknown>;
      assert.equal(installEngineFastPath(tf), null, 'second install: nothing');
      assert.deepEqual(installTfjsFastPath(tf), [], 'second install: nothing');
      assert.ok(Object.prototype.hasOwnProperty.call(engine, 'runKernel'));
      fast(false);
      assert.ok(!Object.prototype.hasOwnProperty.call(engine, 'runKernel'));
      assert.ok(!Object.prototype.hasOwnProperty.call(engine, 'gradients'));
    });
  });
});

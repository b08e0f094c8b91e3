// Timers on every kernel registered for a tfjs backend, with the layer each call works for: where a training step's
// time goes, by tfjs kernel name and by layer kind, forward and backward.
//
//   const timers = installKernelTimers(tf, model);   // before the fit to profile
//   timers.start(); await model.fit(…); const p = timers.stop(); timers.uninstall();
//
// How: every config of tf.getKernelsForBackend(backend) (the registry's own objects, which Engine.runKernel looks
// up on every call) gets its kernelFunc wrapped by a timer. The backends here (wasm, cpu) compute synchronously
// inside kernelFunc, so the wrapper measures the computation. A kernel that runs other kernels through the registry
// is charged its own (self) time in `ms` (its whole time in `inclMs`); `kernelMs` is the top-level calls' sum. The layer: each layer's
// `call` is wrapped to set the current label ("Conv2D 1×1", "DepthwiseConv2D 3×3", "BatchNormalization", …), and
// tf.engine().addTapeNode is wrapped so that a tape node's gradient runs under its forward label + " backward";
// kernels outside any layer are "loss / optimizer / other". (No `.apply(` calls here: inside bn-inspect, a call named
// apply is a step point.)

const round = (v, d = 1) => Math.round(v * 10 ** d) / 10 ** d;

function layerLabel(layer) {
  const cls = layer.getClassName();
  const k = layer.kernelSize;
  if (Array.isArray(k) && (cls === 'Conv2D' || cls === 'DepthwiseConv2D')) return `${cls} ${k[0]}×${k[1]}`;
  return cls;
}

/** the filter size of a convolution kernel call, for the by-shape table */
function convDetail(name, inputs, attrs) {
  const f =
    name === 'Conv2DBackpropFilter' || name === 'DepthwiseConv2dNativeBackpropFilter'
      ? attrs?.filterShape
      : inputs?.filter?.shape;
  const s = attrs?.strides;
  if (!f) return '';
  return ` ${f[0]}×${f[1]}${s ? ` stride ${Array.isArray(s) ? s[0] : s}` : ''}`;
}

/**
 * @param {any} tf the tfjs namespace whose engine runs the model
 * @param {any} [model] a tf.LayersModel whose layers (and nested models' layers) label the calls
 * @param {{ backend?: string }} [opts]
 */
export function installKernelTimers(tf, model, opts = {}) {
  const backend = opts.backend ?? tf.getBackend();
  const engine = tf.engine();
  let on = false;
  let label = 'loss / optimizer / other';
  const idle = label;
  /** @type {number[]} time of child kernel calls, per open kernel call */
  const open = [];
  let byKernel = new Map();
  let byShape = new Map();
  let byLayer = new Map();
  let topLevelMs = 0;
  const add = (map, key, ms, inclMs, extra) => {
    const e = map.get(key) ?? { key, calls: 0, ms: 0, inclMs: 0, ...extra };
    e.calls++;
    e.ms += ms;
    e.inclMs += inclMs;
    map.set(key, e);
  };

  const restore = [];
  for (const cfg of tf.getKernelsForBackend(backend)) {
    const orig = cfg.kernelFunc;
    const name = cfg.kernelName;
    cfg.kernelFunc = function timedKernel(args) {
      if (!on) return orig.call(this, args);
      open.push(0);
      const t0 = performance.now();
      try {
        return orig.call(this, args);
      } finally {
        const dt = performance.now() - t0;
        const children = open.pop();
        const self = dt - children;
        if (open.length) open[open.length - 1] += dt;
        else topLevelMs += dt;
        add(byKernel, name, self, dt);
        const shapes = Object.values(args.inputs ?? {})
          .map((t) => `[${t?.shape?.join(',') ?? '?'}]`)
          .join(' ');
        add(byShape, `${name}${convDetail(name, args.inputs, args.attrs)} ${shapes}`, self, dt, { kernel: name });
        add(byLayer, label, self, dt);
      }
    };
    // the marks the engine puts on its kernel functions (e.g. Symbol.for('bn-inspector.kernel'), read by the fused
    // ReLU6 layer to know the engine's kernels are the ones registered): kept, so that the timers change nothing
    for (const sym of Object.getOwnPropertySymbols(orig)) cfg.kernelFunc[sym] = orig[sym];
    restore.push(() => (cfg.kernelFunc = orig));
  }

  // the layer labels: forward through Layer.call, backward through the tape nodes' gradient functions
  const withLabel = (l, fn) => {
    const saved = label;
    label = l;
    try {
      return fn();
    } finally {
      label = saved;
    }
  };
  const layers = [];
  const collect = (m) => {
    for (const l of m?.layers ?? []) {
      layers.push(l);
      if (l.layers) collect(l);
    }
  };
  collect(model);
  for (const layer of layers) {
    if (layer.layers) continue; // a nested model: its own layers carry the labels
    const call = layer.call;
    const l = layerLabel(layer);
    layer.call = function labelledCall(...a) {
      return withLabel(l, () => call.call(this, ...a));
    };
    restore.push(() => delete layer.call);
  }
  const addTapeNode = engine.addTapeNode;
  engine.addTapeNode = function labelledTapeNode(...a) {
    addTapeNode.call(this, ...a);
    const tape = this.state.activeTape;
    const node = tape?.[tape.length - 1];
    if (on && node?.gradient && !node.__bnLabelled) {
      const grad = node.gradient;
      const l = label === idle ? `${idle} backward` : `${label} backward`;
      // a gradient function returns one thunk per input, which backpropagation calls later: label those too
      node.gradient = (dys) => {
        const thunks = withLabel(l, () => grad(dys));
        const labelled = {};
        for (const [k, f] of Object.entries(thunks ?? {})) {
          if (typeof f !== 'function') {
            labelled[k] = f;
            continue;
          }
          const w = (...b) => withLabel(l, () => f(...b));
          // the engine's marks on a thunk (a known zero's, src/worker/kernels/knownZeros.ts) stay on its wrapper
          for (const sym of Object.getOwnPropertySymbols(f)) w[sym] = f[sym];
          labelled[k] = w;
        }
        return labelled;
      };
      node.__bnLabelled = true;
    }
  };
  restore.push(() => delete engine.addTapeNode);

  const sorted = (map, total) =>
    [...map.values()]
      .sort((a, b) => b.ms - a.ms)
      .map((e) => ({ ...e, ms: round(e.ms), inclMs: round(e.inclMs), share: round((100 * e.ms) / total) }));

  return {
    backend,
    start() {
      byKernel = new Map();
      byShape = new Map();
      byLayer = new Map();
      topLevelMs = 0;
      on = true;
    },
    /** @param {number} [wallMs] the wall time of what ran (shares are of it; default the kernels' own sum) */
    stop(wallMs) {
      on = false;
      const total = wallMs ?? topLevelMs;
      return {
        wallMs: round(wallMs ?? topLevelMs),
        kernelMs: round(topLevelMs),
        outsideKernelsMs: wallMs == null ? 0 : round(wallMs - topLevelMs),
        byKernel: sorted(byKernel, total),
        byShape: sorted(byShape, total),
        byLayer: sorted(byLayer, total),
      };
    },
    uninstall() {
      on = false;
      for (const r of restore.reverse()) r();
    },
  };
}

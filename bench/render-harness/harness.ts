/**
 * Browser harness of the inspector panel (loaded before dist/webview.js in the page served by server.mjs):
 * - a fake `acquireVsCodeApi` (state kept in sessionStorage, so a reload restores it like VS Code does);
 * - `window.__bn`: plays the extension host (posts HostToWebview messages with packed steps, records what
 *   the panel posts back) and runs the render benchmark in the page.
 *
 * One unit: the page-side half of one benchmark (messages in, timings out).
 */
import type { HostToWebview, SessionInfo, StepSnapshot, WebviewToHost } from '../../src/shared/protocol';
import { packStep } from '../../src/shared/snapshotCodec';
import {
  MOBILENET_FILE,
  mobilenetV2Spec,
  SynthRun,
  resnet50Spec,
  stepFromPlain,
  type LayerSpec,
  type SynthKind,
} from './synth';

export type BenchModel = 'resnet50' | 'mobilenetv2';

/** a synthetic run of the model: ResNet-50 (53 layers, 4 frozen) or MobileNetV2 (52 layers, all frozen, as the example) */
function newRun(model: BenchModel, seed: number): SynthRun {
  return model === 'mobilenetv2'
    ? new SynthRun(mobilenetV2Spec(), seed, { frozen: () => true, momentum: 0.999, file: MOBILENET_FILE })
    : new SynthRun(resnet50Spec(), seed, { frozen: (n) => n.startsWith('conv2_') && n.endsWith('_1_bn') });
}

function specOf(model: BenchModel): LayerSpec[] {
  return model === 'mobilenetv2' ? mobilenetV2Spec() : resnet50Spec();
}

const params = new URLSearchParams(location.search);
const theme = params.get('theme') ?? 'light';
document.documentElement.classList.add(`theme-${theme}`);
document.body.classList.add(
  theme === 'dark' ? 'vscode-dark' : theme === 'hc' ? 'vscode-high-contrast' : 'vscode-light',
);
document.body.dataset.vscodeThemeKind =
  theme === 'dark' ? 'vscode-dark' : theme === 'hc' ? 'vscode-high-contrast' : 'vscode-light';

interface Posted {
  msg: WebviewToHost;
  at: number;
}

const posted: Posted[] = [];
const waiters: { pred: (m: WebviewToHost) => boolean; resolve: (m: WebviewToHost) => void }[] = [];
const violations: string[] = [];
const longTasks: number[] = [];
let lastSendAt = 0;
const STATE_KEY = 'bn-harness-vscode-state';
let acquired = false;

document.addEventListener('securitypolicyviolation', (e) => violations.push(`${e.violatedDirective}: ${e.blockedURI}`));
try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) longTasks.push(e.duration);
  }).observe({ type: 'longtask', buffered: true });
} catch {
  /* no longtask support */
}

(window as any).acquireVsCodeApi = () => {
  if (acquired) throw new Error('An instance of the VS Code API has already been acquired');
  acquired = true;
  return {
    postMessage(msg: WebviewToHost) {
      // like VS Code: the message is cloned (structured clone), delivery is async for the host
      const m = structuredClone(msg);
      posted.push({ msg: m, at: performance.now() });
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (waiters[i].pred(m)) {
          waiters[i].resolve(m);
          waiters.splice(i, 1);
        }
      }
    },
    getState() {
      const s = sessionStorage.getItem(STATE_KEY);
      return s ? JSON.parse(s) : undefined;
    },
    setState(s: unknown) {
      sessionStorage.setItem(STATE_KEY, JSON.stringify(s));
      return s;
    },
  };
};

function waitFor(pred: (m: WebviewToHost) => boolean, timeoutMs = 20000): Promise<WebviewToHost> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timed out waiting for a message from the panel')), timeoutMs);
    waiters.push({
      pred,
      resolve: (m) => {
        clearTimeout(t);
        resolve(m);
      },
    });
  });
}

/** posts like the host does: window message, ArrayBuffers transferred */
function send(msg: HostToWebview, transfer: Transferable[] = []): void {
  lastSendAt = performance.now();
  window.postMessage(msg, '*', transfer);
}

function packPlain(o: any): ArrayBuffer {
  return packStep(stepFromPlain(o));
}

const nextFrame = () =>
  new Promise<number>((r) => requestAnimationFrame(() => setTimeout(() => r(performance.now()), 0)));

/** a copy of a packed step whose header says `"index":<7 digits>` with another index (JSON allows the padding spaces) */
function withIndex(packed: ArrayBuffer, index: number): ArrayBuffer {
  const buf = packed.slice(0);
  const head = new Uint8Array(buf, 8, 64);
  const key = new TextEncoder().encode('"index":');
  let at = -1;
  for (let i = 0; i + key.length < head.length && at < 0; i++)
    if (key.every((b, k) => head[i + k] === b)) at = i + key.length;
  if (at < 0) throw new Error('no index in the packed header');
  const digits = String(index).padStart(7, ' ');
  for (let k = 0; k < 7; k++) head[at + k] = digits.charCodeAt(k);
  return buf;
}

/** sends a step and resolves when the panel posts 'rendered' for it: { ms (panel's own), e2e (send -> rendered), frame (send -> next frame) } */
async function sendStepTimed(
  step: StepSnapshot | { buffer: ArrayBuffer; index: number },
  tag = 'step',
): Promise<{ ms: number; e2e: number; frame: number; packMs: number }> {
  const tp = performance.now();
  const buf = 'buffer' in step ? step.buffer : packStep(step);
  const packMs = performance.now() - tp;
  const wait = waitFor((m) => m.type === 'rendered' && m.stepIndex === step.index);
  // user-timing marks: bench/renderBench.mjs --trace sums the main thread's CPU time between them
  performance.mark(`bn:send:${tag}:${step.index}`);
  const t0 = performance.now();
  send({ type: 'step', buffer: buf }, [buf]);
  const r = (await wait) as Extract<WebviewToHost, { type: 'rendered' }>;
  const t1 = posted[posted.length - 1].at;
  const t2 = await nextFrame();
  performance.mark(`bn:frame:${tag}:${step.index}`);
  return { ms: r.ms, e2e: t1 - t0, frame: t2 - t0, packMs };
}

const median = (a: number[]) => {
  const s = a.slice().sort((x, y) => x - y);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};
const pct = (a: number[], p: number) => {
  const s = a.slice().sort((x, y) => x - y);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};

const session = (over: Partial<SessionInfo> = {}): SessionInfo => ({
  script: '/work/examples/resnet50.ts',
  scriptLabel: 'examples/resnet50.ts',
  state: 'paused',
  backend: 'wasm',
  tfjs: '4.22.0',
  semantics: 'tfjs',
  error: null,
  status: 'paused at line 42 (step 1, hit 1)',
  ...over,
});

const sessionFor = (model: BenchModel) =>
  model === 'mobilenetv2'
    ? session({ script: MOBILENET_FILE, scriptLabel: 'examples/mobilenet-v2-finetune.ts' })
    : session();

const bn = {
  posted,
  violations,
  longTasks,
  messages: () => posted.map((p) => p.msg),
  waitFor: (type: string, stepIndex?: number, timeoutMs?: number) =>
    waitFor((m) => m.type === type && (stepIndex === undefined || (m as any).stepIndex === stepIndex), timeoutMs),
  /** plain JSON-able steps (number arrays) -> a reset message */
  reset(sess: SessionInfo | null, plainSteps: any[], thinned = 0) {
    const steps = plainSteps.map(packPlain);
    send({ type: 'reset', session: sess, steps, thinned }, steps);
  },
  step(plain: any) {
    const buf = packPlain(plain);
    send({ type: 'step', buffer: buf }, [buf]);
  },
  session(sess: SessionInfo | null) {
    send({ type: 'session', session: sess });
  },
  lastSendAt: () => lastSendAt,
  makeSession: session,

  /** the steps of a synthetic run as plain JSON (number arrays), for a test to check and to send with reset() */
  synthSteps(model: BenchModel, kinds: SynthKind[], seed = 11) {
    const run = newRun(model, seed);
    const arr = (v: Float32Array | null) => (v ? Array.from(v) : null);
    const call = (c: any) => c && { ...c, batchMean: arr(c.batchMean), batchVariance: arr(c.batchVariance) };
    return kinds.map((k) => {
      const st = run.step(k);
      return {
        ...st,
        layers: st.layers.map((l) => ({
          ...l,
          movingMean: arr(l.movingMean),
          movingVariance: arr(l.movingVariance),
          gamma: arr(l.gamma),
          beta: arr(l.beta),
          lastCall: call(l.lastCall),
          lastTrainingCall: call(l.lastTrainingCall),
        })),
      };
    });
  },

  /** fills the panel with a ResNet-50-sized run: `steps` steps (fit, fit, predict, …) */
  resnet(steps: number, kinds: SynthKind[] = ['fit'], seed = 7) {
    return bn.run('resnet50', steps, kinds, seed);
  },

  /** fills the panel with a run of `model`: `steps` steps of `kinds` in turn, each sent when the previous rendered */
  async run(model: BenchModel, steps: number, kinds: SynthKind[] = ['fit'], seed = 7) {
    const run = newRun(model, seed);
    send({ type: 'reset', session: sessionFor(model), steps: [], thinned: 0 });
    await waitFor((m) => m.type === 'rendered' && m.stepIndex === 0);
    let last = 0;
    for (let i = 0; i < steps; i++) {
      const st = run.step(kinds[i % kinds.length]);
      last = st.index;
      const buf = packStep(st);
      const w = waitFor((m) => m.type === 'rendered' && m.stepIndex === st.index);
      send({ type: 'step', buffer: buf }, [buf]);
      await w;
    }
    return last;
  },

  /**
   * Render benchmark. 1) `singles` times: a fresh panel state (reset), then ONE ResNet-50-sized step; time
   * from the message to 'rendered'. 2) `stream` steps back to back (the next is sent when the previous
   * rendered), with long tasks and input delay recorded.
   */
  async bench(opts: { singles?: number; stream?: number; resetSteps?: number; model?: BenchModel } = {}) {
    const singles = opts.singles ?? 9;
    const streamN = opts.stream ?? 1000;
    const resetN = opts.resetSteps ?? 100;
    const model = opts.model ?? 'mobilenetv2';
    const spec = specOf(model);
    const channels = spec.reduce((a, s) => a + s.channels, 0);
    const first: { ms: number; e2e: number; frame: number }[] = [];
    const second: { ms: number; e2e: number; frame: number }[] = [];
    for (let k = 0; k < singles; k++) {
      const run = newRun(model, 100 + k);
      // an empty panel: no session (cards removed), then a new session with no step yet
      const rNull = waitFor((m) => m.type === 'rendered' && m.stepIndex === 0);
      send({ type: 'session', session: null });
      await rNull;
      const r0 = waitFor((m) => m.type === 'rendered' && m.stepIndex === 0);
      send({ type: 'reset', session: sessionFor(model), steps: [], thinned: 0 });
      await r0;
      window.scrollTo(0, 0);
      await nextFrame();
      first.push(await sendStepTimed(run.step('fit'), `first${k}`));
      await nextFrame();
      second.push(await sendStepTimed(run.step('fit'), `next${k}`));
      await nextFrame();
    }
    // stream: the fake host packs a pool of steps beforehand (so its own work stays out of the panel's thread
    // during the stream) and sends copies with increasing indices
    const run = newRun(model, 999);
    const pool: ArrayBuffer[] = [];
    for (let k = 0; k < 40; k++) {
      const st = run.step(k % 10 === 9 ? 'predict' : 'fit');
      st.index = 1000000 + k;
      pool.push(packStep(st));
    }
    const r0 = waitFor((m) => m.type === 'rendered' && m.stepIndex === 0);
    send({ type: 'reset', session: sessionFor(model), steps: [], thinned: 0 });
    await r0;
    window.scrollTo(0, 0);
    longTasks.length = 0;
    const inputDelays: number[] = [];
    const onKey = (e: KeyboardEvent) => inputDelays.push(performance.now() - e.timeStamp);
    window.addEventListener('keydown', onKey, true);
    (window as any).__bnStreaming = true;
    const per: number[] = [];
    const e2e: number[] = [];
    const t0 = performance.now();
    const heap0 = (performance as any).memory?.usedJSHeapSize ?? null;
    for (let i = 0; i < streamN; i++) {
      const r = await sendStepTimed({ buffer: withIndex(pool[i % pool.length], i + 1), index: i + 1 }, 'stream');
      per.push(r.ms);
      e2e.push(r.e2e);
    }
    const total = performance.now() - t0;
    (window as any).__bnStreaming = false;
    const heap1 = (performance as any).memory?.usedJSHeapSize ?? null;
    const timelineNote = document.querySelector('.timeline-note')?.textContent ?? '';
    // the panel shown again after being hidden: the host re-sends the session's latest steps in one reset
    const resetTimes: number[] = [];
    for (let k = 0; k < 3; k++) {
      const rNull = waitFor((m) => m.type === 'rendered' && m.stepIndex === 0);
      send({ type: 'session', session: null });
      await rNull;
      const bufs = Array.from({ length: resetN }, (_, i) => withIndex(pool[i % pool.length], i + 1));
      const w = waitFor((m) => m.type === 'rendered' && m.stepIndex === resetN);
      const tr = performance.now();
      send({ type: 'reset', session: sessionFor(model), steps: bufs, thinned: 0 }, bufs);
      await w;
      resetTimes.push(posted[posted.length - 1].at - tr);
      await nextFrame();
    }
    window.removeEventListener('keydown', onKey, true);
    const summarise = (a: { ms: number; e2e: number; frame: number }[]) => ({
      panelMs: { median: median(a.map((x) => x.ms)), max: Math.max(...a.map((x) => x.ms)) },
      messageToRenderedMs: { median: median(a.map((x) => x.e2e)), max: Math.max(...a.map((x) => x.e2e)) },
      messageToNextFrameMs: { median: median(a.map((x) => x.frame)), max: Math.max(...a.map((x) => x.frame)) },
    });
    return {
      model,
      layers: spec.length,
      channels,
      singles,
      firstStep: summarise(first),
      nextStep: summarise(second),
      resetWithSteps: {
        steps: resetN,
        messageToRenderedMs: { median: median(resetTimes), max: Math.max(...resetTimes) },
      },
      stream: {
        steps: streamN,
        totalMs: Math.round(total),
        perStepPanelMs: { median: median(per), p95: pct(per, 95), max: Math.max(...per) },
        perStepMessageToRenderedMs: { median: median(e2e), p95: pct(e2e, 95), max: Math.max(...e2e) },
        longTasks: { count: longTasks.length, maxMs: longTasks.length ? Math.max(...longTasks) : 0 },
        inputDelayMs: {
          samples: inputDelays.length,
          median: median(inputDelays),
          max: inputDelays.length ? Math.max(...inputDelays) : NaN,
        },
        heapBytes: { before: heap0, after: heap1 },
        timelineNote,
      },
    };
  },
};

(window as any).__bn = bn;

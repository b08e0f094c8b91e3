// Texts and files on which the two step-point finders (and the two instrumentations) are compared:
// test/unit/stepPointFinder.test.ts and test/unit/instrumentEquality.test.ts.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');

/** files under dir (recursively) whose names end with one of exts */
export function filesUnder(dir: string, exts: string[], maxBytes = Infinity): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p, exts, maxBytes));
    else if (exts.some((x) => e.name.endsWith(x)) && !e.name.endsWith('.d.ts') && statSync(p).size <= maxBytes)
      out.push(p);
  }
  return out.sort();
}

/** the step-point cases of stepPoints.test.ts */
export const STEP_POINT_CASES = [
  'model.fit(x, y);\nawait m.fitDataset(ds);\nm.trainOnBatch(x, y);\nconst p = m.predict(x);\nm.predictOnBatch(x);\nm.evaluate(x, y);\nawait m.evaluateDataset(ds);\nlayer.apply(x, { training: true });\nm.execute(x, "out");\na.b().c.predict(x);\nm?.predict(x);\nm[\'fit\'](x, y);\nm.summary();\npredict(x);\n',
  '// model.predict(x)\n/* model.fit(x, y) */\nconst s = "model.fit(x)";\nconst t = \'m.apply(x)\';\nconst u = `model.predict(${"x"}) m.fit()`;\n/**\n * m.evaluate(x)\n */\nconst v = 1; // m.predict(x)\n',
  'console.log(`out ${m.predict(x)}`);',
  'const a = 1;\n  const y = model.predict(\n  x,\n  { batchSize: 2 },\n);\n',
  'm.predict(x), m.apply(x);\nconst z = [m.fit(x), m.predict(x)];',
  'for (let i = 0; i < 3; i++) {\n  m.predict(x);\n}\nwhile (c) m.fit(x, y);\nfunction f() {\n  return m.evaluate(x, y);\n}\nconst g = async () => {\n  await m.fit(x, y);\n};\nclass C { run() { this.m.predict(x); } }\nif (a) m.apply(x); else m.predict(x);',
  '// @step\nconsole.log(1);\n// @step: after the warm-up\nconst a = 2;\n// @step\n\n\nconst far = 3;\nconst b = 4; // @step\nconst c = 5;',
  'const y = (m as tf.LayersModel).predict(x) as tf.Tensor;\nconst h = await m!.fit<number>(x, y);\n',
  'const tf = require("@tensorflow/tfjs");\nmodel.predict(x);\n',
  'h = tf.layers.dense({ units: 4 }).apply(h) as T;\nh = layers.conv2d({ filters: 2 }).apply(h);\nh = new MyLayer({}).apply(h);\nx = tf.layers\n  .batchNormalization({ name: "bn" })\n  .apply(x);\nvoid tf.layers.add().apply([a, b]);\ny = tf.layers.dense({ units: 1 }).apply(x, { training: true });\ny = tf.layers.dense({ units: 1 }).apply(tf.ones([2, 3]));\ny = tf.layers.dense({ units: 1 }).apply(tf.input({ shape: [3] }));\nconst f = backbone.apply(input);\nmodel.fit(x, y);\nmodel.apply(tf.layers.dense({ units: 1 }).apply(x));\ny = tf.layers.dense({ units: 1 })["apply"](x);',
];

/** the forms that are hard for a tokenizer: chains, parentheses, new, generics, ASI, keywords as names */
export const HARD_CASES = [
  'return result\n  .then((r) => r)\n  .catch(() => 1)\n  .finally(() => m.fit(x));',
  'x = this.map((a) => { return a.predict(1); }).filter(Boolean).fit();',
  '(m.predict)(x);\n(m.predict!)(x);\nnew m.predict(x);\nnew M().predict(x);\nnew (m.fit)(x);',
  'let e = this.else\nconst ns = e.predict()\ne = this.else = m.fit(x)',
  'let a\n[a, b] = m.fit(x)\nlet c: number, d = m.predict(1), [e] = m.apply(2)\nconst { f = m.evaluate(3) } = o',
  'if (sch.$async) (validate as V).$async = true\nm.fit(x)',
  'const y: Array<tf.Tensor>\nmodel.predict(x)\nlet z: Map<string, number[]> = new Map()\nz.fit()',
  'const f = (x): number => { return m.predict(x); }\nconst g = <T,>(x: T): T => m.fit(x)',
  'a = b ? m.predict(x) : { fit: () => m.fit(y) };\nc = d ? (e) : m.apply(z);',
  'class A<T> extends B implements C {\n  static x = m.predict(1);\n  #p = 2;\n  static { m.fit(1); }\n  async *gen(): AsyncGenerator<number> { yield m.evaluate(1); }\n  get v(): number { return m.apply(1); }\n  constructor(private readonly q: number) { super(); m.execute(q); }\n}',
  'label: for (const b of m.predict(x)) { if (b) continue label; else break label; }\ndo m.fit(x); while (c)\nswitch (k) { case m.predict(1): m.fit(2); break; default: m.apply(3) }',
  'try { m.fit(x) } catch (e: unknown) { m.predict(e) } finally { m.apply(1) }',
  'export const y = m.predict(x);\nexport default m.fit(x);\nexport function f() { return m.apply(x); }\ndeclare const d: number;\nnamespace N { m.predict(1); }',
  'type T = { a: number; fit(): void };\ninterface I { predict(x: number): number }\nenum E { A = 1 }\nconst o = { predict(x: number) { return m.fit(x); }, async apply() { await m.execute(); } };',
  'x = y\n++z\nm.fit(a)\n[1, 2].forEach((i) => m.predict(i))\n`t${m.apply(1)}`\nm.evaluate(/re[/]/.test(s) ? 1 : 2)',
  'const a = m.fit<{ a: number }>(x), b = m.predict?.(y), c = m?.["evaluate"](z);',
  'export const f: <T extends A>(\n  this: C<T>,\n  s?: S | null,\n) => C<E> = m.fit(x);\nlet p = new Map<string, (x: number) => void>(), q = a < b.fit(c), r = d > (e);\nx = a < b.predict(c), d > (e);',
  '// @step\nif (a) {\n  // @step\n  m.fit(x);\n} // @step\nconst q = 1; /* c */ // @step\n// @step\nconst r = 2;',
  'return fn.apply(this, args);\nf.apply(null, [1]);\ng["apply"](undefined, a);\nh.apply(this);\nlayer.apply(x);\nlayer.apply(thisX);\nm.apply(this.x);\nm.apply(nullish, 1);',
];

/** every example */
export const exampleFiles = (): string[] => filesUnder(join(ROOT, 'examples'), ['.ts', '.js']);

/** the project's own sources and tfjs-layers' JavaScript (~330 files; every method call in them, taken for a step) */
export function sourceFiles(): string[] {
  return [
    ...['examples', 'src', 'webview', 'test', 'scripts', 'bench', 'tsPlugin'].flatMap((d) => {
      try {
        return filesUnder(join(ROOT, d), ['.ts', '.mjs']);
      } catch {
        return [];
      }
    }),
    ...filesUnder(join(ROOT, 'node_modules', '@tensorflow', 'tfjs-layers', 'dist'), ['.js'], 300_000),
  ];
}

/** a step-method test that takes every method for a step method */
export const every = (): boolean => true;

/**
 * Shared by cli.test.ts and engine.test.ts: builds dist/ if needed, runs bn-inspect as a child process,
 * writes fixture scripts into a temporary folder without node_modules, and checks a document against the
 * bn-inspector/v1 contract (docs/headless-contract.md) field by field.
 */
import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'cli.js');
export const WORKER = join(ROOT, 'dist', 'worker.js');
export const EXAMPLES = join(ROOT, 'examples');

/** dist/cli.js and dist/worker.js exist (npm test builds first; a bare `mocha` run builds here) */
export function ensureBuilt(): void {
  if (existsSync(CLI) && existsSync(WORKER)) return;
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export function runCli(args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolvePromise({ code, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

/** A temporary folder of fixture scripts (no node_modules anywhere above it but the system's). */
export class Fixtures {
  readonly dir: string;
  constructor(prefix = 'bn-inspect-test-') {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
  }
  write(name: string, text: string): string {
    const p = join(this.dir, name);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
    return p;
  }
  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** 1-based line of the first line of `text` containing `needle` */
export function lineOf(text: string, needle: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  assert.ok(i >= 0, `fixture has a line with ${JSON.stringify(needle)}`);
  return i + 1;
}

// ---------------------------------------------------------------------------------------------
// the contract's schema, checked strictly

type Json = any;

const WARNING_CODES = new Set(['TRAINABLE_FALSE_STILL_UPDATES', 'BATCH_OF_ONE', 'NON_FINITE', 'STALE_MOVING_STATS']);

function isNum(v: Json): boolean {
  return (typeof v === 'number' && Number.isFinite(v)) || v === 'NaN' || v === 'Infinity' || v === '-Infinity';
}

function checkVector(v: Json, len: number, where: string, nullable = false): void {
  if (v === null && nullable) return;
  assert.ok(Array.isArray(v), `${where} is an array`);
  assert.equal(v.length, len, `${where} has one entry per channel`);
  for (const x of v)
    assert.ok(isNum(x), `${where} holds JSON numbers or "NaN"/"Infinity"/"-Infinity", got ${JSON.stringify(x)}`);
}

/** under keras / tf-keras a frozen layer called with training = true normalises with its moving statistics */
function expectedStats(training: boolean, trainable: boolean, semantics: string): string {
  if (!training) return 'moving';
  return (semantics === 'keras' || semantics === 'tf-keras') && !trainable ? 'moving' : 'batch';
}

function checkCall(c: Json, channels: number, where: string, trainable = true, semantics = 'tfjs'): void {
  if (c === null) return;
  assert.equal(typeof c, 'object', `${where} is an object or null`);
  assert.equal(typeof c.training, 'boolean', `${where}.training`);
  assert.equal(
    c.statsUsed,
    expectedStats(c.training, trainable, semantics),
    `${where}.statsUsed follows training (and, under ${semantics}, trainable)`,
  );
  assert.ok(
    Array.isArray(c.inputShape) && c.inputShape.every((d: Json) => Number.isInteger(d) && d >= 0),
    `${where}.inputShape`,
  );
  checkVector(c.batchMean, channels, `${where}.batchMean`);
  checkVector(c.batchVariance, channels, `${where}.batchVariance`);
}

/** a layer's fields, in the contract's order */
const LAYER_FIELDS = [
  'name',
  'path',
  'source',
  'axis',
  'channels',
  'momentum',
  'epsilon',
  'trainable',
  'calls',
  'updates',
  'movingMean',
  'movingVariance',
  'gamma',
  'beta',
  'movingUpdated',
  'lastCall',
  'lastTrainingCall',
  'warnings',
];

export function checkLayer(l: Json, where: string, semantics = 'tfjs'): void {
  assert.deepEqual(Object.keys(l), LAYER_FIELDS, `${where}: the contract's fields, in its order`);
  assert.equal(typeof l.name, 'string', `${where}.name`);
  assert.ok(
    Array.isArray(l.path) && l.path.length >= 1 && l.path.every((p: Json) => typeof p === 'string'),
    `${where}.path`,
  );
  assert.equal(l.path[l.path.length - 1], l.name, `${where}.path ends with the layer's name`);
  if (l.source !== null) {
    assert.deepEqual(Object.keys(l.source), ['file', 'line', 'column'], `${where}.source: file, line, column`);
    assert.ok(typeof l.source.file === 'string' && isAbsolute(l.source.file), `${where}.source.file is absolute`);
    assert.ok(Number.isInteger(l.source.line) && l.source.line >= 1, `${where}.source.line`);
    assert.ok(Number.isInteger(l.source.column) && l.source.column >= 1, `${where}.source.column`);
  }
  assert.ok(Number.isInteger(l.axis), `${where}.axis`);
  assert.ok(Number.isInteger(l.channels) && l.channels > 0, `${where}.channels`);
  assert.ok(isNum(l.momentum), `${where}.momentum`);
  assert.ok(isNum(l.epsilon), `${where}.epsilon`);
  assert.equal(typeof l.trainable, 'boolean', `${where}.trainable`);
  assert.ok(Number.isInteger(l.calls) && l.calls >= 0, `${where}.calls`);
  assert.ok(Number.isInteger(l.updates) && l.updates >= 0 && l.updates <= l.calls, `${where}.updates (0..calls)`);
  checkVector(l.movingMean, l.channels, `${where}.movingMean`);
  checkVector(l.movingVariance, l.channels, `${where}.movingVariance`);
  checkVector(l.gamma, l.channels, `${where}.gamma`, true);
  checkVector(l.beta, l.channels, `${where}.beta`, true);
  assert.equal(typeof l.movingUpdated, 'boolean', `${where}.movingUpdated`);
  checkCall(l.lastCall, l.channels, `${where}.lastCall`, l.trainable, semantics);
  checkCall(l.lastTrainingCall, l.channels, `${where}.lastTrainingCall`, l.trainable, semantics);
  if (l.lastTrainingCall) assert.equal(l.lastTrainingCall.training, true, `${where}.lastTrainingCall.training`);
  assert.ok(Array.isArray(l.warnings), `${where}.warnings`);
  const codes = new Set<string>();
  for (const w of l.warnings) {
    assert.ok(WARNING_CODES.has(w.code), `${where}: known warning code ${w.code}`);
    assert.equal(typeof w.message, 'string');
    assert.ok(w.message.length > 0);
    assert.ok(!codes.has(w.code), `${where}: warning ${w.code} once per step`);
    codes.add(w.code);
  }
}

/** the `end` values bn-inspect writes (docs/headless-contract.md) */
const END_KINDS = new Set(['done', 'to', 'maxSteps', 'error', 'timeout', 'crashed', 'oom']);

/** Checks a whole bn-inspector/v1 document; returns it. */
export function checkDocument(doc: Json, script: string, semantics = 'tfjs'): Json {
  assert.equal(doc.schema, 'bn-inspector/v1');
  assert.equal(doc.script, script, 'script as given on the command line');
  assert.equal(doc.tfjs, '4.22.0');
  assert.ok(doc.backend === 'wasm' || doc.backend === 'cpu', 'backend');
  assert.equal(doc.semantics, semantics, `semantics: the run's (${semantics})`);
  assert.ok(END_KINDS.has(doc.end), `end is one of bn-inspect's ends, got ${JSON.stringify(doc.end)}`);
  assert.ok(Array.isArray(doc.steps), 'steps');
  assert.equal(typeof doc.output, 'string', 'output');
  const hits = new Map<string, number>();
  doc.steps.forEach((s: Json, i: number) => {
    const where = `steps[${i}]`;
    assert.equal(s.index, i + 1, `${where}.index is 1, 2, 3 … in order`);
    assert.ok(Number.isInteger(s.line) && s.line >= 1, `${where}.line`);
    assert.ok(Number.isInteger(s.hit) && s.hit >= 1, `${where}.hit`);
    const key = `${s.file}:${s.line}:${s.column}`;
    assert.equal(s.hit, (hits.get(key) ?? 0) + 1, `${where}.hit counts the reaches of its step point`);
    hits.set(key, s.hit);
    assert.ok(Array.isArray(s.layers), `${where}.layers`);
    s.layers.forEach((l: Json, j: number) => checkLayer(l, `${where}.layers[${j}]`, semantics));
  });
  if (doc.error !== null) {
    assert.equal(typeof doc.error.message, 'string', 'error.message');
    assert.ok(doc.error.line === null || (Number.isInteger(doc.error.line) && doc.error.line >= 1), 'error.line');
    assert.ok(
      doc.error.column === null || (Number.isInteger(doc.error.column) && doc.error.column >= 1),
      'error.column',
    );
    assert.equal(typeof doc.error.stack, 'string', 'error.stack');
    assert.ok(doc.error.file === null || typeof doc.error.file === 'string', 'error.file');
    assert.ok(['compile', 'run', 'timeout', 'oom', 'crash', 'stopped'].includes(doc.error.kind), 'error.kind');
  }
  assert.equal(doc.end === 'done' || doc.end === 'to' || doc.end === 'maxSteps', doc.error === null, 'error iff end');
  return doc;
}

/** Parses stdout as exactly one JSON document and checks it (a run under `semantics`, default tfjs). */
export function parseDocument(r: CliRun, script: string, semantics = 'tfjs'): Json {
  let doc: Json;
  try {
    doc = JSON.parse(r.stdout);
  } catch (e) {
    assert.fail(
      `stdout is one JSON document: ${(e as Error).message}\n--- stdout ---\n${r.stdout.slice(0, 2000)}\n--- stderr ---\n${r.stderr}`,
    );
  }
  return checkDocument(doc, script, semantics);
}

/** finite numbers of a JSON vector */
export function nums(v: Json[]): number[] {
  return v.map((x) => (typeof x === 'number' ? x : Number(x)));
}

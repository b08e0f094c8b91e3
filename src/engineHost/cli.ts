/**
 * bn-inspect: the BatchNorm Inspector engine, headless (see the contract, docs/headless-contract.md).
 *
 *   node dist/cli.js run SCRIPT [--json] [--to LINE] [--backend wasm|cpu] [--max-steps N] [--timeout-ms N]
 *
 * Exit status: 0 ran to its end (or to --to / --max-steps); 1 the script threw or did not compile;
 * 2 bad arguments; 3 --timeout-ms expired.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { parseArgs as parseNodeArgs } from 'node:util';
import { version as PACKAGE_VERSION } from '../../package.json';
import { EngineSession, type EngineRunResult } from './engineSession';
import { buildRunDocument, type RunEnd } from './runDocument';
import { formatStep } from './textReport';
import { SCHEMA, type Backend, type ScriptError } from '../shared/protocol';
import { unpackStep } from '../shared/snapshotCodec';

const USAGE = `bn-inspect: run a tfjs script and show every BatchNormalization layer's state at each step point

Usage:
  bn-inspect run SCRIPT [--json] [--to LINE] [--backend wasm|cpu] [--max-steps N] [--timeout-ms N]
  bn-inspect --help | --version

  SCRIPT            a .ts, .mts, .cts, .js, .mjs or .cjs file that imports @tensorflow/tfjs
                    (the engine provides tfjs: the script's folder needs no node_modules)
  --json            print exactly one JSON document (schema ${SCHEMA}) on stdout
  --to LINE         stop at the first step point at or after line LINE of SCRIPT, once reached
  --backend B       wasm (default) or cpu
  --max-steps N     stop after N steps
  --timeout-ms N    stop the script after N ms of running (engine start-up not counted; exit status 3)

A step point is a statement calling fit, fitDataset, trainOnBatch, predict, predictOnBatch, evaluate,
evaluateDataset, apply or execute, or a statement right after a "// @step" comment.

Exit status: 0 the script ran to its end (or to --to / --max-steps), 1 it threw or did not compile,
2 bad arguments, 3 --timeout-ms expired.
`;

const SCRIPT_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs', '.tsx', '.jsx']);

export interface CliArgs {
  script: string;
  json: boolean;
  to: number | null;
  backend: Backend;
  maxSteps: number | null;
  timeoutMs: number | null;
}

class UsageError extends Error {}

function positiveInt(flag: string, v: string | undefined): number {
  if (v === undefined || !/^\d+$/.test(v) || Number(v) < 1)
    throw new UsageError(
      `${flag} needs a positive whole number, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`,
    );
  return Number(v);
}

const OPTIONS = {
  json: { type: 'boolean' },
  to: { type: 'string' },
  backend: { type: 'string' },
  'max-steps': { type: 'string' },
  'timeout-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

/**
 * `node:util` parseArgs, not strict: its tokens are checked here so that every mistake gets bn-inspect's own
 * message (and exit status 2) rather than Node's.
 */
export function parseArgs(argv: string[]): CliArgs | 'help' | 'version' {
  const { values, positionals, tokens } = parseNodeArgs({
    args: argv,
    options: OPTIONS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  if (values.help === true) return 'help';
  if (values.version === true) return 'version';
  const a: CliArgs = { script: '', json: false, to: null, backend: 'wasm', maxSteps: null, timeoutMs: null };
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    const value = typeof t.value === 'string' ? t.value : undefined;
    switch (t.name) {
      case 'json':
        if (t.inlineValue) throw new UsageError('--json takes no value');
        a.json = true;
        break;
      case 'to':
        a.to = positiveInt('--to', value);
        break;
      case 'backend':
        if (value !== 'wasm' && value !== 'cpu')
          throw new UsageError(`--backend must be wasm or cpu, got ${JSON.stringify(value ?? '')}`);
        a.backend = value;
        break;
      case 'max-steps':
        a.maxSteps = positiveInt('--max-steps', value);
        break;
      case 'timeout-ms':
        a.timeoutMs = positiveInt('--timeout-ms', value);
        break;
      default:
        throw new UsageError(`unknown option ${t.rawName}`);
    }
  }
  const [command, ...rest] = positionals;
  if (command === undefined) throw new UsageError('missing command: bn-inspect run SCRIPT');
  if (command !== 'run') throw new UsageError(`unknown command ${JSON.stringify(command)} (the command is "run")`);
  if (rest.length === 0) throw new UsageError('missing SCRIPT: bn-inspect run SCRIPT');
  if (rest.length > 1) throw new UsageError(`one SCRIPT only, got ${rest.map((p) => JSON.stringify(p)).join(' ')}`);
  a.script = rest[0];
  return a;
}

/** The script must be a readable file of a kind the engine compiles. */
function checkScript(script: string): string {
  const abs = resolve(script);
  let st;
  try {
    st = statSync(abs);
  } catch {
    throw new UsageError(`${script}: no such file`);
  }
  if (!st.isFile()) throw new UsageError(`${script}: not a file`);
  try {
    readFileSync(abs);
  } catch (e) {
    throw new UsageError(`${script}: cannot read it (${(e as Error).message})`);
  }
  if (!SCRIPT_EXTENSIONS.has(extname(abs).toLowerCase()))
    throw new UsageError(`${script}: not a script (expected .ts, .mts, .cts, .js, .mjs or .cjs)`);
  // the engine knows a file read from disk by its real path (links followed): --to LINE must name it so
  return realpathSync(abs);
}

/** the ends bn-inspect can have (an exported file can say more, see runDocument.ts) */
export type EndKind = Extract<RunEnd, 'done' | 'to' | 'maxSteps' | 'error' | 'timeout' | 'crashed' | 'oom'>;

export function exitCodeFor(end: EndKind): number {
  if (end === 'done' || end === 'to' || end === 'maxSteps') return 0;
  if (end === 'timeout') return 3;
  return 1;
}

function describeError(e: ScriptError, script: string): string {
  const where = e.line != null ? `${e.file ?? script}:${e.line}${e.column != null ? ':' + e.column : ''}: ` : '';
  const kind =
    e.kind === 'compile'
      ? 'compile error'
      : e.kind === 'timeout'
        ? 'timeout'
        : e.kind === 'oom'
          ? 'out of memory'
          : e.kind === 'crash'
            ? 'engine crash'
            : 'error';
  let s = `bn-inspect: ${kind}: ${where}${e.message}\n`;
  if (e.stack && e.kind !== 'timeout') s += e.stack.replace(/^/gm, '  ') + '\n';
  return s;
}

export async function main(argv: string[]): Promise<number> {
  let args: CliArgs;
  let abs: string;
  try {
    const p = parseArgs(argv);
    if (p === 'help') {
      process.stdout.write(USAGE);
      return 0;
    }
    if (p === 'version') {
      process.stdout.write(`bn-inspect ${PACKAGE_VERSION} (BatchNorm Inspector), schema ${SCHEMA}\n`);
      return 0;
    }
    args = p;
    abs = checkScript(args.script);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`bn-inspect: ${e.message}\nRun "bn-inspect --help" for usage.\n`);
      return 2;
    }
    throw e;
  }

  const session = new EngineSession({
    scriptPath: abs,
    backend: args.backend,
    pause: args.to !== null ? { kind: 'line', file: abs, line: args.to } : { kind: 'none' },
    timeoutMs: args.timeoutMs ?? undefined,
    maxSteps: args.maxSteps ?? undefined,
  });
  let reachedTo = false;
  const cwd = process.cwd();
  session.on('step', (step, paused) => {
    if (!args.json) process.stdout.write(formatStep(unpackStep(step.buffer, step.header), { cwd }));
    if (paused && args.to !== null) {
      reachedTo = true;
      void session.stop();
    }
  });
  if (!args.json) session.on('console', (text) => process.stdout.write(text));
  // Ctrl-C: end the worker, report what was recorded
  const onSignal = () => void session.stop();
  process.once('SIGINT', onSignal);
  const result: EngineRunResult = await session.run();
  process.removeListener('SIGINT', onSignal);

  let end: EndKind;
  switch (result.reason) {
    case 'stopped':
      end = reachedTo ? 'to' : 'error';
      break;
    case 'maxSteps':
      end = 'maxSteps';
      break;
    case 'done':
    case 'error':
    case 'timeout':
    case 'crashed':
    case 'oom':
      end = result.reason;
      break;
  }
  let error = result.error;
  if (result.reason === 'stopped' && !reachedTo)
    error = { kind: 'stopped', message: 'interrupted', line: null, column: null, stack: '' };

  if (args.json) {
    const doc = buildRunDocument({
      script: args.script,
      tfjs: result.tfjs,
      backend: result.backend,
      steps: result.steps.map((s) => s.buffer),
      output: result.output,
      error,
      end,
    });
    process.stdout.write(JSON.stringify(doc) + '\n');
  } else {
    const n = result.steps.length;
    const summary =
      end === 'to'
        ? `stopped at line ${result.steps.at(-1)?.header.line} (--to ${args.to})`
        : end === 'maxSteps'
          ? `stopped after ${n} steps (--max-steps)`
          : end === 'done'
            ? 'the script ran to its end'
            : end === 'timeout'
              ? 'timed out'
              : 'the script failed';
    process.stdout.write(
      `${summary}: ${n} step${n === 1 ? '' : 's'} · tfjs ${result.tfjs ?? '?'} · backend ${result.backend}\n`,
    );
  }
  if (error) process.stderr.write(describeError(error, args.script));
  else if (end === 'maxSteps') process.stderr.write(`bn-inspect: stopped after ${args.maxSteps} steps (--max-steps)\n`);
  return exitCodeFor(end);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`bn-inspect: internal error: ${(e as Error)?.stack ?? e}\n`);
      process.exitCode = 1;
    },
  );
}

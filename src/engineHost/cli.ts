/**
 * bn-inspect: the BatchNorm Inspector engine, headless (see the contract, docs/headless-contract.md).
 *
 *   node dist/cli.js run SCRIPT [--json] [--to LINE] [--backend wasm|cpu] [--max-steps N] [--timeout-ms N]
 *
 * Exit status: 0 ran to its end (or to --to / --max-steps); 1 the script threw or did not compile;
 * 2 bad arguments; 3 --timeout-ms expired.
 */
import { readFileSync, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { EngineSession, type EngineRunResult } from './engineSession';
import { formatStep } from './textReport';
import { SCHEMA, type Backend, type ScriptError } from '../shared/protocol';
import { stepToJson } from '../shared/snapshotCodec';

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

export function parseArgs(argv: string[]): CliArgs | 'help' | 'version' {
  if (argv.includes('--help') || argv.includes('-h')) return 'help';
  if (argv.length === 1 && argv[0] === '--version') return 'version';
  const [command, ...rest] = argv;
  if (command === undefined) throw new UsageError('missing command: bn-inspect run SCRIPT');
  if (command !== 'run') throw new UsageError(`unknown command ${JSON.stringify(command)} (the command is "run")`);
  const a: CliArgs = { script: '', json: false, to: null, backend: 'wasm', maxSteps: null, timeoutMs: null };
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    let arg = rest[i];
    let value: string | undefined;
    if (arg.startsWith('--') && arg.includes('=')) {
      value = arg.slice(arg.indexOf('=') + 1);
      arg = arg.slice(0, arg.indexOf('='));
    }
    const takeValue = () => (value !== undefined ? value : rest[++i]);
    switch (arg) {
      case '--json':
        if (value !== undefined) throw new UsageError('--json takes no value');
        a.json = true;
        break;
      case '--to':
        a.to = positiveInt('--to', takeValue());
        break;
      case '--backend': {
        const b = takeValue();
        if (b !== 'wasm' && b !== 'cpu')
          throw new UsageError(`--backend must be wasm or cpu, got ${JSON.stringify(b ?? '')}`);
        a.backend = b;
        break;
      }
      case '--max-steps':
        a.maxSteps = positiveInt('--max-steps', takeValue());
        break;
      case '--timeout-ms':
        a.timeoutMs = positiveInt('--timeout-ms', takeValue());
        break;
      default:
        if (arg.startsWith('-') && arg !== '-') throw new UsageError(`unknown option ${arg}`);
        positional.push(arg);
    }
  }
  if (positional.length === 0) throw new UsageError('missing SCRIPT: bn-inspect run SCRIPT');
  if (positional.length > 1)
    throw new UsageError(`one SCRIPT only, got ${positional.map((p) => JSON.stringify(p)).join(' ')}`);
  a.script = positional[0];
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
  return abs;
}

export type EndKind = 'done' | 'to' | 'maxSteps' | 'error' | 'timeout' | 'crashed' | 'oom';

export function exitCodeFor(end: EndKind): number {
  if (end === 'done' || end === 'to' || end === 'maxSteps') return 0;
  if (end === 'timeout') return 3;
  return 1;
}

function errorJson(e: ScriptError | null) {
  if (!e) return null;
  return {
    message: e.message,
    line: e.line,
    column: e.column,
    stack: e.stack,
    file: e.file ?? null,
    kind: e.kind ?? 'run',
  };
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
      process.stdout.write('bn-inspect (BatchNorm Inspector), schema ' + SCHEMA + '\n');
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
    if (!args.json) process.stdout.write(formatStep(step, { cwd }));
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
    const doc = {
      schema: SCHEMA,
      script: args.script,
      tfjs: result.tfjs,
      backend: result.backend,
      steps: result.steps.map(stepToJson),
      output: result.output,
      error: errorJson(error),
      // additive: how the run ended
      end,
    };
    process.stdout.write(JSON.stringify(doc) + '\n');
  } else {
    const n = result.steps.length;
    const summary =
      end === 'to'
        ? `stopped at line ${result.steps.at(-1)?.line} (--to ${args.to})`
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

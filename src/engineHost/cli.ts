/**
 * bn-inspect: the BatchNorm Inspector engine, headless (see the contract, docs/headless-contract.md).
 *
 *   node dist/cli.js run SCRIPT [--json | --compact | --full] [--to LINE] [--backend wasm|cpu] [--max-steps N] [--timeout-ms N]
 *
 * Exit status: 0 ran to its end (or to --to / --max-steps); 1 the script threw or did not compile;
 * 2 bad arguments; 3 --timeout-ms expired. The arguments are cliArgs.ts; the document runDocument.ts.
 */
import { version as PACKAGE_VERSION } from '../../package.json';
import { USAGE, UsageError, checkScript, parseArgs, type CliArgs } from './cliArgs';
import { EngineSession, type EngineRunResult } from './engineSession';
import { buildRunDocument, type RunEnd } from './runDocument';
import { formatStep } from './textReport';
import { SCHEMA, type ScriptError } from '../shared/protocol';
import { unpackStep } from '../shared/snapshotCodec';

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
    if (!args.json)
      process.stdout.write(formatStep(unpackStep(step.buffer, step.header), { cwd, layout: args.layout }));
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

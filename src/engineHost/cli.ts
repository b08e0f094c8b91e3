/**
 * bn-inspect: the BatchNorm Inspector engine, headless (see the contract, docs/headless-contract.md).
 *
 *   node dist/cli.js run SCRIPT [--semantics S] [--json | --compact | --full] [--to LINE] [--backend wasm|cpu]
 *                    [--max-steps N] [--timeout-ms N]
 *   node dist/cli.js compare SCRIPT [--semantics A,B] [--json | --compact | --full] [...the same limits]
 *
 * Exit status: 0 ran to its end (or to --to / --max-steps); 1 the script threw or did not compile;
 * 2 bad arguments; 3 --timeout-ms expired. The arguments are cliArgs.ts; one run headlessRun.ts, its document
 * runDocument.ts and text textReport.ts; compare's two runs compareRun.ts, document compareDocument.ts, text
 * compareReport.ts.
 */
import { version as PACKAGE_VERSION } from '../../package.json';
import { USAGE, UsageError, checkScript, parseArgs, type CompareArgs, type RunArgs } from './cliArgs';
import { buildCompareDocument, compareStep, summarize, type StepPairJson } from './compareDocument';
import { formatCompareSummary, formatStepPair } from './compareReport';
import { compareExitCode, startCompare } from './compareRun';
import { exitCodeFor, startHeadlessRun, type HeadlessResult } from './headlessRun';
import { errorToJson, runDocumentChunks } from './runDocument';
import { escapeControl } from './terminalText';
import { formatStep } from './textReport';
import { SCHEMA, type ScriptError, type Semantics } from '../shared/protocol';
import { SEMANTICS_LABEL } from '../shared/semantics';
import { unpackStep } from '../shared/snapshotCodec';

export { exitCodeFor, type EndKind } from './headlessRun';

/**
 * Ctrl-C, SIGTERM (a CI runner's cancel, `timeout`), SIGHUP (the terminal closed): end the run and report what was
 * recorded, as the contract says, instead of dying without a document. A second signal is left to its default.
 */
function onEndSignals(stop: () => void): () => void {
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const handler = () => {
    for (const s of signals) process.removeListener(s, handler);
    stop();
  };
  for (const s of signals) process.once(s, handler);
  return () => {
    for (const s of signals) process.removeListener(s, handler);
  };
}

/** writes to stdout in order, waiting for the pipe to drain whenever it asks to (a 1 GB document stays bounded) */
async function writeChunks(chunks: Iterable<string>): Promise<void> {
  for (const c of chunks)
    if (!process.stdout.write(c)) await new Promise<void>((r) => process.stdout.once('drain', () => r()));
}

function describeError(e: ScriptError, script: string, run = ''): string {
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
  let s = `bn-inspect: ${run}${kind}: ${where}${e.message}\n`;
  if (e.stack && e.kind !== 'timeout') s += e.stack.replace(/^/gm, '  ') + '\n';
  return escapeControl(s);
}

export async function main(argv: string[]): Promise<number> {
  let args: RunArgs | CompareArgs;
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
  return args.command === 'run' ? runCommand(args, abs) : compareCommand(args, abs);
}

function limits(args: RunArgs | CompareArgs, abs: string) {
  return { scriptPath: abs, backend: args.backend, to: args.to, maxSteps: args.maxSteps, timeoutMs: args.timeoutMs };
}

async function runCommand(args: RunArgs, abs: string): Promise<number> {
  const cwd = process.cwd();
  const run = startHeadlessRun({ ...limits(args, abs), semantics: args.semantics }, (step) => {
    if (!args.json)
      process.stdout.write(
        escapeControl(
          formatStep(unpackStep(step.buffer, step.header), { cwd, layout: args.layout, semantics: args.semantics }),
        ),
      );
  });
  if (!args.json) run.session.on('console', (text) => process.stdout.write(text));
  // Ctrl-C: end the worker, report what was recorded
  const unlisten = onEndSignals(() => void run.session.stop());
  const { result, end, error } = await run.done;
  unlisten();

  if (args.json) {
    // piece by piece: a document larger than one string is streamed, not refused
    await writeChunks(
      runDocumentChunks({
        script: args.script,
        tfjs: result.tfjs,
        backend: result.backend,
        semantics: result.semantics,
        steps: result.steps.map((s) => s.buffer),
        output: result.output,
        error,
        end,
      }),
    );
    await writeChunks(['\n']);
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
      `${summary}: ${n} step${n === 1 ? '' : 's'} · ${SEMANTICS_LABEL[result.semantics]} semantics · ` +
        `tfjs ${result.tfjs ?? '?'} · backend ${result.backend}\n`,
    );
  }
  if (error) process.stderr.write(describeError(error, args.script));
  else if (end === 'maxSteps') process.stderr.write(`bn-inspect: stopped after ${args.maxSteps} steps (--max-steps)\n`);
  return exitCodeFor(end);
}

async function compareCommand(args: CompareArgs, abs: string): Promise<number> {
  const cwd = process.cwd();
  const semantics = args.semantics;
  const text: StepPairJson[] = [];
  // text: each pair as soon as both runs took the step; a one-sided step (the other run ended) once both ended
  const running = startCompare({ ...limits(args, abs), semantics }, (index, a, b, ends) => {
    if (args.json) return;
    const pair = compareStep(
      index,
      a && unpackStep(a.buffer, a.header),
      b && unpackStep(b.buffer, b.header),
      semantics,
      ends,
    );
    text.push(pair);
    process.stdout.write(escapeControl(formatStepPair(pair, { semantics, cwd, layout: args.layout })));
  });
  const unlisten = onEndSignals(() => running.stop());
  const runs = await running.done;
  unlisten();
  const side = (h: HeadlessResult, s: Semantics) => ({
    semantics: s,
    tfjs: h.result.tfjs,
    backend: h.result.backend,
    steps: h.result.steps.map((x) => x.buffer),
    output: h.result.output,
    error: h.error,
    end: h.end,
  });
  const a = side(runs.a, semantics[0]);
  const b = side(runs.b, semantics[1]);
  if (args.json) {
    const doc = buildCompareDocument(args.script, a, b);
    process.stdout.write(JSON.stringify(doc) + '\n');
  } else {
    const summary = summarize(text);
    const runJson = (x: typeof a) => ({
      semantics: x.semantics,
      end: x.end,
      error: errorToJson(x.error),
      steps: x.steps.length,
      output: x.output,
    });
    process.stdout.write(
      formatCompareSummary([runJson(a), runJson(b)], summary, { tfjs: a.tfjs ?? b.tfjs, backend: a.backend }),
    );
  }
  for (const [h, s] of [
    [runs.a, semantics[0]],
    [runs.b, semantics[1]],
  ] as const) {
    if (h.error) process.stderr.write(describeError(h.error, args.script, `${SEMANTICS_LABEL[s]} run: `));
    else if (h.end === 'maxSteps')
      process.stderr.write(
        `bn-inspect: ${SEMANTICS_LABEL[s]} run: stopped after ${args.maxSteps} steps (--max-steps)\n`,
      );
  }
  return compareExitCode(runs);
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

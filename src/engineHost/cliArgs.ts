/**
 * bn-inspect's command line: its usage text, the arguments of its two commands (`run`, `compare`; node:util
 * parseArgs, with bn-inspect's own messages), and the check that SCRIPT is a script the engine can run. Every
 * mistake is a UsageError (exit 2). One unit of ~260 lines, most of it the usage text: the text and the parser
 * name the same options and are kept side by side.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { parseArgs as parseNodeArgs } from 'node:util';
import { SCHEMA, type Backend, type Semantics } from '../shared/protocol';
import { SEMANTICS, SEMANTICS_DETAIL, isSemantics } from '../shared/semantics';
import { COMPARE_SCHEMA } from './compareDocument';
import { COMPACT_ABOVE, type TextLayout } from './textReport';

/** `compare` without --semantics */
export const DEFAULT_COMPARE: readonly [Semantics, Semantics] = ['tfjs', 'keras'];

const semanticsLines = SEMANTICS.map((s) => wrapUsage(`${s.padEnd(9)}${SEMANTICS_DETAIL[s]}`, 20, 118)).join('\n');

/** one usage entry: `text` at column `indent`, broken at spaces before `width` */
function wrapUsage(text: string, indent: number, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && indent + line.length + 1 + word.length > width) {
      lines.push(line);
      line = ' '.repeat(9) + word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines.map((l) => ' '.repeat(indent) + l).join('\n');
}

export const USAGE = `bn-inspect: run a tfjs script and show every BatchNormalization layer's state at each step point

Usage:
  bn-inspect run SCRIPT [--semantics S] [--json | --compact | --full] [--to LINE] [--backend wasm|cpu]
                    [--max-steps N] [--timeout-ms N] [--memory-mb N]
  bn-inspect compare SCRIPT [--semantics A,B] [--json | --compact | --full] [--to LINE] [--backend wasm|cpu]
                    [--max-steps N] [--timeout-ms N] [--memory-mb N]
  bn-inspect --help | --version

  run               run SCRIPT once and show each step's BatchNormalization layers
  compare           run SCRIPT twice, under semantics A and under B (default ${DEFAULT_COMPARE.join(',')}), with the same
                    limits, and show each step's layers side by side: which differ, by how much, and why

  SCRIPT            a .ts, .mts, .cts, .js, .mjs or .cjs file that imports @tensorflow/tfjs
                    (the engine provides tfjs: the script's folder needs no node_modules)
  --semantics S     whose BatchNormalization rules every layer follows (run: default tfjs; compare: two of them,
                    A,B, different):
${semanticsLines}
  --json            print exactly one JSON document on stdout (run: schema ${SCHEMA}; compare: schema
                    ${COMPARE_SCHEMA})
  --compact         text output: one line per BatchNormalization layer (name, channels, trainable or frozen,
                    calls, updates, moving stats changed, last call's mode, warning codes; compare: the largest
                    difference of each vector, each reason once below)
  --full            text output: a block per layer (flags, a few channels of each vector; compare: the reason and
                    the largest difference of each vector)
                    Default: --full for a step with up to ${COMPACT_ABOVE} layers, --compact above (a block is
                    ~12 lines: a 50-layer model would print ~600 lines per step). Either way each warning is
                    explained once per step, after the layers, with the list of layers it concerns.
  --to LINE         stop at the first step point at or after line LINE of SCRIPT, once reached
  --backend B       wasm (default) or cpu
  --max-steps N     stop after N steps
  --timeout-ms N    stop the script after N ms of running (engine start-up not counted; exit status 3)
  --memory-mb N     memory budget of the script's process (its resident memory: JS heap, tensors, wasm memory;
                    default 4096); over it the run ends out of memory

A step point is a statement calling fit, fitDataset, trainOnBatch, predict, predictOnBatch, evaluate,
evaluateDataset, apply or execute, or a statement right after a "// @step" comment.

Exit status: 0 the script ran to its end (or to --to / --max-steps), 1 it threw or did not compile,
2 bad arguments, 3 --timeout-ms expired. compare: 1 when either run threw, else 3 when either timed out.
`;

const SCRIPT_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs', '.tsx', '.jsx']);

interface CommonArgs {
  script: string;
  json: boolean;
  to: number | null;
  backend: Backend;
  maxSteps: number | null;
  timeoutMs: number | null;
  /** memory budget of the script's process in MB (--memory-mb), null: the engine's default (4096) */
  memoryMb: number | null;
  /** text output's layout (without --json) */
  layout: TextLayout;
}

export interface RunArgs extends CommonArgs {
  command: 'run';
  semantics: Semantics;
}

export interface CompareArgs extends CommonArgs {
  command: 'compare';
  /** two different semantics: run a, run b */
  semantics: readonly [Semantics, Semantics];
}

export type CliArgs = RunArgs | CompareArgs;

/** a mistake on the command line: exit status 2 */
export class UsageError extends Error {}

/** the longest timer Node keeps (2^31 − 1 ms) */
export const MAX_TIMEOUT_MS = 2_147_483_647;

function positiveInt(flag: string, v: string | undefined): number {
  if (v === undefined || !/^\d+$/.test(v) || Number(v) < 1)
    throw new UsageError(
      `${flag} needs a positive whole number, got ${v === undefined ? 'nothing' : JSON.stringify(v)}`,
    );
  return Number(v);
}

const OPTIONS = {
  json: { type: 'boolean' },
  compact: { type: 'boolean' },
  full: { type: 'boolean' },
  to: { type: 'string' },
  backend: { type: 'string' },
  'max-steps': { type: 'string' },
  'timeout-ms': { type: 'string' },
  'memory-mb': { type: 'string' },
  semantics: { type: 'string' },
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
  let semantics: string | undefined;
  const a: CommonArgs = {
    script: '',
    json: false,
    to: null,
    backend: 'wasm',
    maxSteps: null,
    timeoutMs: null,
    memoryMb: null,
    layout: 'auto',
  };
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    const value = typeof t.value === 'string' ? t.value : undefined;
    switch (t.name) {
      case 'json':
        if (t.inlineValue) throw new UsageError('--json takes no value');
        a.json = true;
        break;
      case 'compact':
      case 'full':
        if (t.inlineValue) throw new UsageError(`--${t.name} takes no value`);
        if (a.layout !== 'auto' && a.layout !== t.name) throw new UsageError('--compact and --full: one or the other');
        a.layout = t.name;
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
      case 'memory-mb':
        a.memoryMb = positiveInt('--memory-mb', value);
        if (a.memoryMb < 128 || a.memoryMb > 1_048_576)
          throw new UsageError(`--memory-mb must be between 128 and 1048576, got ${value}`);
        break;
      case 'timeout-ms':
        a.timeoutMs = positiveInt('--timeout-ms', value);
        // Node's timers hold at most 2^31 − 1 ms: a longer one would fire at once
        if (a.timeoutMs > MAX_TIMEOUT_MS)
          throw new UsageError(`--timeout-ms must be at most ${MAX_TIMEOUT_MS} (about 24.8 days), got ${value}`);
        break;
      case 'semantics':
        if (value === undefined) throw new UsageError(`--semantics needs a value: ${SEMANTICS.join(', ')}`);
        semantics = value;
        break;
      default:
        throw new UsageError(`unknown option ${t.rawName}`);
    }
  }
  if (a.json && a.layout !== 'auto')
    throw new UsageError(`--${a.layout} is a layout of the text output: not with --json`);
  const [command, ...rest] = positionals;
  if (command === undefined)
    throw new UsageError('missing command: bn-inspect run SCRIPT, or bn-inspect compare SCRIPT');
  if (command !== 'run' && command !== 'compare')
    throw new UsageError(`unknown command ${JSON.stringify(command)} (the commands are "run" and "compare")`);
  if (rest.length === 0) throw new UsageError(`missing SCRIPT: bn-inspect ${command} SCRIPT`);
  if (rest.length > 1) throw new UsageError(`one SCRIPT only, got ${rest.map((p) => JSON.stringify(p)).join(' ')}`);
  a.script = rest[0];
  if (command === 'run') return { ...a, command, semantics: parseOne(semantics ?? 'tfjs') };
  return { ...a, command, semantics: semantics === undefined ? DEFAULT_COMPARE : parsePair(semantics) };
}

const ONE_OF = `one of ${SEMANTICS.join(', ')}`;

function parseOne(v: string): Semantics {
  if (isSemantics(v)) return v;
  if (v.includes(','))
    throw new UsageError(`--semantics: run takes one semantics (${ONE_OF}); two are for bn-inspect compare`);
  throw new UsageError(`--semantics must be ${ONE_OF}, got ${JSON.stringify(v)}`);
}

function parsePair(v: string): readonly [Semantics, Semantics] {
  const parts = v.split(',').map((p) => p.trim());
  const example = `e.g. --semantics ${DEFAULT_COMPARE.join(',')}`;
  for (const p of parts)
    if (!isSemantics(p))
      throw new UsageError(
        p === '' && parts.length > 1
          ? `--semantics: an empty name in ${JSON.stringify(v)} (compare takes two of ${SEMANTICS.join(', ')}, ${example})`
          : `--semantics: ${JSON.stringify(p)} is not a semantics (compare takes two of ${SEMANTICS.join(', ')}, ${example})`,
      );
  if (parts.length !== 2)
    throw new UsageError(
      `--semantics: compare takes exactly two semantics, A,B, got ${parts.length} (${JSON.stringify(v)}; ${example})`,
    );
  const [x, y] = parts as Semantics[];
  if (x === y) throw new UsageError(`--semantics: compare needs two different semantics, got ${x} twice (${example})`);
  return [x, y];
}

/** The script must be a readable file of a kind the engine compiles. */
export function checkScript(script: string): string {
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

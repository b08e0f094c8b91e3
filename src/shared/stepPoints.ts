/**
 * Finds the step points of a script with the TypeScript parser (never regular expressions):
 * a statement that calls, on any receiver, one of STEP_METHODS, or a statement directly preceded
 * by a line comment `// @step`. One step point per statement, on the line of its first character.
 *
 * The light finder (src/shared/stepPointFinder/, without the TypeScript compiler) gives the same points; the editor
 * draws its lenses from it and the engine instruments from it (issue 11: activation, lenses and the worker's start-up
 * fast). This one is the engine's fallback for files the light finder cannot read (src/worker/tsInstrument.ts, a
 * bundle of its own) and the tests' oracle: test/unit/stepPointFinder.test.ts checks that both finders agree (every
 * example, and every method call of the project's sources and of tfjs-layers' JavaScript).
 */
import * as ts from 'typescript';
import type { StepPoint } from './protocol';
import { FUNCTION_APPLY_THIS_ARGS, STEP_METHODS, type StepPointScan, type SyntaxErrorInfo } from './stepMethods';

export { STEP_METHODS, type StepPointScan, type SyntaxErrorInfo };

/** A step point together with its statement node (for the instrumenter). */
export interface StepPointNode extends StepPoint {
  statement: ts.Statement;
}

export function scriptKindFor(fileName: string): ts.ScriptKind {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.tsx')) return ts.ScriptKind.TSX;
  if (lower.endsWith('.jsx')) return ts.ScriptKind.JSX;
  if (/\.(js|mjs|cjs)$/.test(lower)) return ts.ScriptKind.JS;
  return ts.ScriptKind.TS;
}

export function parseScript(text: string, fileName: string): ts.SourceFile {
  return ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, scriptKindFor(fileName));
}

/** The parser's first syntax error (TypeScript keeps them on the source file without a public accessor). */
export function firstSyntaxError(sf: ts.SourceFile): SyntaxErrorInfo | null {
  const diags = (sf as unknown as { parseDiagnostics?: ts.DiagnosticWithLocation[] }).parseDiagnostics ?? [];
  if (!diags.length) return null;
  const d = diags[0];
  const pos = sf.getLineAndCharacterOfPosition(d.start);
  return {
    message: ts.flattenDiagnosticMessageText(d.messageText, '\n'),
    line: pos.line + 1,
    column: pos.character + 1,
  };
}

function isStatement(node: ts.Node): node is ts.Statement {
  return node.kind >= ts.SyntaxKind.FirstStatement && node.kind <= ts.SyntaxKind.LastStatement;
}

/** The method name of a call `recv.name(...)`, `recv?.name(...)` or `recv['name'](...)`, else undefined. */
function calledMethod(call: ts.CallExpression): string | undefined {
  let callee: ts.Expression = call.expression;
  while (ts.isParenthesizedExpression(callee) || ts.isNonNullExpression(callee)) callee = callee.expression;
  if (ts.isPropertyAccessExpression(callee)) return callee.name.text;
  if (ts.isElementAccessExpression(callee) && ts.isStringLiteralLike(callee.argumentExpression))
    return callee.argumentExpression.text;
  return undefined;
}

/** `f.apply(this | null | undefined, …)`: Function.prototype.apply (FUNCTION_APPLY_THIS_ARGS), not a step call */
function isFunctionApply(call: ts.CallExpression, name: string): boolean {
  if (name !== 'apply' || call.arguments.length === 0) return false;
  const first = call.arguments[0];
  const word =
    first.kind === ts.SyntaxKind.ThisKeyword
      ? 'this'
      : first.kind === ts.SyntaxKind.NullKeyword
        ? 'null'
        : ts.isIdentifier(first)
          ? first.text
          : '';
  return FUNCTION_APPLY_THIS_ARGS.has(word);
}

/** the step method `call` calls, or undefined (not a method call, not a step method, Function.prototype.apply) */
function stepMethodOf(call: ts.CallExpression, isStep: StepMethodTest): string | undefined {
  const name = calledMethod(call);
  return name && isStep(name) && !isFunctionApply(call, name) ? name : undefined;
}

function hasStepComment(stmt: ts.Statement, text: string): boolean {
  const ranges = ts.getLeadingCommentRanges(text, stmt.getFullStart());
  if (!ranges?.length) return false;
  const last = ranges[ranges.length - 1];
  if (last.kind !== ts.SyntaxKind.SingleLineCommentTrivia) return false;
  if (!/^\/\/\s*@step\b/.test(text.slice(last.pos, last.end))) return false;
  // "directly preceded": nothing but whitespace (at most one line break) between the comment and the statement
  const gap = text.slice(last.end, stmt.getStart());
  return (gap.match(/\n/g)?.length ?? 0) <= 1;
}

/** the step methods: STEP_METHODS (a test may pass another set, to compare finders on any method call) */
export type StepMethodTest = (name: string) => boolean;
const isStepMethod: StepMethodTest = (name) => STEP_METHODS.has(name);

/** Step points with their statements, in source order. */
export function findStepPointNodes(sf: ts.SourceFile, isStep: StepMethodTest = isStepMethod): StepPointNode[] {
  const text = sf.text;
  const found = new Map<ts.Statement, string>();
  const visit = (node: ts.Node): void => {
    if (isStatement(node) && !found.has(node) && hasStepComment(node, text)) found.set(node, '@step');
    if (ts.isCallExpression(node)) {
      const name = stepMethodOf(node, isStep);
      if (name) {
        let p: ts.Node | undefined = node.parent;
        while (p && !isStatement(p)) p = p.parent;
        if (p && !found.has(p)) found.set(p as ts.Statement, name);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  const out: StepPointNode[] = [];
  for (const [statement, reason] of found) {
    const start = statement.getStart(sf);
    const pos = sf.getLineAndCharacterOfPosition(start);
    out.push({ line: pos.line + 1, column: pos.character + 1, start, end: statement.getEnd(), reason, statement });
  }
  return out.sort((a, b) => a.start - b.start);
}

/** The step points of a script's text. A text that does not parse has none. */
export function findStepPoints(text: string, fileName = 'script.ts'): StepPointScan {
  const sf = parseScript(text, fileName);
  const syntaxError = firstSyntaxError(sf);
  if (syntaxError) return { points: [], syntaxError };
  const points = findStepPointNodes(sf).map(({ statement: _s, ...p }) => p);
  return { points, syntaxError: null };
}

/*
 * The editor's guess, before any run, of which step points only build a model. Not used by the engine: the engine
 * decides at run time (a reach in which every layer call got symbolic tensors is not a step) and tells the editor.
 * Before the first run the editor has only the text, so it guesses from the one form that in practice builds a graph:
 * `apply` on a layer constructed in the same expression, `tf.layers.dense({...}).apply(h)`, `layers.x().apply(h)`,
 * `new MyLayer().apply(h)`, without a `{ training: … }` argument and not on a tensor made right there
 * (`tf.ones([2, 3])`): a layer made on the spot and applied once is how functional models are written.
 */

/** the receiver of `recv.apply(...)` is a layer constructed in this very expression */
function isFreshLayer(recv: ts.Expression): boolean {
  while (ts.isParenthesizedExpression(recv) || ts.isNonNullExpression(recv)) recv = recv.expression;
  if (ts.isNewExpression(recv)) return true;
  if (!ts.isCallExpression(recv)) return false;
  const callee = recv.expression;
  if (!ts.isPropertyAccessExpression(callee)) return false;
  const ns = callee.expression; // `tf.layers` or `layers`
  return (
    (ts.isIdentifier(ns) && ns.text === 'layers') || (ts.isPropertyAccessExpression(ns) && ns.name.text === 'layers')
  );
}

/** an argument that says the call computes: `{ training: … }`, or a tensor made in place (`tf.ones(…)`, not `tf.input`) */
function computesArgument(arg: ts.Expression): boolean {
  while (ts.isParenthesizedExpression(arg)) arg = arg.expression;
  if (ts.isObjectLiteralExpression(arg))
    return arg.properties.some((p) => p.name !== undefined && ts.isIdentifier(p.name) && p.name.text === 'training');
  if (ts.isCallExpression(arg) && ts.isPropertyAccessExpression(arg.expression)) {
    const ns = arg.expression.expression;
    return ts.isIdentifier(ns) && ns.text === 'tf' && arg.expression.name.text !== 'input';
  }
  return false;
}

/** a call of a step method is `freshLayer.apply(args)` that builds a graph, as far as the text tells */
function isModelBuildingCall(call: ts.CallExpression): boolean {
  let callee: ts.Expression = call.expression;
  while (ts.isParenthesizedExpression(callee) || ts.isNonNullExpression(callee)) callee = callee.expression;
  if (!ts.isPropertyAccessExpression(callee) || callee.name.text !== 'apply') return false;
  return isFreshLayer(callee.expression) && !call.arguments.some(computesArgument);
}

/**
 * Whether a step point's statement looks like model building: every step-method call in it (nested statements,
 * which are step points of their own, aside) is `apply` on a layer made in the same expression, with no argument
 * that computes. A guess from the text alone; a run tells for sure.
 */
export function looksLikeModelBuilding(statement: ts.Statement, isStep: StepMethodTest = isStepMethod): boolean {
  let calls = 0;
  let building = 0;
  const visit = (node: ts.Node): void => {
    if (node !== statement && isStatement(node)) return;
    if (ts.isCallExpression(node) && stepMethodOf(node, isStep)) {
      calls++;
      if (isModelBuildingCall(node)) building++;
    }
    ts.forEachChild(node, visit);
  };
  visit(statement);
  return calls > 0 && building === calls;
}

/** The step points of a script's text, each with the editor's guess (looksLikeModelBuilding); the engine's points. */
export function findStepPointsWithGuess(
  text: string,
  fileName = 'script.ts',
  isStep: StepMethodTest = isStepMethod,
): StepPointScan & { modelBuildingGuess: number[] } {
  const sf = parseScript(text, fileName);
  const syntaxError = firstSyntaxError(sf);
  if (syntaxError) return { points: [], syntaxError, modelBuildingGuess: [] };
  const nodes = findStepPointNodes(sf, isStep);
  return {
    points: nodes.map(({ statement: _s, ...p }) => p),
    syntaxError: null,
    modelBuildingGuess: nodes.filter((p) => looksLikeModelBuilding(p.statement, isStep)).map((p) => p.line),
  };
}

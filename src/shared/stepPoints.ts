/**
 * Finds the step points of a script with the TypeScript parser (never regular expressions):
 * a statement that calls, on any receiver, one of STEP_METHODS, or a statement directly preceded
 * by a line comment `// @step`. One step point per statement, on the line of its first character.
 *
 * The engine instruments these statements and the extension draws its code lenses on them:
 * both call findStepPoints, so they always agree.
 */
import * as ts from 'typescript';
import type { StepPoint } from './protocol';

export const STEP_METHODS: ReadonlySet<string> = new Set([
  'fit',
  'fitDataset',
  'trainOnBatch',
  'predict',
  'predictOnBatch',
  'evaluate',
  'evaluateDataset',
  'apply',
  'execute',
]);

export interface SyntaxErrorInfo {
  message: string;
  /** 1-based */
  line: number;
  column: number;
}

export interface StepPointScan {
  points: StepPoint[];
  /** the first syntax error, if the text does not parse (then `points` is empty) */
  syntaxError: SyntaxErrorInfo | null;
}

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

/** Step points with their statements, in source order. */
export function findStepPointNodes(sf: ts.SourceFile): StepPointNode[] {
  const text = sf.text;
  const found = new Map<ts.Statement, string>();
  const visit = (node: ts.Node): void => {
    if (isStatement(node) && !found.has(node) && hasStepComment(node, text)) found.set(node, '@step');
    if (ts.isCallExpression(node)) {
      const name = calledMethod(node);
      if (name && STEP_METHODS.has(name)) {
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

/**
 * The instrumentation's fallback with the TypeScript parser, for the files the light finder cannot read
 * (instrumentSource.ts: JSX, or a syntax error it reports): the step points and their statements from TypeScript's
 * syntax tree, then the same rewrite (stepRewrite.ts). A bundle of its own (dist/tsInstrument.js, scripts/build.mjs),
 * loaded only then: the TypeScript compiler (10 MB) stays out of dist/worker.js and of the worker's start-up. The
 * tests take it as the oracle of the light instrumentation (test/unit/instrumentEquality.test.ts).
 */
import * as ts from 'typescript';
import type { StepPointStatement } from '../shared/stepMethods';
import { findStepPointNodes, firstSyntaxError, parseScript, type StepMethodTest } from '../shared/stepPoints';
import { rewriteStepPoints, type InstrumentedSource } from './stepRewrite';

function depth(node: ts.Node): number {
  let d = 0;
  for (let p = node.parent; p; p = p.parent) d++;
  return d;
}

/** A statement that sits directly in a statement list (so text can be added after it). */
function inStatementList(stmt: ts.Statement): boolean {
  const p = stmt.parent;
  return ts.isBlock(p) || ts.isSourceFile(p) || ts.isModuleBlock(p) || ts.isCaseClause(p) || ts.isDefaultClause(p);
}

/** what the rewrite needs of a step point's statement, read from the syntax tree */
function statementOf(sf: ts.SourceFile, statement: ts.Statement): StepPointStatement {
  const d = depth(statement);
  if ((ts.isReturnStatement(statement) || ts.isThrowStatement(statement)) && statement.expression) {
    const e = statement.expression;
    return { kind: 'value', valueStart: e.getStart(sf), valueEnd: e.getEnd(), unitStart: -1, inList: true, depth: d };
  }
  const before =
    ts.isReturnStatement(statement) || ts.isThrowStatement(statement) || ts.isBreakOrContinueStatement(statement);
  // `label: for (…) …` must stay labelled for `continue label`: treat the labelled statement as the unit
  let unit: ts.Statement = statement;
  while (ts.isLabeledStatement(unit.parent)) unit = unit.parent;
  return {
    kind: before ? 'before' : 'after',
    valueStart: -1,
    valueEnd: -1,
    unitStart: unit.getStart(sf),
    inList: inStatementList(unit),
    depth: d,
  };
}

/**
 * Instruments a script's text with the TypeScript parser (a text it cannot parse: unchanged, and its error).
 * `isStep` is for tests (another set of step methods).
 */
export function instrumentWithTypeScript(
  text: string,
  fileName: string,
  fileIndex: number,
  isStep?: StepMethodTest,
): InstrumentedSource {
  const sf = parseScript(text, fileName);
  const syntaxError = firstSyntaxError(sf);
  if (syntaxError) return { code: text, points: [], syntaxError };
  const nodes = findStepPointNodes(sf, isStep);
  const points = nodes.map(({ statement: _s, ...p }) => p);
  const statements = nodes.map((p) => statementOf(sf, p.statement));
  return rewriteStepPoints(text, fileName, fileIndex, points, statements);
}

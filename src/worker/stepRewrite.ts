/**
 * Rewrites a user's script so that it reports each step point when the statement has finished:
 *   stmt;                ->  stmt;__bnStep(f,k);
 *   if (c) stmt;         ->  if (c) {stmt;__bnStep(f,k);}
 *   return expr;         ->  return __bnStepValue(f,k,(expr));
 *   throw expr;          ->  throw __bnStepValue(f,k,(expr));
 *   break; / continue;   ->  __bnStep(f,k);break;
 * (f = file index in the bundle, k = step point index in the file.) Nothing is inserted on new
 * lines, and an inline source map maps every token back to the original text, so errors and
 * steps report the user's own line and column. What is inserted where comes from the step points' statements
 * (StepPointStatement), found by the light finder (instrumentSource.ts) or, as a fallback, the TypeScript parser
 * (tsInstrument.ts): both give the same, so the output is the same.
 */
import type { StepPoint } from '../shared/protocol';
import type { StepPointStatement, SyntaxErrorInfo } from '../shared/stepMethods';

export interface InstrumentedSource {
  code: string;
  points: StepPoint[];
  syntaxError: SyntaxErrorInfo | null;
}

interface Insertion {
  pos: number;
  text: string;
  /** ordering at one position: closing texts of deeper statements first, opening texts of shallower first */
  order: number;
}

/** The instrumented text of a script whose step points (and their statements, same order) are known. */
export function rewriteStepPoints(
  text: string,
  fileName: string,
  fileIndex: number,
  points: StepPoint[],
  statements: StepPointStatement[],
): InstrumentedSource {
  const ins: Insertion[] = [];
  statements.forEach((s, k) => {
    const call = `__bnStep(${fileIndex},${k})`;
    const d = s.depth;
    if (s.kind === 'value') {
      ins.push({ pos: s.valueStart, text: `__bnStepValue(${fileIndex},${k},(`, order: d });
      ins.push({ pos: s.valueEnd, text: '))', order: -d });
      return;
    }
    const before = s.kind === 'before';
    const start = s.unitStart;
    const end = points[k].end;
    if (s.inList) {
      if (before) ins.push({ pos: start, text: `${call};`, order: d });
      else ins.push({ pos: end, text: `;${call};`, order: -d });
    } else {
      // the sole body of if/else/for/while/do/with: wrap it in a block
      ins.push({ pos: start, text: before ? `{${call};` : '{', order: d });
      ins.push({ pos: end, text: before ? '}' : `;${call};}`, order: -d });
    }
  });
  if (!ins.length) return { code: text, points, syntaxError: null };
  ins.sort((a, b) => a.pos - b.pos || a.order - b.order);

  let code = '';
  let last = 0;
  for (const i of ins) {
    code += text.slice(last, i.pos) + i.text;
    last = i.pos;
  }
  code += text.slice(last);
  return { code: code + '\n' + sourceMapComment(text, fileName, ins), points, syntaxError: null };
}

// ---------------------------------------------------------------------------------------------
// source map: every token of the original text, at its shifted column

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
function vlq(n: number): string {
  let v = n < 0 ? (-n << 1) | 1 : n << 1;
  let s = '';
  do {
    let digit = v & 31;
    v >>>= 5;
    if (v > 0) digit |= 32;
    s += B64[digit];
  } while (v > 0);
  return s;
}

function sourceMapComment(text: string, fileName: string, ins: Insertion[]): string {
  const lines = text.split('\n');
  let pos = 0;
  let ii = 0;
  let prevOrigLine = 0;
  let prevOrigCol = 0;
  const out: string[] = [];
  for (let line = 0; line < lines.length; line++) {
    const lineText = lines[line];
    const lineEnd = pos + lineText.length;
    let shift = 0;
    let prevGenCol = 0;
    const segs: string[] = [];
    const token = /[A-Za-z0-9_$]+|\S/g;
    let m: RegExpExecArray | null;
    while ((m = token.exec(lineText))) {
      const at = pos + m.index;
      while (ii < ins.length && ins[ii].pos <= at) shift += ins[ii++].text.length;
      const genCol = m.index + shift;
      segs.push(vlq(genCol - prevGenCol) + vlq(0) + vlq(line - prevOrigLine) + vlq(m.index - prevOrigCol));
      prevGenCol = genCol;
      prevOrigLine = line;
      prevOrigCol = m.index;
    }
    while (ii < ins.length && ins[ii].pos <= lineEnd) ii++;
    out.push(segs.join(','));
    pos = lineEnd + 1;
  }
  const map = { version: 3, sources: [fileName], sourcesContent: [text], names: [], mappings: out.join(';') };
  return '//# sourceMappingURL=data:application/json;base64,' + Buffer.from(JSON.stringify(map)).toString('base64');
}

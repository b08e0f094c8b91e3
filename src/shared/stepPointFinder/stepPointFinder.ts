/**
 * The light step-point finder: the same step points as the TypeScript parser gives them (src/shared/stepPoints.ts),
 * found from tokens (scriptTokens.ts) by a small statement parser, in a few milliseconds and without loading the 10 MB
 * TypeScript compiler. The editor draws its lenses from it (issue 11: lenses for a 2,000-line file in <= 50 ms), and
 * the engine instruments the user's script from it (src/worker/instrumentSource.ts, with what each point's statement
 * needs: StepPointStatement; issue 11: the worker's start-up without the TypeScript parser).
 * test/unit/stepPointFinder.test.ts checks that both finders give the same points, columns, ends, reasons and
 * model-building guesses on the examples, and, with every method taken for a step method, on the project's own
 * sources and tfjs-layers' JavaScript (checked once by hand, too: ~940 TypeScript and ~4,900 JavaScript files of
 * node_modules, JSX aside, all equal); test/unit/instrumentEquality.test.ts that both instrumentations write the same
 * code and source map.
 *
 * The rules are those of src/shared/stepPoints.ts: a step point is a statement (one of TypeScript's
 * statement kinds from VariableStatement to DebuggerStatement: not a block, not a declaration of a function, class,
 * type or import) that is the innermost such statement around a call `recv.m(…)`, `recv?.m(…)`, `recv['m'](…)` of a
 * step method `m`, or a statement directly preceded by a `// @step` line comment. Its reason is the `@step` comment,
 * else the method of its first call in the syntax tree's order.
 *
 * Where it differs from the TypeScript finder: on JSX (TypeScript reads it in .js files; this finder does not, and
 * reports an error: no lenses; the engine then instruments with the TypeScript parser), and on text that does not
 * parse. It
 * reports the syntax errors a tokenizer and a statement parser see (unterminated literals and comments, unmatched
 * brackets, `;` inside `(…)` or `[…]`, a missing operand before `;`/`)`/`]`/`}`, `const` without a name, a stray
 * `else`/`catch`/`finally`); a rarer grammar error goes unseen here, the lenses stay, and a run reports the error
 * (esbuild compiles the script and says where).
 *
 * Moving over the tokens is tokenView.ts, the guess of model building layerCallGuess.ts; the statement parser here is
 * one unit over 250 lines: a recursive-descent parser is one class whose methods call each other.
 */
import type { StepPoint } from '../protocol';
import {
  FUNCTION_APPLY_THIS_ARGS,
  STEP_METHODS,
  type StepPointScan,
  type StepPointStatement,
  type SyntaxErrorInfo,
} from '../stepMethods';
import { LayerCallGuess } from './layerCallGuess';
import { Tok, tokenize, type TokenizedScript } from './scriptTokens';

/** a statement being parsed, and what was found in it */
interface Stmt {
  /** token index of its first token */
  first: number;
  reason: string | null;
  /** token order of the call that gave the reason: its start token, then its name token (later = outer) */
  callStart: number;
  callName: number;
  /** step-method calls directly in it (not in nested statements), and how many of them look like model building */
  calls: number;
  building: number;
  /** token index of its last token */
  last: number;
  /** for the engine's instrumentation (StepPointStatement) */
  kind: StepPointStatement['kind'];
  /** a `return`/`throw` expression's first and last tokens (kind 'value'), else -1 */
  valueFirst: number;
  valueLast: number;
  /** first token of the statement with the labels around it (`a: b: for …`) */
  unitFirst: number;
  inList: boolean;
  depth: number;
}

/**
 * Where a statement sits: in a statement list (a block, the file, a case clause) or the sole body of
 * if/else/for/while/do/with/a label, and the first token of the label chain it ends (-1: none).
 */
interface Place {
  inList: boolean;
  labelFirst: number;
}
const IN_LIST: Place = { inList: true, labelFirst: -1 };
const BODY: Place = { inList: false, labelFirst: -1 };

class SyntaxFailure extends Error {
  constructor(
    readonly pos: number,
    message: string,
  ) {
    super(message);
  }
}

/** punctuators that need an operand after them */
const NEEDS_OPERAND = new Set([
  '=',
  '+=',
  '-=',
  '*=',
  '/=',
  '%=',
  '**=',
  '<<=',
  '&&=',
  '||=',
  '??=',
  '&=',
  '|=',
  '^=',
  '+',
  '-',
  '/',
  '%',
  '**',
  '&&',
  '||',
  '??',
  '.',
  '?.',
  '=>',
  '==',
  '===',
  '!=',
  '!==',
]);

const CLASS_MODIFIERS = new Set([
  'static',
  'public',
  'private',
  'protected',
  'readonly',
  'abstract',
  'async',
  'declare',
  'override',
  'accessor',
  'get',
  'set',
]);

class Parser extends LayerCallGuess {
  private i = 0;
  private readonly stack: Stmt[] = [];
  readonly found: Stmt[] = [];
  /** offsets of every `@step` in the text */
  private readonly stepMarks: number[] = [];

  constructor(
    private readonly text: string,
    tokens: TokenizedScript,
    private readonly isStepMethod: (name: string) => boolean,
  ) {
    super(tokens);
    for (let k = text.indexOf('@step'); k >= 0; k = text.indexOf('@step', k + 1)) this.stepMarks.push(k);
  }

  /** is there a `@step` in [from, to)? */
  private markBetween(from: number, to: number): boolean {
    const m = this.stepMarks;
    let lo = 0;
    let hi = m.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (m[mid] < from) lo = mid + 1;
      else hi = mid;
    }
    return lo < m.length && m[lo] < to;
  }

  // ── tokens (the rest: tokenView.ts) ──

  private eof(): boolean {
    return this.K[this.i] === Tok.EOF;
  }
  private fail(idx: number, message: string): never {
    throw new SyntaxFailure(this.S[idx], message);
  }

  // ── statements ──

  parseFile(): void {
    this.statementList(false);
  }

  private open(first: number, place: Place): Stmt {
    const s: Stmt = {
      first,
      reason: null,
      callStart: -1,
      callName: -1,
      calls: 0,
      building: 0,
      last: first,
      kind: 'after',
      valueFirst: -1,
      valueLast: -1,
      unitFirst: place.labelFirst >= 0 ? place.labelFirst : first,
      inList: place.inList,
      depth: this.stack.length + 1,
    };
    if (this.stepComment(first)) s.reason = '@step';
    this.stack.push(s);
    return s;
  }

  private close(s: Stmt): void {
    s.last = this.i - 1;
    this.stack.pop();
    if (s.reason !== null) this.found.push(s);
  }

  /** statements until `}` (not consumed) or the end of the file; in a switch, also until `case`/`default` */
  private statementList(inBraces: boolean, inSwitch = false): void {
    for (;;) {
      const x = this.i;
      if (this.K[x] === Tok.EOF) return;
      if (this.K[x] === Tok.Punct && this.V[x] === '}') {
        if (inBraces) return;
        this.fail(this.i, 'Declaration or statement expected.');
      }
      if (inSwitch && this.K[x] === Tok.Ident && (this.V[x] === 'case' || this.V[x] === 'default')) return;
      const before = this.i;
      this.statement(this.i, IN_LIST);
      if (this.i === before) this.fail(this.i, 'Declaration or statement expected.');
    }
  }

  /** `{ statements }` at this.i */
  private block(): void {
    const close = this.M[this.i];
    this.i++;
    this.statementList(true);
    this.i = close + 1;
  }

  /** an optional `;` ending a statement */
  private semicolon(): void {
    if (this.punct(this.i, ';')) this.i++;
  }

  /** one statement at this.i; `first` is its first token (an `export`/`declare` before this.i) */
  private statement(first: number, place: Place): void {
    const x = this.i;
    if (this.K[x] === Tok.Punct) {
      if (this.V[x] === '{') return this.block();
      if (this.V[x] === ';') {
        this.i++;
        return;
      }
      if (this.V[x] === '@') {
        this.decorators();
        return this.statement(first, place);
      }
      return this.expressionStatement(first, place);
    }
    if (this.K[x] !== Tok.Ident) return this.expressionStatement(first, place);
    const next = this.i + 1;
    const nextSameLine = !this.NL[next] && this.K[next] !== Tok.EOF;
    // a label
    if (this.K[next] === Tok.Punct && this.V[next] === ':' && this.V[x] !== 'case' && this.V[x] !== 'default') {
      const s = this.open(first, place);
      this.i += 2;
      // the labelled statement is the unit the instrumentation wraps (`continue label` must still find it)
      if (!this.eof()) this.statement(this.i, { inList: place.inList, labelFirst: s.unitFirst });
      return this.close(s);
    }
    switch (this.V[x]) {
      case 'var':
      case 'const':
        if (this.V[x] === 'const' && this.is(this.i + 1, 'enum')) {
          this.i++;
          return this.skipDeclarationWithBody();
        }
        return this.variableStatement(first, place);
      case 'let':
        if (this.K[next] === Tok.Ident || this.punct(this.i + 1, '[') || this.punct(this.i + 1, '{'))
          return this.variableStatement(first, place);
        break;
      case 'using':
        if (this.K[next] === Tok.Ident && nextSameLine) return this.variableStatement(first, place);
        break;
      case 'if': {
        const s = this.open(first, place);
        this.i++;
        this.parenthesized();
        this.statement(this.i, BODY);
        if (this.is(this.i, 'else')) {
          this.i++;
          this.statement(this.i, BODY);
        }
        return this.close(s);
      }
      case 'for': {
        const s = this.open(first, place);
        this.i++;
        if (this.is(this.i, 'await')) this.i++;
        this.parenthesized(true);
        this.statement(this.i, BODY);
        return this.close(s);
      }
      case 'while':
      case 'with': {
        const s = this.open(first, place);
        this.i++;
        this.parenthesized();
        this.statement(this.i, BODY);
        return this.close(s);
      }
      case 'do': {
        const s = this.open(first, place);
        this.i++;
        this.statement(this.i, BODY);
        if (this.is(this.i, 'while')) {
          this.i++;
          this.parenthesized();
        }
        this.semicolon();
        return this.close(s);
      }
      case 'switch': {
        const s = this.open(first, place);
        this.i++;
        this.parenthesized();
        if (this.punct(this.i, '{')) {
          const close = this.M[this.i];
          this.i++;
          while (this.i < close) {
            if (this.is(this.i, 'case')) {
              this.i++;
              this.expression({ colonEnds: true });
            } else if (this.is(this.i, 'default')) this.i++;
            else this.fail(this.i, `'case' or 'default' expected.`);
            if (this.punct(this.i, ':')) this.i++;
            this.statementList(true, true);
          }
          this.i = close + 1;
        }
        return this.close(s);
      }
      case 'try': {
        const s = this.open(first, place);
        this.i++;
        if (this.punct(this.i, '{')) this.block();
        if (this.is(this.i, 'catch')) {
          this.i++;
          if (this.punct(this.i, '(')) this.group();
          if (this.punct(this.i, '{')) this.block();
        }
        if (this.is(this.i, 'finally')) {
          this.i++;
          if (this.punct(this.i, '{')) this.block();
        }
        return this.close(s);
      }
      case 'return':
      case 'throw': {
        const s = this.open(first, place);
        this.i++;
        const y = this.i;
        if (
          !this.NL[y] &&
          this.K[y] !== Tok.EOF &&
          !(this.K[y] === Tok.Punct && (this.V[y] === ';' || this.V[y] === '}'))
        )
          this.expression();
        if (this.i > y) {
          s.kind = 'value';
          s.valueFirst = y;
          s.valueLast = this.i - 1;
        } else s.kind = 'before';
        this.semicolon();
        return this.close(s);
      }
      case 'break':
      case 'continue': {
        const s = this.open(first, place);
        this.i++;
        s.kind = 'before';
        if (this.ident(this.i) && !this.NL[this.i]) this.i++;
        this.semicolon();
        return this.close(s);
      }
      case 'debugger': {
        const s = this.open(first, place);
        this.i++;
        this.semicolon();
        return this.close(s);
      }
      case 'function':
        this.functionRest();
        return;
      case 'async':
        if (this.is(this.i + 1, 'function') && nextSameLine) {
          this.i++;
          this.functionRest();
          return;
        }
        break;
      case 'class':
        this.classRest();
        return;
      case 'abstract':
        if (this.is(this.i + 1, 'class')) {
          this.i++;
          this.classRest();
          return;
        }
        break;
      case 'interface':
      case 'enum':
        if (this.K[next] === Tok.Ident && nextSameLine) return this.skipDeclarationWithBody();
        break;
      case 'type':
        if (
          this.K[next] === Tok.Ident &&
          nextSameLine &&
          (this.punct(this.i + 2, '=') || this.punct(this.i + 2, '<'))
        ) {
          this.i += 2;
          if (this.punct(this.i, '<')) this.skipAngles();
          if (this.punct(this.i, '=')) this.i++;
          this.type({});
          this.semicolon();
          return;
        }
        break;
      case 'namespace':
      case 'module':
      case 'global':
        if ((this.K[next] === Tok.Ident || this.K[next] === Tok.String || this.V[next] === '{') && nextSameLine) {
          this.i++;
          while (!this.eof() && !this.punct(this.i, '{') && !this.punct(this.i, ';') && !this.punct(this.i, '}'))
            this.i++;
          if (this.punct(this.i, '{')) this.block();
          else this.semicolon();
          return;
        }
        break;
      case 'declare':
        if ((this.K[next] === Tok.Ident || this.K[next] === Tok.String) && nextSameLine) {
          this.i++;
          return this.statement(first, place);
        }
        break;
      case 'export':
        return this.exportDeclaration(first, place);
      case 'import':
        if (this.punct(this.i + 1, '(') || this.punct(this.i + 1, '.')) break;
        this.skipToStatementEnd();
        return;
      case 'else':
      case 'catch':
      case 'finally':
        this.fail(this.i, 'Declaration or statement expected.');
    }
    return this.expressionStatement(first, place);
  }

  private expressionStatement(first: number, place: Place): void {
    const s = this.open(first, place);
    const before = this.i;
    this.expression();
    if (this.i === before) this.fail(this.i, 'Expression expected.');
    this.semicolon();
    this.close(s);
  }

  private variableStatement(first: number, place: Place): void {
    const s = this.open(first, place);
    this.i++;
    const y = this.i;
    if (!(this.K[y] === Tok.Ident || (this.K[y] === Tok.Punct && (this.V[y] === '{' || this.V[y] === '['))))
      this.fail(this.i, 'Variable declaration expected.');
    // declarations `name [!] [: type] [= initializer]`, separated by commas: after a name, only `=`, `:`, `!`, `,`
    // continue it (`let a\n[a, b] = f()` is two statements)
    for (;;) {
      if (this.punct(this.i, '{') || this.punct(this.i, '[')) this.token();
      else if (this.ident(this.i)) this.i++;
      else break;
      if (this.punct(this.i, '!')) this.i++;
      if (this.punct(this.i, ':')) {
        this.i++;
        this.type({});
      }
      if (this.punct(this.i, '=')) {
        this.i++;
        this.expression({ commaEnds: true });
      }
      if (!this.punct(this.i, ',')) break;
      this.i++;
    }
    this.semicolon();
    this.close(s);
  }

  private exportDeclaration(first: number, place: Place): void {
    this.i++;
    const x = this.i;
    if (this.K[x] === Tok.Ident && this.V[x] === 'default') {
      this.i++;
      const y = this.i;
      if (
        this.K[y] === Tok.Ident &&
        (this.V[y] === 'function' ||
          this.V[y] === 'class' ||
          this.V[y] === 'interface' ||
          (this.V[y] === 'async' && this.is(this.i + 1, 'function')) ||
          (this.V[y] === 'abstract' && this.is(this.i + 1, 'class')))
      )
        return this.statement(first, place);
      // `export default expr`: an export assignment, not a statement
      this.expression();
      this.semicolon();
      return;
    }
    if (this.K[x] === Tok.Punct && (this.V[x] === '{' || this.V[x] === '*' || this.V[x] === '=')) {
      if (this.V[x] === '=') {
        this.i++;
        this.expression();
        this.semicolon();
      } else this.skipToStatementEnd();
      return;
    }
    if (this.K[x] === Tok.Ident && this.V[x] === 'import') {
      this.skipToStatementEnd();
      return;
    }
    this.statement(first, place);
  }

  /** `interface X … { … }`, `enum X { … }`: nothing inside is a statement */
  private skipDeclarationWithBody(): void {
    while (!this.eof() && !this.punct(this.i, '{') && !this.punct(this.i, '}')) this.i = this.after(this.i);
    if (this.punct(this.i, '{')) this.i = this.M[this.i] + 1;
  }

  /** imports and re-exports: to the `;` or the end of the line */
  private skipToStatementEnd(): void {
    const start = this.i;
    while (!this.eof()) {
      const x = this.i;
      if (this.K[x] === Tok.Punct && this.V[x] === ';') {
        this.i++;
        return;
      }
      if (this.K[x] === Tok.Punct && this.V[x] === '}') return;
      if (this.i > start && this.NL[x] && this.endsExpression(this.i - 1) && !this.continues(this.i)) return;
      this.i = this.after(this.i);
    }
  }

  private decorators(): void {
    while (this.punct(this.i, '@')) {
      this.i++;
      while (this.ident(this.i) || this.punct(this.i, '.')) this.i++;
      if (this.punct(this.i, '(')) this.group();
    }
  }

  /** `( … )` after if/while/switch/with/for (a for header may hold two `;`) */
  private parenthesized(forHeader = false): void {
    if (this.punct(this.i, '(')) this.group(forHeader);
  }

  // ── functions and classes ──

  /** after `function`: `*`, name, type parameters, parameters, return type, body */
  private functionRest(): void {
    this.i++;
    if (this.punct(this.i, '*')) this.i++;
    if (this.ident(this.i)) this.i++;
    if (this.punct(this.i, '<')) this.skipAngles();
    this.signatureAndBody();
  }

  /** `( params ) [: type] { body }` or without a body (an overload, an abstract method) */
  private signatureAndBody(): void {
    if (this.punct(this.i, '(')) this.group();
    if (this.punct(this.i, ':')) {
      this.i++;
      this.type({});
    }
    if (this.punct(this.i, '{')) this.block();
  }

  /** after `class`: name, type parameters, heritage, then the members */
  private classRest(): void {
    this.i++;
    while (!this.eof() && !this.punct(this.i, '{')) {
      if (this.punct(this.i, '<')) this.skipAngles();
      else if (this.punct(this.i, '(') || this.punct(this.i, '[')) this.group();
      else if (this.punct(this.i, ';') || this.punct(this.i, '}')) return;
      else this.i++;
    }
    if (!this.punct(this.i, '{')) return;
    const close = this.M[this.i];
    this.i++;
    while (this.i < close) {
      const before = this.i;
      this.classMember(close);
      if (this.i === before) this.i++;
    }
    this.i = close + 1;
  }

  private classMember(close: number): void {
    if (this.punct(this.i, ';')) {
      this.i++;
      return;
    }
    if (this.punct(this.i, '@')) this.decorators();
    // modifiers: a modifier word followed by a name (else the word is the member's name)
    while (this.ident(this.i) && CLASS_MODIFIERS.has(this.V[this.i])) {
      const y = this.i + 1;
      if (this.V[this.i] === 'static' && this.K[y] === Tok.Punct && this.V[y] === '{') {
        this.i++;
        this.block(); // a static block
        return;
      }
      const named =
        this.K[y] === Tok.Ident ||
        this.K[y] === Tok.String ||
        this.K[y] === Tok.Number ||
        this.K[y] === Tok.PrivateName ||
        (this.K[y] === Tok.Punct && (this.V[y] === '[' || this.V[y] === '*'));
      if (!named) break;
      this.i++;
    }
    if (this.punct(this.i, '*')) this.i++;
    if (this.punct(this.i, '[')) this.group();
    else if (this.i < close) this.i++; // the name
    if (this.punct(this.i, '?') || this.punct(this.i, '!')) this.i++;
    if (this.punct(this.i, '<')) this.skipAngles();
    if (this.punct(this.i, '(')) {
      this.signatureAndBody();
      this.semicolon();
      return;
    }
    if (this.punct(this.i, ':')) {
      this.i++;
      this.type({});
    }
    if (this.punct(this.i, '=')) {
      this.i++;
      this.expression();
    }
    this.semicolon();
  }

  // ── expressions ──

  /**
   * An expression (or a comma list of them, or a variable declaration list with `types`) at this.i, up to a `;`, a
   * closing bracket, the end of the file, or a line break where the next token cannot continue it (automatic
   * semicolon insertion); with `colonEnds`, also a `:` that is not a conditional's (a `case` label).
   */
  private expression(opts: { colonEnds?: boolean; commaEnds?: boolean } = {}): void {
    const start = this.i;
    let ended = false; // the previous token ended an expression
    let conditionals = 0; // `?` waiting for their `:`
    for (;;) {
      const x = this.i;
      if (this.K[x] === Tok.EOF) return this.operandBefore(x);
      if (this.i > start && this.NL[x] && ended && !this.continues(this.i)) return;
      if (this.K[x] === Tok.Punct) {
        const v = this.V[x];
        if (v === ';' || v === ')' || v === ']' || v === '}') return this.operandBefore(x);
        if (v === ',' && opts.commaEnds) return this.operandBefore(x);
        if (v === '<' && !ended) {
          // type parameters of a generic arrow function `<T,>(x: T) => …`, or a type assertion `<T>x`
          this.skipAngles();
          continue;
        }
        if (v === '<' && ended) {
          // type arguments of a call, `new Map<K, V>()`: their commas are not the list's
          const after = this.typeArguments(x);
          if (after !== x) {
            this.i = after;
            ended = false;
            continue;
          }
        }
        if (v === ':') {
          if (conditionals > 0) conditionals--;
          else if (opts.colonEnds) return;
          else {
            // a type annotation (a declaration's, or an arrow function's return type after `)`)
            this.i++;
            this.type({ arrowReturn: this.punct(this.i - 2, ')') });
            ended = true;
            continue;
          }
        } else if (v === '?') conditionals++;
      } else if (this.K[x] === Tok.Ident && (this.V[x] === 'as' || this.V[x] === 'satisfies') && !this.NL[x] && ended) {
        this.i++;
        this.type({});
        ended = true;
        continue;
      }
      this.token();
      ended = this.endsExpression(this.i - 1);
    }
  }

  /** `x = ;`, `a + )`: an operator with nothing after it */
  private operandBefore(x: number): void {
    const p = this.i - 1;
    if (this.i > 0 && this.K[p] === Tok.Punct && NEEDS_OPERAND.has(this.V[p]))
      throw new SyntaxFailure(this.S[x], 'Expression expected.');
  }

  /** one token of an expression at this.i (a bracket: the whole group; a function: its body), moving past it */
  private token(): void {
    const i = this.i;
    const x = i;
    switch (this.K[x]) {
      case Tok.Punct:
        if (this.V[x] === '(' || this.V[x] === '[') return this.group();
        if (this.V[x] === '{') {
          if (this.punct(i - 1, '=>')) return this.block(); // an arrow function's body
          return this.objectLiteral();
        }
        break;
      case Tok.TemplateHead:
      case Tok.TemplateMiddle:
        return this.group();
      case Tok.Ident:
      case Tok.PrivateName: {
        const member = this.punct(i - 1, '.') || this.punct(i - 1, '?.');
        if (!member && this.V[x] === 'function') return this.functionRest();
        if (!member && this.V[x] === 'class') return this.classRest();
        if (member && this.isStepMethod(this.V[x])) this.call(i, false);
        break;
      }
      case Tok.String:
        if (this.punct(i - 1, '[') && this.punct(i + 1, ']') && this.isStepMethod(this.V[x])) this.call(i, true);
        break;
    }
    this.i++;
  }

  /** the contents of the bracket at this.i (`(`, `[`, or a template substitution), then past its match */
  private group(forHeader = false): void {
    const open = this.i;
    const close = this.M[open];
    const parenOrBracket = this.K[open] === Tok.Punct;
    this.i++;
    let semicolons = 0;
    let conditionals = 0;
    while (this.i < close) {
      const x = this.i;
      if (this.K[x] === Tok.Punct && this.V[x] === '?') conditionals++;
      else if (this.K[x] === Tok.Punct && this.V[x] === ':' && conditionals > 0) {
        conditionals--;
        this.i++;
        continue;
      }
      if (this.K[x] === Tok.Punct && this.V[x] === ';' && parenOrBracket) {
        if (!forHeader || ++semicolons > 2) this.fail(this.i, `'${this.V[open] === '(' ? ')' : ']'}' expected.`);
        this.operandBefore(x);
        this.i++;
        continue;
      }
      if (this.K[x] === Tok.Punct && this.V[x] === ':' && this.punct(this.i - 1, ')') && parenOrBracket) {
        // an arrow function's return type inside the group: `(x): T => …`
        this.i++;
        this.type({ arrowReturn: true });
        continue;
      }
      this.token();
    }
    if (parenOrBracket) this.operandBefore(close);
    // a template's next substitution is the next group
    this.i = this.K[close] === Tok.TemplateMiddle ? close : close + 1;
  }

  /** `{ … }` in an expression: an object literal (or an object type), whose methods have bodies */
  private objectLiteral(): void {
    const close = this.M[this.i];
    this.i++;
    let memberStart = true;
    while (this.i < close) {
      if (memberStart) {
        memberStart = false;
        let j = this.i;
        while (
          this.ident(j) &&
          (this.V[j] === 'async' || this.V[j] === 'get' || this.V[j] === 'set') &&
          !this.punct(j + 1, '(') &&
          !this.punct(j + 1, ':') &&
          !this.punct(j + 1, ',') &&
          j + 1 < close
        )
          j++;
        if (this.punct(j, '*')) j++;
        const y = j;
        if (this.K[y] === Tok.Punct && this.V[y] === '[') j = this.M[y] + 1;
        else if (
          this.K[y] === Tok.Ident ||
          this.K[y] === Tok.String ||
          this.K[y] === Tok.Number ||
          this.K[y] === Tok.PrivateName
        )
          j++;
        else j = -1;
        if (j > 0 && this.punct(j, '?')) j++;
        if (j > 0 && this.punct(j, '<')) {
          const save = this.i;
          this.i = j;
          this.skipAngles();
          j = this.i;
          this.i = save;
        }
        if (j > 0 && this.punct(j, '(')) {
          // a method: its computed name may hold calls
          while (this.i < j) this.token();
          this.signatureAndBody();
          continue;
        }
      }
      if (this.punct(this.i, ',') || this.punct(this.i, ';')) memberStart = true;
      this.token();
    }
    this.i = close + 1;
  }

  // ── types ──

  /** after `<…>` at lt if it is type arguments followed by `(` (a call), else lt */
  private typeArguments(lt: number): number {
    let depth = 0;
    for (let k = lt; k < lt + 200;) {
      const kind = this.K[k];
      if (kind === Tok.EOF) return lt;
      if (kind === Tok.Punct) {
        const v = this.V[k];
        if (v === '<') depth++;
        else if (v === '>') {
          if (--depth === 0) return this.punct(k + 1, '(') ? k + 1 : lt;
        } else if (v === '[' || v === '{' || (v === '(' && this.punct(this.M[k] + 1, '=>'))) {
          // an array, tuple or object type, a function type; never arguments (`a < b.fit(c), d > (e)` compares)
          k = this.M[k] + 1;
          continue;
        } else if (
          v !== ',' &&
          v !== '.' &&
          v !== '|' &&
          v !== '&' &&
          v !== '?' &&
          v !== ':' &&
          v !== '=>' &&
          v !== '-'
        )
          return lt;
      }
      k++;
    }
    return lt;
  }

  /** `<…>` at this.i (type parameters or arguments), then past it */
  private skipAngles(): void {
    let depth = 0;
    while (!this.eof()) {
      const x = this.i;
      if (this.K[x] === Tok.Punct) {
        if (this.V[x] === '<') depth++;
        else if (this.V[x] === '>') depth--;
        else if (this.V[x] === ';' || this.V[x] === '}' || this.V[x] === ')' || this.V[x] === ']') return;
        else if (this.V[x] === '(' || this.V[x] === '[' || this.V[x] === '{') {
          this.i = this.M[x] + 1;
          continue;
        }
      }
      this.i++;
      if (depth === 0) return;
    }
  }

  /**
   * A type at this.i, up to a token that cannot continue it (`=`, `,`, `;`, `{` after a complete type, a closing
   * bracket, a line break after a complete type, an operator of the expression around it). With `arrowReturn`, also
   * the `=>` of the arrow function whose return type it is.
   */
  private type(opts: { arrowReturn?: boolean }): void {
    let complete = false; // the tokens so far are a whole type
    let angles = 0;
    let conditional = 0; // `extends` waiting for `?` and `:`
    const start = this.i;
    for (;;) {
      const x = this.i;
      if (this.K[x] === Tok.EOF) return;
      if (this.K[x] === Tok.Punct) {
        const v = this.V[x];
        if (v === ';' || v === ')' || v === ']' || v === '}' || v === '=' || (v === ',' && angles === 0)) return;
        if (angles === 0 && complete) {
          if (this.i > start && this.NL[x] && v !== '|' && v !== '&' && v !== '.' && v !== '=>') return;
          if (v === '{') return; // a body
          if (v === '=>') {
            if (opts.arrowReturn) return;
          } else if (v === '?' || v === ':') {
            if (conditional === 0) return;
            if (v === ':') conditional--;
          } else if (v !== '|' && v !== '&' && v !== '.' && v !== '[' && v !== '<' && v !== '>') return;
        }
        if (v === '<' && !complete) {
          // a generic function type `<T extends U>(x: T) => T`: its type parameters
          this.skipAngles();
          continue;
        }
        if (v === '<') angles++;
        else if (v === '>') {
          if (angles === 0) return;
          angles--;
        }
        if (v === '(' || v === '[' || v === '{') {
          this.i = this.M[x] + 1;
          complete = true;
          continue;
        }
        this.i++;
        complete = v === '>';
        continue;
      }
      if (this.K[x] === Tok.Ident) {
        if (angles === 0 && complete) {
          if (this.V[x] === 'extends') conditional++;
          else if (this.V[x] !== 'is') return;
          this.i++;
          complete = false;
          continue;
        }
        this.i++;
        complete = !(
          this.V[x] === 'keyof' ||
          this.V[x] === 'typeof' ||
          this.V[x] === 'readonly' ||
          this.V[x] === 'unique' ||
          this.V[x] === 'infer' ||
          this.V[x] === 'new' ||
          this.V[x] === 'asserts' ||
          this.V[x] === 'is' ||
          this.V[x] === 'extends'
        );
        if (this.V[x] === 'extends') conditional++;
        continue;
      }
      if (angles === 0 && complete) return;
      this.i = this.after(this.i);
      complete = true;
    }
  }

  // ── calls ──

  /** a step method's name (or `['name']` string) at `nameIdx`: is it called, and is it model building? */
  private call(nameIdx: number, element: boolean): void {
    const s = this.stack[this.stack.length - 1];
    if (!s) return;
    // the callee's end: `name`, `['name']`, or a parenthesized callee around it, `(recv.name)(…)`
    let j = element ? nameIdx + 2 : nameIdx + 1;
    let calleeEnd = element ? nameIdx + 1 : nameIdx;
    for (;;) {
      while (this.punct(j, '!')) j++;
      const x = j;
      if (this.K[x] === Tok.Punct && this.V[x] === ')' && this.parenthesizedChain(this.M[x], j - 1)) {
        calleeEnd = j;
        j++;
        continue;
      }
      break;
    }
    if (this.punct(j, '<')) j = this.typeArguments(j); // `m.fit<T>(…)`
    if (this.punct(j, '?.')) j++;
    if (!this.punct(j, '(')) return;
    // `f.apply(this | null | undefined, …)` is Function.prototype.apply, not a step (stepPoints.ts: isFunctionApply)
    if (this.V[nameIdx] === 'apply') {
      const a = j + 1;
      if (
        this.K[a] === Tok.Ident &&
        FUNCTION_APPLY_THIS_ARGS.has(this.V[a]) &&
        (this.punct(a + 1, ',') || this.punct(a + 1, ')'))
      )
        return;
    }
    // where the call starts (for the order of calls), and `new a.b.m(…)` which is not a call
    const member = this.chainStart(nameIdx - 1);
    const plain = calleeEnd === (element ? nameIdx + 1 : nameIdx);
    if (member.isNew && plain) return; // `new a.m(…)` constructs
    const start = plain ? member.start : this.M[calleeEnd];
    if (!plain && this.is(start - 1, 'new')) return; // `new (a.m)(…)` too
    s.calls++;
    if (!element && this.V[nameIdx] === 'apply' && this.isFreshLayer(nameIdx - 2) && !this.computesArgument(j))
      s.building++;
    if (s.reason === '@step') return;
    if (s.reason === null || start < s.callStart || (start === s.callStart && nameIdx > s.callName)) {
      s.reason = this.V[nameIdx];
      s.callStart = start;
      s.callName = nameIdx;
    }
  }

  // ── `// @step` ──

  /**
   * Is the statement whose first token is `first` directly preceded by a `// @step` line comment: the last of its
   * leading comments (those after the line break that follows the previous token, as TypeScript collects them), with
   * at most one line break between the comment and the statement?
   */
  private stepComment(first: number): boolean {
    const text = this.text;
    const start = this.S[first];
    const from = first > 0 ? this.E[first - 1] : 0;
    // quick reject: no `@step` between the previous token and this one
    if (!this.markBetween(from, start)) return false;
    let pos = from;
    let collecting = from === 0;
    if (from === 0 && text.startsWith('#!')) while (pos < start && text[pos] !== '\n') pos++;
    let last: { pos: number; end: number; line: boolean } | null = null;
    while (pos < start) {
      const c = text.charCodeAt(pos);
      if (c === 10 || c === 13 || c === 0x2028 || c === 0x2029) {
        collecting = true;
        pos++;
      } else if (c === 47 && text.charCodeAt(pos + 1) === 47) {
        const s = pos;
        while (pos < start && !isLineBreakCode(text.charCodeAt(pos))) pos++;
        if (collecting) last = { pos: s, end: pos, line: true };
      } else if (c === 47 && text.charCodeAt(pos + 1) === 42) {
        const s = pos;
        const e = text.indexOf('*/', pos + 2);
        pos = e < 0 ? start : e + 2;
        if (collecting) last = { pos: s, end: pos, line: false };
      } else pos++;
    }
    if (!last || !last.line) return false;
    if (!/^\/\/\s*@step\b/.test(text.slice(last.pos, last.end))) return false;
    let breaks = 0;
    for (let k = last.end; k < start; k++) if (text.charCodeAt(k) === 10) breaks++;
    return breaks <= 1;
  }
}

function isLineBreakCode(c: number): boolean {
  return c === 10 || c === 13 || c === 0x2028 || c === 0x2029;
}

/** offsets to 1-based lines and columns */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

function lineAndColumn(starts: number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - starts[lo] + 1 };
}

export interface EditorStepPointScan extends StepPointScan {
  /** lines of step points that look like model building from the text alone (looksLikeModelBuilding's rule) */
  modelBuildingGuess: number[];
}

export interface InstrumentableScan extends EditorStepPointScan {
  /** per step point (same order as `points`): what the engine's instrumentation needs of its statement */
  statements: StepPointStatement[];
}

/**
 * The step points of a script's text with the model-building guess and what the instrumentation needs of their
 * statements (same points as the TypeScript finder on text that parses). `isStepMethod` is for tests
 * (another set of methods); the editor and the engine use STEP_METHODS.
 */
export function scanStepPoints(
  text: string,
  isStepMethod: (name: string) => boolean = (n) => STEP_METHODS.has(n),
): InstrumentableScan {
  const tokens = tokenize(text);
  const error = tokens.error;
  const starts = lineStarts(text);
  const failed = (pos: number, message: string): InstrumentableScan => {
    const { line, column } = lineAndColumn(starts, pos);
    const syntaxError: SyntaxErrorInfo = { message, line, column };
    return { points: [], syntaxError, modelBuildingGuess: [], statements: [] };
  };
  if (error) return failed(error.pos, error.message);
  const parser = new Parser(text, tokens, isStepMethod);
  try {
    parser.parseFile();
  } catch (e) {
    if (e instanceof SyntaxFailure) return failed(e.pos, e.message);
    throw e;
  }
  const stmts = parser.found.sort((a, b) => a.first - b.first);
  const points: StepPoint[] = [];
  const modelBuildingGuess: number[] = [];
  const statements: StepPointStatement[] = [];
  for (const s of stmts) {
    const start = tokens.start[s.first];
    const { line, column } = lineAndColumn(starts, start);
    points.push({ line, column, start, end: tokens.end[s.last], reason: s.reason! });
    if (s.calls > 0 && s.building === s.calls) modelBuildingGuess.push(line);
    statements.push({
      kind: s.kind,
      valueStart: s.kind === 'value' ? tokens.start[s.valueFirst] : -1,
      valueEnd: s.kind === 'value' ? tokens.end[s.valueLast] : -1,
      unitStart: tokens.start[s.unitFirst],
      inList: s.inList,
      depth: s.depth,
    });
  }
  return { points, syntaxError: null, modelBuildingGuess, statements };
}

/** The step points of a script's text with the model-building guess (the editor's lenses). */
export function findStepPointsWithGuess(
  text: string,
  isStepMethod: (name: string) => boolean = (n) => STEP_METHODS.has(n),
): EditorStepPointScan {
  const { points, syntaxError, modelBuildingGuess } = scanStepPoints(text, isStepMethod);
  return { points, syntaxError, modelBuildingGuess };
}

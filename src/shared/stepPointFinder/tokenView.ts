/**
 * Moving over the tokens of scriptTokens.ts, for the light step-point finder (stepPointFinder.ts): what a token
 * is, where a bracket or template ends, whether a token ends or continues an expression, where a member chain
 * starts (`a.b(…)[0].c`). The statement parser and the model-building guess (layerCallGuess.ts) extend it.
 */
import { Tok, type TokenizedScript } from './scriptTokens';

/** identifiers that never end an expression (operators and statement keywords) */
const NOT_END = new Set([
  'typeof',
  'void',
  'delete',
  'await',
  'yield',
  'new',
  'in',
  'instanceof',
  'of',
  'as',
  'satisfies',
  'keyof',
  'extends',
  'implements',
  'return',
  'throw',
  'case',
  'else',
  'do',
  'if',
  'for',
  'while',
  'switch',
  'try',
  'catch',
  'finally',
  'var',
  'let',
  'const',
  'function',
  'class',
  'import',
  'export',
  'default',
  'is',
  'asserts',
  'infer',
  'readonly',
  'unique',
]);

/** punctuators that cannot continue an expression on the next line (there, a statement ends) */
const NO_CONTINUE = new Set(['{', '}', ')', ']', ';', '++', '--', '!', '~', '@', '#', '...']);

/** keywords whose `( … )` is part of a statement, not an expression */
const STATEMENT_PARENS = new Set(['if', 'while', 'for', 'switch', 'with', 'catch']);

export class TokenView {
  /** the tokens (scriptTokens.ts): kind, start, end, matching bracket, line break before, value */
  protected readonly K: Uint8Array;
  protected readonly S: Int32Array;
  protected readonly E: Int32Array;
  protected readonly M: Int32Array;
  protected readonly NL: Uint8Array;
  protected readonly V: readonly string[];

  constructor(tokens: TokenizedScript) {
    this.K = tokens.kind;
    this.S = tokens.start;
    this.E = tokens.end;
    this.M = tokens.match;
    this.NL = tokens.nl;
    this.V = tokens.value;
  }

  protected is(idx: number, v: string): boolean {
    const x = idx;
    return x !== undefined && (this.K[x] === Tok.Punct || this.K[x] === Tok.Ident) && this.V[x] === v;
  }

  protected punct(idx: number, v: string): boolean {
    const x = idx;
    return x !== undefined && this.K[x] === Tok.Punct && this.V[x] === v;
  }

  protected ident(idx: number): boolean {
    const x = idx;
    return x !== undefined && this.K[x] === Tok.Ident;
  }

  /** the index after the token at k, or after the whole bracket (template) it opens */
  protected after(k: number): number {
    const x = k;
    if (this.K[x] === Tok.TemplateHead || this.K[x] === Tok.TemplateMiddle) {
      let o = this.M[x];
      while (this.K[o] === Tok.TemplateMiddle) o = this.M[o];
      return o + 1;
    }
    return this.M[x] >= 0 && this.K[x] === Tok.Punct && (this.V[x] === '(' || this.V[x] === '[' || this.V[x] === '{')
      ? this.M[x] + 1
      : k + 1;
  }

  /** does token idx end an expression (so that a line break after it may end the statement)? */
  protected endsExpression(idx: number): boolean {
    if (idx < 0) return false;
    const x = idx;
    switch (this.K[x]) {
      case Tok.Ident:
        // a keyword after `.` is a property name (`gen.else().code()`)
        return !NOT_END.has(this.V[x]) || this.punct(idx - 1, '.') || this.punct(idx - 1, '?.');
      case Tok.PrivateName:
      case Tok.String:
      case Tok.Number:
      case Tok.Regex:
      case Tok.Template:
      case Tok.TemplateTail:
        return true;
      case Tok.Punct:
        if (this.V[x] === ')' || this.V[x] === ']' || this.V[x] === '}') return true;
        // postfix `x++`, `x!`
        if (this.V[x] === '++' || this.V[x] === '--' || this.V[x] === '!')
          return !this.NL[x] && this.endsExpression(idx - 1);
        return false;
      default:
        return false;
    }
  }

  /** can token idx continue an expression that ended on the line before? */
  protected continues(idx: number): boolean {
    const x = idx;
    if (this.K[x] === Tok.Punct) return !NO_CONTINUE.has(this.V[x]);
    // a tagged template; a template's own parts
    if (
      this.K[x] === Tok.Template ||
      this.K[x] === Tok.TemplateHead ||
      this.K[x] === Tok.TemplateMiddle ||
      this.K[x] === Tok.TemplateTail
    )
      return true;
    if (this.K[x] === Tok.Ident) return this.V[x] === 'in' || this.V[x] === 'instanceof';
    return false;
  }

  /**
   * Is the group `(…)` from `open` a parenthesized expression whose contents end at `innerEnd` with a member access
   * (a callee `(recv.m)`, `(recv.m!)`)?
   */
  protected parenthesizedChain(open: number, innerEnd: number): boolean {
    if (this.endsExpression(open - 1) || this.punct(open - 1, '?.')) return false; // arguments, not parentheses
    if (this.ident(open - 1) && STATEMENT_PARENS.has(this.V[open - 1])) return false; // `if (…)`
    let k = innerEnd;
    while (this.punct(k, '!')) k--;
    const c = this.chainStart(this.punct(k, ']') ? this.M[k] : k - 1);
    return c.start === open + 1;
  }

  /**
   * Walks back a member chain (`a.b(…)[0].c`) from the `.`/`?.`/`[` at `dot`: its first token, and whether a `new`
   * applies to it with no call in between (`new a.b.m(…)` constructs).
   */
  protected chainStart(dot: number): { start: number; isNew: boolean } {
    let k = dot - 1;
    if (this.punct(k, '?.')) k--;
    let called = false;
    for (;;) {
      while (this.punct(k, '!') && this.endsExpression(k - 1) && !this.NL[k]) k--;
      const x = k;
      if (k < 0) return { start: 0, isNew: false };
      if (this.K[x] === Tok.Punct && (this.V[x] === ')' || this.V[x] === ']')) {
        const o = this.M[x];
        if (this.endsExpression(o - 1) || this.punct(o - 1, '?.')) {
          // arguments or an index: the chain goes on before them
          if (this.V[x] === ')') called = true;
          k = o - 1;
          if (this.punct(k, '?.')) k--;
          continue;
        }
        // type arguments before arguments, `.map<T>(…)`
        const lt = this.V[x] === ')' && this.punct(o - 1, '>') ? this.angleOpen(o - 1) : -1;
        if (lt > 0 && this.ident(lt - 1)) {
          called = true;
          k = lt - 1;
          continue;
        }
        return { start: o, isNew: false };
      }
      if (
        this.K[x] === Tok.Ident ||
        this.K[x] === Tok.PrivateName ||
        this.K[x] === Tok.String ||
        this.K[x] === Tok.Number ||
        this.K[x] === Tok.Template ||
        this.K[x] === Tok.TemplateTail
      ) {
        if (
          (this.punct(k - 1, '.') || this.punct(k - 1, '?.')) &&
          this.K[x] !== Tok.String &&
          this.K[x] !== Tok.Number
        ) {
          k -= 2;
          continue;
        }
        if (this.K[x] === Tok.TemplateTail) return { start: this.templateStart(k), isNew: false };
        // `new a.b(…)…`: the call starts at `new`; with no call before, the `new` takes the arguments
        if (this.is(k - 1, 'new')) return { start: k - 1, isNew: !called };
        return { start: k, isNew: false };
      }
      return { start: k, isNew: false };
    }
  }

  /** the `<` matching the `>` at `gt`, walking back over brackets, or -1 */
  protected angleOpen(gt: number): number {
    let depth = 0;
    for (let k = gt; k >= 0; k--) {
      const x = k;
      if (this.K[x] !== Tok.Punct) continue;
      if (this.V[x] === '>') depth++;
      else if (this.V[x] === '<' && --depth === 0) return k;
      else if (this.V[x] === ')' || this.V[x] === ']' || this.V[x] === '}') k = this.M[x];
      else if (this.V[x] === ';' || this.V[x] === '{' || this.V[x] === '(' || this.V[x] === '[') return -1;
    }
    return -1;
  }

  protected templateStart(k: number): number {
    let o = this.M[k];
    while (o >= 0 && this.K[o] === Tok.TemplateMiddle) o = this.M[o];
    return o;
  }
}

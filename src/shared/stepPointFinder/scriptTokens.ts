/**
 * A TypeScript / JavaScript tokenizer for the light step-point finder (stepPointFinder.ts): tokens with their
 * offsets, whether a line break precedes them (for automatic semicolon insertion) and, for brackets, the index of
 * the matching one. Comments are skipped (the finder reads them back from the text for `// @step`); strings,
 * template literals (with their `${…}` substitutions as bracket pairs) and regular expressions are single tokens, so
 * nothing inside them is ever taken for code. Lexical errors (an unterminated string, comment, template or regular
 * expression; a bracket that does not match) are reported, not thrown.
 *
 * Why not TypeScript's own scanner (ts.createScanner): it lives in the 10 MB `typescript` module, whose loading alone
 * costs 0.5-2 s in the extension host; this file is a few KB of the extension's bundle. It does what TypeScript's
 * scanner does for the tokens the finder looks at; `/` after `)`, `]`, `}` or an identifier is division (TypeScript
 * decides from the grammar; the difference is a regular expression right after `if (…)`), and JSX is not read.
 *
 * One unit over 250 lines: a tokenizer is one loop over the characters with one case per kind of token.
 */

export const enum Tok {
  Ident,
  PrivateName,
  Punct,
  String,
  Number,
  Regex,
  /** a template without substitution, `…` */
  Template,
  /** `…${ : opens a substitution (a bracket whose match is the next TemplateMiddle or TemplateTail) */
  TemplateHead,
  /** }…${ : closes a substitution and opens the next */
  TemplateMiddle,
  /** }…` : closes the last substitution */
  TemplateTail,
  EOF,
}

/**
 * The tokens, one entry per token in each array (typed arrays, not an object per token: a 2,000-line script has
 * some 25,000 tokens, and objects that live through the whole scan make every garbage collection during it copy them).
 */
export interface TokenizedScript {
  /** how many tokens (the last is Tok.EOF) */
  count: number;
  /** the kind of each token (Tok) */
  kind: Uint8Array;
  /** start and end offsets in the text */
  start: Int32Array;
  end: Int32Array;
  /** for a bracket (and a template part that opens or closes a substitution): the index of its match, else -1 */
  match: Int32Array;
  /** 1: a line break between the previous token and this one */
  nl: Uint8Array;
  /** an identifier's or punctuator's text, a string literal's value (escapes kept as written); '' for the rest */
  value: string[];
  /** the first lexical error: offset and message */
  error: { pos: number; message: string } | null;
}

/** identifiers after which `/` starts a regular expression (the rest of the identifiers end an expression) */
const REGEX_AFTER_KEYWORD = new Set([
  'return',
  'typeof',
  'instanceof',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'case',
  'do',
  'else',
  'yield',
  'await',
]);

/** ASCII characters: 1 may start an identifier, 2 may continue one */
const IDENT = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const start = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 36 || c === 95 || c === 92;
  IDENT[c] = start ? 3 : c >= 48 && c <= 57 ? 2 : 0;
}

function isIdentStart(c: number): boolean {
  return c < 128 ? (IDENT[c] & 1) !== 0 : true;
}

function isIdentPart(c: number): boolean {
  return c < 128 ? (IDENT[c] & 2) !== 0 : true;
}

function isLineBreak(c: number): boolean {
  return c === 10 || c === 13 || c === 0x2028 || c === 0x2029;
}

export function tokenize(text: string): TokenizedScript {
  const n = text.length;
  // at most one token per character, and the EOF token
  const kind = new Uint8Array(n + 1);
  const starts = new Int32Array(n + 1);
  const ends = new Int32Array(n + 1);
  const match = new Int32Array(n + 1).fill(-1);
  const nls = new Uint8Array(n + 1);
  const value: string[] = [];
  let count = 0;
  /** open brackets: token indices */
  const open: number[] = [];
  let pos = 0;
  let nl = false;
  let error: TokenizedScript['error'] = null;
  const fail = (at: number, message: string) => {
    if (!error) error = { pos: at, message };
  };
  const push = (k: Tok, s: number, e: number, v: string): number => {
    kind[count] = k;
    starts[count] = s;
    ends[count] = e;
    nls[count] = nl ? 1 : 0;
    value.push(v);
    nl = false;
    return count++;
  };
  /** a template's characters from `pos` (after ` or }) up to its end or a substitution; returns the kind */
  const templateRest = (): 'end' | 'sub' | 'open' => {
    while (pos < n) {
      const c = text.charCodeAt(pos);
      if (c === 96) {
        pos++;
        return 'end';
      }
      if (c === 92) pos += 2;
      else if (c === 36 && text.charCodeAt(pos + 1) === 123) {
        pos += 2;
        return 'sub';
      } else pos++;
    }
    return 'open';
  };
  const closeBracket = (idx: number, opener: string) => {
    const o = open.pop();
    if (o === undefined) {
      fail(starts[idx], `'${value[idx]}' has no opening bracket.`);
      return;
    }
    const ov = kind[o] === Tok.Punct ? value[o] : '${';
    if (ov !== opener) fail(starts[idx], `'${ov === '${' ? '}' : closerOf(ov)}' expected.`);
    match[o] = idx;
    match[idx] = o;
  };

  // a shebang line
  if (text.startsWith('#!')) while (pos < n && !isLineBreak(text.charCodeAt(pos))) pos++;

  while (pos < n) {
    const c = text.charCodeAt(pos);
    // white space and line breaks
    if (c === 32 || c === 9 || c === 11 || c === 12 || c === 0xa0 || c === 0xfeff) {
      pos++;
      continue;
    }
    if (isLineBreak(c)) {
      nl = true;
      pos++;
      continue;
    }
    const start = pos;
    // comments
    if (c === 47) {
      const d = text.charCodeAt(pos + 1);
      if (d === 47) {
        while (pos < n && !isLineBreak(text.charCodeAt(pos))) pos++;
        continue;
      }
      if (d === 42) {
        const end = text.indexOf('*/', pos + 2);
        if (end < 0) {
          fail(start, `'*/' expected.`);
          pos = n;
          continue;
        }
        for (let i = pos + 2; i < end; i++) if (isLineBreak(text.charCodeAt(i))) nl = true;
        pos = end + 2;
        continue;
      }
    }
    if (c < 128 ? (IDENT[c] & 1) !== 0 : isIdentStart(c)) {
      pos++;
      for (; pos < n; pos++) {
        const d = text.charCodeAt(pos);
        if (d < 128 && (IDENT[d] & 2) === 0) break;
      }
      push(Tok.Ident, start, pos, text.slice(start, pos));
      continue;
    }
    if (c === 35 && isIdentStart(text.charCodeAt(pos + 1))) {
      pos += 2;
      while (pos < n && isIdentPart(text.charCodeAt(pos))) pos++;
      push(Tok.PrivateName, start, pos, text.slice(start, pos));
      continue;
    }
    // numbers (decimal, hex/octal/binary, separators, exponents, bigint)
    if ((c >= 48 && c <= 57) || (c === 46 && text.charCodeAt(pos + 1) >= 48 && text.charCodeAt(pos + 1) <= 57)) {
      const hex = c === 48 && (text.charCodeAt(pos + 1) | 32) === 120;
      pos++;
      while (pos < n) {
        const d = text.charCodeAt(pos);
        if (isIdentPart(d) || d === 46) pos++;
        else if ((d === 43 || d === 45) && (text.charCodeAt(pos - 1) | 32) === 101 && !hex)
          pos++; // 1e+5
        else break;
      }
      push(Tok.Number, start, pos, '');
      continue;
    }
    // strings
    if (c === 34 || c === 39) {
      pos++;
      let closed = false;
      while (pos < n) {
        const d = text.charCodeAt(pos);
        if (d === c) {
          pos++;
          closed = true;
          break;
        }
        if (d === 92) {
          pos += 2; // an escape, or a line continuation (\ CR LF: one more)
          if (text.charCodeAt(pos - 1) === 13 && text.charCodeAt(pos) === 10) pos++;
        } else if (d === 10 || d === 13) break;
        else pos++;
      }
      if (!closed) fail(start, 'Unterminated string literal.');
      push(Tok.String, start, pos, text.slice(start + 1, closed ? pos - 1 : pos));
      continue;
    }
    // templates
    if (c === 96) {
      pos++;
      const r = templateRest();
      if (r === 'open') fail(start, 'Unterminated template literal.');
      if (r === 'sub') open.push(push(Tok.TemplateHead, start, pos, ''));
      else push(Tok.Template, start, pos, '');
      continue;
    }
    // a `}` that closes a template substitution continues the template
    if (c === 125 && open.length && kind[open[open.length - 1]] !== Tok.Punct) {
      pos++;
      const r = templateRest();
      if (r === 'open') fail(start, 'Unterminated template literal.');
      const idx = push(r === 'sub' ? Tok.TemplateMiddle : Tok.TemplateTail, start, pos, '');
      closeBracket(idx, '${');
      if (r === 'sub') open.push(idx);
      continue;
    }
    // regular expressions: where an expression may start
    if (c === 47 && regexAllowed(count ? kind[count - 1] : -1, count ? value[count - 1] : '')) {
      pos++;
      let inClass = false;
      let closed = false;
      while (pos < n) {
        const d = text.charCodeAt(pos);
        if (isLineBreak(d)) break;
        pos++;
        if (d === 92) pos++;
        else if (d === 91) inClass = true;
        else if (d === 93) inClass = false;
        else if (d === 47 && !inClass) {
          closed = true;
          break;
        }
      }
      if (!closed) fail(start, 'Unterminated regular expression literal.');
      while (pos < n && isIdentPart(text.charCodeAt(pos))) pos++;
      push(Tok.Regex, start, pos, '');
      continue;
    }
    // punctuators
    const p = punctuator(text, pos, c);
    pos += p.length;
    const idx = push(Tok.Punct, start, pos, p);
    if (p === '(' || p === '[' || p === '{') open.push(idx);
    else if (p === ')') closeBracket(idx, '(');
    else if (p === ']') closeBracket(idx, '[');
    else if (p === '}') closeBracket(idx, '{');
  }
  if (open.length) {
    // reported where the bracket that is never closed opens
    const o = open[open.length - 1];
    fail(starts[o], kind[o] === Tok.Punct ? `'${closerOf(value[o])}' expected.` : 'Unterminated template literal.');
  }
  push(Tok.EOF, n, n, '');
  return { count, kind, start: starts, end: ends, match, nl: nls, value, error };
}

/** the punctuator at pos (first character c), longest match; `>` is always one token, as in TypeScript's scanner */
function punctuator(text: string, pos: number, c: number): string {
  const c1 = text.charCodeAt(pos + 1);
  const c2 = text.charCodeAt(pos + 2);
  switch (c) {
    case 46: // .
      return c1 === 46 && c2 === 46 ? '...' : '.';
    case 61: // =
      if (c1 === 61) return c2 === 61 ? '===' : '==';
      return c1 === 62 ? '=>' : '=';
    case 33: // !
      if (c1 === 61) return c2 === 61 ? '!==' : '!=';
      return '!';
    case 42: // *
      if (c1 === 42) return c2 === 61 ? '**=' : '**';
      return c1 === 61 ? '*=' : '*';
    case 60: // <
      if (c1 === 60) return c2 === 61 ? '<<=' : '<<';
      return c1 === 61 ? '<=' : '<';
    case 38: // &
      if (c1 === 38) return c2 === 61 ? '&&=' : '&&';
      return c1 === 61 ? '&=' : '&';
    case 124: // |
      if (c1 === 124) return c2 === 61 ? '||=' : '||';
      return c1 === 61 ? '|=' : '|';
    case 63: // ?
      if (c1 === 63) return c2 === 61 ? '??=' : '??';
      // `?.` followed by a digit is `?` and a number (`a?.5:1`)
      return c1 === 46 && !(c2 >= 48 && c2 <= 57) ? '?.' : '?';
    case 43: // +
      return c1 === 43 ? '++' : c1 === 61 ? '+=' : '+';
    case 45: // -
      return c1 === 45 ? '--' : c1 === 61 ? '-=' : '-';
    case 47: // /
      return c1 === 61 ? '/=' : '/';
    case 37: // %
      return c1 === 61 ? '%=' : '%';
    case 94: // ^
      return c1 === 61 ? '^=' : '^';
    default:
      return text[pos];
  }
}

function closerOf(opener: string): string {
  return opener === '(' ? ')' : opener === '[' ? ']' : '}';
}

/** may a `/` here start a regular expression (not a division)? */
function regexAllowed(prevKind: number, prev: string): boolean {
  if (prevKind < 0) return true;
  switch (prevKind) {
    case Tok.Ident:
      return REGEX_AFTER_KEYWORD.has(prev);
    case Tok.Punct:
      return prev !== ')' && prev !== ']' && prev !== '}' && prev !== '++' && prev !== '--';
    case Tok.TemplateHead:
    case Tok.TemplateMiddle:
      return true;
    default:
      return false;
  }
}

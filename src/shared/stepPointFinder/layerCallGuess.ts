/**
 * The editor's guess, before any run, of which step points only build a model (the engine's rule, from the text:
 * src/shared/stepPoints.ts looksLikeModelBuilding): `apply` on a layer made in the same expression
 * (`tf.layers.dense({…}).apply(h)`, `new MyLayer().apply(h)`) with no argument that computes (`{ training: … }`,
 * `tf.x(…)` other than `tf.input`). Read from the tokens (tokenView.ts); the statement parser extends it.
 */
import { Tok } from './scriptTokens';
import { TokenView } from './tokenView';

export class LayerCallGuess extends TokenView {
  /** the receiver ending at `end` (before `.apply`) is a layer made right there: `new X(…)`, `….layers.x(…)` */
  protected isFreshLayer(end: number): boolean {
    for (;;) {
      while (this.punct(end, '!')) end--;
      const x = end;
      if (!(this.K[x] === Tok.Punct && this.V[x] === ')')) return false;
      const o = this.M[x];
      if (!this.endsExpression(o - 1)) {
        // parentheses around the receiver
        if (!this.wholeGroupIsChain(o, end)) return false;
        end -= 1;
        continue;
      }
      // `callee(…)`: a `new` of a plain chain, or a call of `ns.x` with ns `layers` or `….layers`
      const c = this.chainStart(o);
      if (c.isNew) return true;
      return (
        this.K[o - 1] === Tok.Ident &&
        (this.punct(o - 2, '.') || this.punct(o - 2, '?.')) &&
        this.K[o - 3] === Tok.Ident &&
        this.V[o - 3] === 'layers'
      );
    }
  }

  /** is `( … )` from `open` to `close` one chain (`(tf.layers.dense({…}))`, `(new X())`)? */
  protected wholeGroupIsChain(open: number, close: number): boolean {
    const inner = close - 1;
    const x = inner;
    if (this.K[x] === Tok.Punct && this.V[x] === ')') {
      const o = this.M[x];
      if (o === open + 1) return true; // `((…))`
      return this.chainStart(o).start === open + 1;
    }
    return false;
  }

  /** an argument of the call whose `(` is at `open` says it computes: `{ training: … }`, or `tf.x(…)` (not tf.input) */
  protected computesArgument(open: number): boolean {
    const close = this.M[open];
    let a = open + 1;
    while (a < close) {
      let b = a;
      while (b < close && !this.punct(b, ',')) b = this.after(b);
      if (this.argumentComputes(a, b)) return true;
      a = b + 1;
    }
    return false;
  }

  protected argumentComputes(a: number, b: number): boolean {
    while (this.punct(a, '(') && this.M[a] === b - 1) {
      a++;
      b--;
    }
    if (this.punct(a, '{') && this.M[a] === b - 1) {
      // an object literal with a property named `training`
      let k = a + 1;
      let memberStart = true;
      while (k < b - 1) {
        const x = k;
        if (memberStart) {
          let j = k;
          while (
            this.K[j] === Tok.Ident &&
            (this.V[j] === 'async' || this.V[j] === 'get' || this.V[j] === 'set') &&
            this.K[j + 1] === Tok.Ident
          )
            j++;
          if (this.punct(j, '*')) j++;
          if (this.K[j] === Tok.Ident && this.V[j] === 'training') return true;
          memberStart = false;
        }
        if (this.K[x] === Tok.Punct && this.V[x] === ',') memberStart = true;
        k = this.after(k);
      }
      return false;
    }
    // `tf.x(…)` with x not `input`
    return (
      this.K[a] === Tok.Ident &&
      this.V[a] === 'tf' &&
      (this.punct(a + 1, '.') || this.punct(a + 1, '?.')) &&
      this.K[a + 2] === Tok.Ident &&
      this.V[a + 2] !== 'input' &&
      this.punct(a + 3, '(') &&
      this.M[a + 3] === b - 1
    );
  }
}

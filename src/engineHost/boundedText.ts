/**
 * A script's output kept within a bound: the first `headChars` and the last `tailChars` characters, with one line in
 * between that says how much was dropped. A script that prints 600 MB cannot make the host build a string it cannot
 * hold (V8's limit is about 512 MB), and what is kept is what a reader wants: the start and the end.
 */
export const OUTPUT_HEAD_CHARS = 4 * 1024 * 1024;
export const OUTPUT_TAIL_CHARS = 4 * 1024 * 1024;

export class BoundedText {
  private head = '';
  /** pieces of the tail, oldest first; their total length is tailLength */
  private tail: string[] = [];
  private tailLength = 0;
  private droppedChars = 0;

  constructor(
    private readonly headChars = OUTPUT_HEAD_CHARS,
    private readonly tailChars = OUTPUT_TAIL_CHARS,
  ) {}

  add(text: string): void {
    if (this.head.length < this.headChars) {
      const room = this.headChars - this.head.length;
      this.head += text.slice(0, room);
      text = text.slice(room);
      if (!text) return;
    }
    this.tail.push(text);
    this.tailLength += text.length;
    // drop whole pieces, then cut the oldest one, until the tail fits
    while (this.tailLength > this.tailChars) {
      const over = this.tailLength - this.tailChars;
      const first = this.tail[0];
      if (first.length <= over) {
        this.tail.shift();
        this.tailLength -= first.length;
        this.droppedChars += first.length;
      } else {
        this.tail[0] = first.slice(over);
        this.tailLength -= over;
        this.droppedChars += over;
      }
    }
  }

  /** characters dropped from the middle so far */
  get dropped(): number {
    return this.droppedChars;
  }

  toString(): string {
    const tail = this.tail.join('');
    if (this.droppedChars === 0) return this.head + tail;
    this.tail = [tail];
    const note = `\n[bn-inspector: ${this.droppedChars} characters of output dropped here; the first ${this.headChars} and the last ${this.tailChars} are kept]\n`;
    return this.head + note + tail;
  }
}

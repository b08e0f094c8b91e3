/**
 * Text bound for a terminal, made safe: control characters (C0 but newline and tab, DEL, C1) are written as visible
 * escapes (`\x1b`, `\x07`, `\u009b`), so a garbage file's bytes, a layer name or an error message cannot move the
 * cursor, recolour or retitle the user's terminal. The JSON document needs none of this (JSON escapes them).
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x80 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

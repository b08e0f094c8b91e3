// What the host accepts from the webview (src/shared/webviewMessages.ts): the panel's real messages pass, anything
// else is dropped: unknown types and commands (including Object.prototype's names), paths and lines that are not.
import * as assert from 'node:assert/strict';
import { parseWebviewMessage } from '../../src/shared/webviewMessages';

describe('webview -> host messages are validated', () => {
  it('passes the messages the panel sends, as they are', () => {
    for (const m of [
      { type: 'ready' },
      { type: 'command', command: 'step' },
      { type: 'command', command: 'runToCursor' },
      { type: 'command', command: 'restart' },
      { type: 'command', command: 'stop' },
      { type: 'command', command: 'continue' },
      { type: 'revealLine', file: '/home/u/First Last (work)/q.ts', line: 14 },
      { type: 'rendered', stepIndex: 0, ms: 0 },
      { type: 'rendered', stepIndex: 3, ms: 12.5 },
    ])
      assert.deepEqual(parseWebviewMessage(m), m);
  });

  it('drops extra fields: only the typed ones reach the host', () => {
    assert.deepEqual(parseWebviewMessage({ type: 'command', command: 'stop', then: 'rm -rf' }), {
      type: 'command',
      command: 'stop',
    });
  });

  it('drops unknown commands, Object.prototype names included', () => {
    for (const command of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'exportSnapshots', '', 1, null])
      assert.equal(parseWebviewMessage({ type: 'command', command }), null, String(command));
  });

  it('drops bad reveal requests: no file, a NUL, a huge path, a line that is not a whole number from 1', () => {
    for (const m of [
      { type: 'revealLine', line: 3 },
      { type: 'revealLine', file: '', line: 3 },
      { type: 'revealLine', file: '/a\0b.ts', line: 3 },
      { type: 'revealLine', file: '/' + 'a'.repeat(5000), line: 3 },
      { type: 'revealLine', file: '/a.ts', line: NaN },
      { type: 'revealLine', file: '/a.ts', line: 0 },
      { type: 'revealLine', file: '/a.ts', line: -1 },
      { type: 'revealLine', file: '/a.ts', line: 2.5 },
      { type: 'revealLine', file: '/a.ts', line: Infinity },
      { type: 'revealLine', file: '/a.ts', line: '3' },
      { type: 'revealLine', file: ['/a.ts'], line: 3 },
    ])
      assert.equal(parseWebviewMessage(m), null, JSON.stringify(m));
  });

  it('drops what is not a message at all', () => {
    for (const raw of [null, undefined, 0, 'ready', [], ['ready'], {}, { type: 'eval' }, { type: 'rendered' }])
      assert.equal(parseWebviewMessage(raw), null, JSON.stringify(raw));
    assert.equal(parseWebviewMessage({ type: 'rendered', stepIndex: 1, ms: NaN }), null);
  });
});

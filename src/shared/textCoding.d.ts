/**
 * TextEncoder / TextDecoder: globals of every runtime this folder runs in (Node, the worker, the webview), typed
 * here because src/shared sees neither Node's nor the DOM's declarations.
 */
declare class TextEncoder {
  encode(input?: string): Uint8Array;
  encodeInto(source: string, destination: Uint8Array): { read: number; written: number };
}
declare class TextDecoder {
  constructor(label?: string);
  decode(input?: ArrayBufferView | ArrayBuffer): string;
}

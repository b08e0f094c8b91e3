// Types for codeServer.mjs (imported by test/e2e/harness.ts).
import type { ChildProcess } from 'node:child_process';
import type { BrowserContext, Page } from 'playwright-core';

export interface CodeServer {
  port: number;
  origin: string;
  pid: number;
  child: ChildProcess;
  logFile?: string;
  tail(n?: number): string;
  url(folder: string, payload?: Array<[string, string]>): string;
  remoteUri(absPath: string): string;
  stop(): Promise<void>;
}
export interface StartCodeServerOptions {
  userDataDir: string;
  extensionsDir: string;
  trusted?: boolean;
  smokeTestDriver?: boolean;
  env?: Record<string, string>;
  logFile?: string;
  settings?: Record<string, unknown>;
  startupTimeoutMs?: number;
  port?: number;
  extraArgs?: string[];
}
export declare function killGroup(pgid: number, graceMs?: number): Promise<void>;
export declare function isShuttingDown(): boolean;
export declare function trackGroup(pgid: number): () => void;
export declare function killGroupSync(pgid: number): void;
export declare function killRecordedGroups(dir: string): number;
export declare function onExitCleanup(fn: () => void): () => void;
export declare function freePort(): Promise<number>;
export declare function writeUserSettings(userDataDir: string, settings: Record<string, unknown>): string;
export declare const QUIET_SETTINGS: Record<string, unknown>;
export declare function startCodeServer(opts: StartCodeServerOptions): Promise<CodeServer>;
export declare function installExtension(opts: {
  vsix: string;
  userDataDir: string;
  extensionsDir: string;
  logFile?: string;
}): Promise<string>;
export declare const CHROMIUM_ARGS: string[];
export declare function launchChromium(opts: {
  profileDir: string;
  viewport?: { width: number; height: number };
}): Promise<{ context: BrowserContext; page: Page }>;
export declare const NOISE: RegExp[];
export declare function isNoise(line: string): boolean;

// Types for tools.mjs (imported by test/e2e/harness.ts).
export declare const NODE24_VERSION: string;
export declare const CODE_SERVER_VERSION: string;
export declare const CODE_VERSION: string;
export declare const CHROMIUM: string;
export declare const ROOT: string;
export declare const CACHE: string;
export declare const NODE24_PREFIX: string;
export declare const NODE24_HOME: string;
export declare const NODE24_BIN: string;
export declare const CS_PREFIX: string;
export declare const CODE_SERVER: string;
export declare const LOGS: string;
export declare const RUNS: string;
export declare const DEV_EXTENSION: string;
export declare function toolEnv(opts?: { node24?: boolean; extra?: Record<string, string> }): NodeJS.ProcessEnv;
export declare function seconds(ms: number): string;
export declare function toolsPresent(): boolean;
export declare function ensureTools(opts?: { log?: (msg: string) => void }): Promise<number>;

/** Types of harness.cjs (plain CommonJS so the launcher runs without a TypeScript loader). */
import type { ChildProcess } from 'node:child_process';
import type { Browser } from 'playwright-core';

export interface TempRoot {
  root: string;
  dirs: Record<'config' | 'tmp' | 'user-data' | 'server-data' | 'extensions', string>;
  cleanup(): void;
}
export interface Running {
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
  exit: Promise<void>;
}
export declare const CACHE: string;
export declare const NODE24: string;
export declare const CODE_SERVER: string;
export declare const CHROMIUM: string;
export declare function requireInstalled(): void;
export declare function freePort(): Promise<number>;
export declare function tempRoot(prefix: string): TempRoot;
export declare function waitForHttp(url: string, timeoutMs: number): Promise<void>;
export declare function startServerMain(tmp: TempRoot, o?: { extraEnv?: Record<string, string>; logFile?: string }): Promise<Running>;
export declare function startCodeServer(tmp: TempRoot, o?: { port?: number; workspace?: string; logFile?: string; extraArgs?: string[] }): Promise<Running>;
export declare function codeServerCli(tmp: TempRoot, args: string[], o?: { timeoutMs?: number }): string;
export declare function launchChromium(): Promise<Browser>;
export declare function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T>;

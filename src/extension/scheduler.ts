/**
 * When to analyse a document, as a small pure state machine (no `vscode` import; the timer is
 * injected, so tests drive it by hand): each document has at most one pending run; a newer
 * request for the same document cancels the pending one (debounce), closing a document cancels
 * it, and a result is delivered only if the document is still at the version that was analysed
 * (stale results are dropped). A run that starts while an older one for the same document is
 * still in flight marks the older one cancelled, so only the newest result can be delivered.
 */

export interface Timer {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const realTimer: Timer = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** A cancellation flag a running analysis may poll; set when a newer request supersedes it. */
export interface Cancellation {
  readonly cancelled: boolean;
}

export interface Job<R> {
  /** The document version the job analyses. */
  version: number;
  run(token: Cancellation): R | Promise<R>;
}

export interface SchedulerStats {
  started: number;
  delivered: number;
  dropped: number;
  cancelled: number;
}

interface Pending {
  handle: unknown;
  token: { cancelled: boolean };
}

export class Scheduler<R> {
  private readonly pending = new Map<string, Pending>();
  private readonly running = new Map<string, { cancelled: boolean }>();
  /** Stats for tests and the output channel: over all documents, and per document. */
  readonly stats: SchedulerStats = { started: 0, delivered: 0, dropped: 0, cancelled: 0 };
  private readonly perKey = new Map<string, SchedulerStats>();

  constructor(
    private readonly timer: Timer,
    /** The current version of a document, or undefined once it is closed. */
    private readonly currentVersion: (key: string) => number | undefined,
    private readonly deliver: (key: string, result: R, version: number) => void,
  ) {}

  /** Requests an analysis of `key` after `delayMs`, replacing any pending request for it. */
  request(key: string, job: Job<R>, delayMs: number): void {
    this.cancel(key);
    const token = { cancelled: false };
    const handle = this.timer.set(() => {
      this.pending.delete(key);
      void this.start(key, job, token);
    }, delayMs);
    this.pending.set(key, { handle, token });
  }

  /** Cancels the pending and running analyses of `key` (edits superseded it, or it closed). */
  cancel(key: string): void {
    const p = this.pending.get(key);
    if (p) {
      this.timer.clear(p.handle);
      p.token.cancelled = true;
      this.pending.delete(key);
      this.count(key, 'cancelled');
    }
    const r = this.running.get(key);
    if (r) r.cancelled = true;
  }

  /** A copy of the stats of one document (all zero if it was never requested). */
  statsOf(key: string): SchedulerStats {
    return { ...(this.perKey.get(key) ?? { started: 0, delivered: 0, dropped: 0, cancelled: 0 }) };
  }

  /** Whether `key` has neither a pending nor a running analysis. */
  idle(key: string): boolean {
    return !this.pending.has(key) && !this.running.has(key);
  }

  private count(key: string, what: keyof SchedulerStats): void {
    this.stats[what]++;
    let s = this.perKey.get(key);
    if (!s) this.perKey.set(key, (s = { started: 0, delivered: 0, dropped: 0, cancelled: 0 }));
    s[what]++;
  }

  dispose(): void {
    for (const k of [...this.pending.keys()]) this.cancel(k);
    for (const r of this.running.values()) r.cancelled = true;
  }

  private async start(key: string, job: Job<R>, token: { cancelled: boolean }): Promise<void> {
    if (token.cancelled) return;
    // A run still in flight for an older version is superseded: its result will be dropped.
    const older = this.running.get(key);
    if (older) older.cancelled = true;
    this.running.set(key, token);
    this.count(key, 'started');
    let result: R;
    try {
      result = await job.run(token);
    } catch {
      // The analyzer never throws on user code; a failure here leaves the old results in place.
      if (this.running.get(key) === token) this.running.delete(key);
      return;
    }
    if (this.running.get(key) === token) this.running.delete(key);
    if (token.cancelled || this.currentVersion(key) !== job.version) {
      this.count(key, 'dropped');
      return;
    }
    this.count(key, 'delivered');
    this.deliver(key, result, job.version);
  }
}

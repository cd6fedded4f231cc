/**
 * Child processes for integration tests: spawned with captured output, bounded waits, and a
 * registry so `stopAllProcesses()` in afterAll (and process exit as a last resort) kills what a
 * test left behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** Options for {@link startProcess}. */
export interface StartProcessOptions {
  /** Executable, looked up in PATH. */
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Prefix for error messages (defaults to the command). */
  label?: string;
}

/** How a child process ended. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Raised when a wait on a child process runs out of time. */
export class ProcessTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProcessTimeoutError';
  }
}

/** A running (or finished) child process with its captured stdout and stderr. */
export class ManagedProcess {
  private stdoutText = '';
  private stderrText = '';
  private exitInfo: ProcessExit | undefined;
  private readonly exitPromise: Promise<ProcessExit>;
  private readonly outputListeners = new Set<() => void>();

  constructor(private readonly child: ChildProcess, readonly label: string) {
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      this.stdoutText += chunk;
      this.notifyOutput();
    });
    child.stderr?.on('data', (chunk: string) => {
      this.stderrText += chunk;
      this.notifyOutput();
    });
    this.exitPromise = new Promise((resolve) => {
      const finish = (exit: ProcessExit): void => {
        if (this.exitInfo) return;
        this.exitInfo = exit;
        live.delete(this);
        this.notifyOutput();
        resolve(exit);
      };
      child.once('exit', (code, signal) => finish({ code, signal }));
      child.once('error', (error) => {
        this.stderrText += `spawn error: ${error.message}\n`;
        finish({ code: -1, signal: null });
      });
    });
  }

  /** Operating-system process id (undefined if spawning failed). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Captured stdout so far. */
  get stdout(): string {
    return this.stdoutText;
  }

  /** Captured stderr so far. */
  get stderr(): string {
    return this.stderrText;
  }

  /** Exit status once the process has ended. */
  get exit(): ProcessExit | undefined {
    return this.exitInfo;
  }

  /** Resolves when `pattern` appears in stdout or stderr; rejects on timeout or exit. */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (pattern.test(this.stdoutText) || pattern.test(this.stderrText)) {
          done();
          resolve();
        } else if (this.exitInfo) {
          done();
          reject(new Error(`${this.label} exited (${JSON.stringify(this.exitInfo)}) before ${pattern}:\n${this.tail()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new ProcessTimeoutError(`${this.label}: no ${pattern} within ${timeoutMs} ms:\n${this.tail()}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.outputListeners.delete(check);
      };
      this.outputListeners.add(check);
      check();
    });
  }

  /** Resolves with the exit status; on timeout kills the process and rejects. */
  async waitForExit(timeoutMs: number): Promise<ProcessExit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ProcessTimeoutError(`${this.label} still running after ${timeoutMs} ms:\n${this.tail()}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exitPromise, timeout]);
    } catch (error) {
      await this.stop();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  async stop(graceMs = 3000): Promise<ProcessExit> {
    if (this.exitInfo) return this.exitInfo;
    this.signalGroup('SIGTERM');
    const timer = setTimeout(() => this.signalGroup('SIGKILL'), graceMs);
    try {
      return await this.exitPromise;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Signals the process group (the process and whatever it forked), falling back to the process alone. */
  signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      this.child.kill(signal);
    }
  }

  /** Last lines of output, for error messages. */
  tail(chars = 4000): string {
    return `--- stdout ---\n${this.stdoutText.slice(-chars)}\n--- stderr ---\n${this.stderrText.slice(-chars)}`;
  }

  private notifyOutput(): void {
    for (const listener of [...this.outputListeners]) listener();
  }
}

const live = new Set<ManagedProcess>();

process.once('exit', () => {
  for (const managed of live) {
    managed.signalGroup('SIGKILL');
  }
});

/**
 * Spawns a child process with stdin closed and stdout/stderr captured.
 *
 * @example
 * const kam = startProcess({ command: 'kamailio', args: ['-DD', '-E', '-f', cfg] });
 * await kam.waitForOutput(/ready/, 5000);
 * afterAll(() => stopAllProcesses());
 */
export function startProcess(options: StartProcessOptions): ManagedProcess {
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so a stop reaches the workers a server forks (Kamailio's survive a SIGKILL of
    // their parent and would keep the test runner's pipes open).
    detached: true,
  });
  const managed = new ManagedProcess(child, options.label ?? options.command);
  live.add(managed);
  return managed;
}

/** Stops every process started by {@link startProcess} that is still running. */
export async function stopAllProcesses(): Promise<void> {
  await Promise.all([...live].map((managed) => managed.stop()));
}

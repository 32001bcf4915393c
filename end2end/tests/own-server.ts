import { expect } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A server of its own, on a copy of the built site, that the test can stop
 * and start again as a new release (the shared one must stay as it is).
 */
export class OwnServer {
  private process?: ChildProcess;
  private readonly root: string;
  readonly site: string;
  readonly data: string;
  readonly url: string;

  /** On `port`, or a random one of 3100–3899 (the shared server is on 3000). */
  constructor(readonly port = 3100 + Math.floor(Math.random() * 800)) {
    this.root = mkdtempSync(join(tmpdir(), 'salon-release-'));
    this.site = join(this.root, 'site');
    this.data = join(this.root, 'data');
    cpSync(join(__dirname, '..', '..', 'target', 'site'), this.site, { recursive: true });
    this.url = `http://127.0.0.1:${port}`;
  }

  /** Starts the server, with `args` added to its command line. */
  async start(args: string[] = []) {
    const binary = join(process.env.CARGO_TARGET_DIR ?? join(__dirname, '..', '..', 'target'), 'debug', 'salon');
    expect(existsSync(binary), `the debug server at ${binary} (set CARGO_TARGET_DIR)`).toBe(true);
    // Its log is kept beside its data: a server that does not come up
    // says why in the failure.
    const log = openSync(join(this.root, 'server.log'), 'a');
    const started = spawn(binary, ['--bind', `127.0.0.1:${this.port}`, '--data-dir', this.data, '--site-root', this.site, ...args], {
      stdio: ['ignore', log, log],
    });
    this.process = started;
    try {
      await expect(async () => {
        expect(started.exitCode, 'the server exited').toBeNull();
        expect((await fetch(`${this.url}/healthz`)).ok).toBe(true);
      }).toPass({ timeout: 30_000 });
    } catch (error) {
      const tail = readFileSync(join(this.root, 'server.log'), 'utf8').split('\n').slice(-20).join('\n');
      throw new Error(`the server on ${this.url} did not come up (exit code ${started.exitCode}):\n${tail}\n${error}`);
    } finally {
      closeSync(log);
    }
  }

  async stop() {
    const running = this.process;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const stopped = new Promise((resolve) => running.once('exit', resolve));
    running.kill();
    await stopped;
  }

  remove() {
    rmSync(this.root, { recursive: true, force: true });
  }
}

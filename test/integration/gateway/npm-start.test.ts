import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allocatePort } from '../../support/ports';
import { startProcess, stopAllProcesses } from '../../support/process';

const ROOT = join(__dirname, '..', '..', '..');
const MAIN = join(ROOT, 'dist', 'main.js');

function getHealth(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/health' }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('npm start (dist/main.js)', () => {
  let workDir: string;

  beforeAll(() => {
    // Prepare: the same bundle `npm start` builds.
    execFileSync('node', [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'pipe' });
    workDir = mkdtempSync(join(tmpdir(), 'npm-start-'));
  }, 60000);

  afterAll(async () => {
    await stopAllProcesses();
    rmSync(workDir, { recursive: true, force: true });
  });

  it.each([
    [['--mode', '3', '--upstreamUri', 'sip:127.0.0.1'], 'mode'],
    [['--mode', '1'], 'upstreamUri'],
    [['--upstreamUri', 'sip:127.0.0.1', '--colour', 'red'], 'colour'],
    [['--config', '/nonexistent/mid.json'], 'config'],
  ])('CFG-2, CFG-4: %j fails with exit code 2 and one stderr line naming %s', async (args, key) => {
    // Act
    const child = startProcess({ command: 'node', args: [MAIN, ...args], cwd: workDir, label: 'main' });
    const exit = await child.waitForExit(10000);

    // Assess
    expect(exit.code).toBe(2);
    const lines = child.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`"${key}"`);
  });

  it('CFG-4: a JSON file plus flag overrides starts; status line, GET /health, SIGTERM exits 0', async () => {
    // Prepare
    const [sipPort, healthPort] = [await allocatePort(), await allocatePort()];
    const configFile = join(workDir, 'mid.json');
    writeFileSync(configFile, JSON.stringify({ mode: 1, upstreamUri: 'sip:127.0.0.1:5999', healthPort, dataDir: join(workDir, 'data') }));
    const child = startProcess({
      command: 'node',
      args: [MAIN, '--config', configFile, '--mode', '2', '--listen', `udp:127.0.0.1:${sipPort}`, '--listen', `tcp:127.0.0.1:${sipPort}`],
      cwd: workDir,
      label: 'main',
    });

    // Act
    await child.waitForOutput(/mid-registrar mode=/, 10000);
    const health = await getHealth(healthPort);
    const exit = await child.stop(10000);

    // Assess
    expect(child.stdout.trim().split('\n')).toEqual([
      `mid-registrar mode=2 listen=udp:127.0.0.1:${sipPort},tcp:127.0.0.1:${sipPort} upstream=sip:127.0.0.1:5999 ` +
        `advertised=sip:127.0.0.1:${sipPort} health=http://127.0.0.1:${healthPort}/health`,
    ]);
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok', mode: 2 });
    expect(exit).toEqual({ code: 0, signal: null });
  });
});

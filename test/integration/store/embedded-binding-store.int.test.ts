import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { EMBEDDED_FILES, EmbeddedBindingStore } from '../../../functions/store/embedded-binding-store';
import { startProcess, stopAllProcesses, type ManagedProcess } from '../../support/process';

interface Ack {
  version: number;
  n: number;
}

function acks(child: ManagedProcess): Map<string, Ack> {
  const latest = new Map<string, Ack>();
  for (const line of child.stdout.split('\n')) {
    const match = /^ack (\S+) (\d+) (\d+)$/.exec(line);
    if (match) latest.set(match[1], { version: Number(match[2]), n: Number(match[3]) });
  }
  return latest;
}

async function waitForAckCount(child: ManagedProcess, count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (child.stdout.split('\n').length <= count) {
    if (child.exit !== undefined) throw new Error(`writer exited early:\n${child.tail()}`);
    if (Date.now() > deadline) throw new Error(`fewer than ${count} acks within ${timeoutMs} ms:\n${child.tail()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('Class: EmbeddedBindingStore (crash)', () => {
  let workDir: string;

  beforeAll(() => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'embedded-crash-'));
    // The child runs the real store code, bundled from TypeScript.
    buildSync({
      entryPoints: [path.join(__dirname, 'fixtures', 'embedded-writer.ts')],
      bundle: true,
      platform: 'node',
      target: 'node20',
      outfile: path.join(workDir, 'embedded-writer.js'),
      logLevel: 'silent',
    });
  });

  afterAll(async () => {
    await stopAllProcesses();
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  async function killAndReopen(dataDir: string, extraArgs: string[], ackCount: number) {
    const child = startProcess({ command: process.execPath, args: [path.join(workDir, 'embedded-writer.js'), dataDir, ...extraArgs], label: 'embedded-writer' });
    await waitForAckCount(child, ackCount, 30_000);
    process.kill(child.pid!, 'SIGKILL');
    const exit = await child.waitForExit(10_000);
    const filesAtKill = fs.readdirSync(dataDir);
    const snapshotHeader = fs.readFileSync(path.join(dataDir, EMBEDDED_FILES.snapshot), 'utf8').split('\n')[0];
    return { exit, acknowledged: acks(child), filesAtKill, snapshotHeader };
  }

  async function expectEveryAckStored(acknowledged: Map<string, Ack>, store: EmbeddedBindingStore<{ aor: string; n: number }>): Promise<void> {
    const stored = await store.getMany([...acknowledged.keys()]);
    for (const [aor, ack] of acknowledged) {
      const found = stored.get(aor);
      expect(found).toBeDefined();
      expect(found!.version).toBeGreaterThanOrEqual(ack.version);
      if (found!.version === ack.version) expect(found!.record.n).toBe(ack.n);
      else expect(found!.record.n).toBeGreaterThan(ack.n);
    }
  }

  it('GEN-1: kill -9 loses no acknowledged write; the next start replays every one of them', async () => {
    // Prepare
    const dataDir = path.join(workDir, 'data');

    // Act
    const { exit, acknowledged } = await killAndReopen(dataDir, [], 5_000);
    const store = EmbeddedBindingStore.open<{ aor: string; n: number }>({ dataDir, shardCount: 4 });

    // Assess: every acknowledged put is there, or a later one of the same AoR.
    try {
      expect(exit.signal).toBe('SIGKILL');
      expect(acknowledged.size).toBe(200);
      await expectEveryAckStored(acknowledged, store);
    } finally {
      store.close();
    }
  }, 60_000);

  it('GEN-1: kill -9 while compactions run in the background (snapshot + sealed segments + live journal) loses no acknowledged write', async () => {
    // Prepare: a low floor, so the threshold is twice the snapshot (200 AoRs of ~90 bytes): about one
    // compaction per 400 acknowledged puts (patch lines of ~95 bytes).
    const dataDir = path.join(workDir, 'data-compacting');

    // Act
    const { exit, acknowledged, snapshotHeader } = await killAndReopen(dataDir, ['1000'], 8_000);
    const store = EmbeddedBindingStore.open<{ aor: string; n: number }>({ dataDir, shardCount: 4 });

    // Assess
    try {
      expect(exit.signal).toBe('SIGKILL');
      expect(JSON.parse(snapshotHeader)).toMatchObject({ t: 's', g: expect.any(Number) });
      expect((JSON.parse(snapshotHeader) as { g: number }).g).toBeGreaterThanOrEqual(5);
      expect(acknowledged.size).toBe(200);
      await expectEveryAckStored(acknowledged, store);
    } finally {
      store.close();
    }
  }, 60_000);
});

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../../infra/lib/project-paths';

interface AppRun {
  status: number | null;
  stderr: string;
  outdir: string;
}

const outdirs: string[] = [];

/** Runs the CDK app the way `cdk synth` does: the launcher from cdk.json, context and outdir in the environment. */
function runApp(context: Record<string, unknown>): AppRun {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-app-test-'));
  outdirs.push(outdir);
  const app = (JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { app: string }).app.split(' ');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CDK_OUTDIR: outdir,
    // Bundling and the built-in CloudFormation linter are proven elsewhere; this test is about the app's wiring.
    CDK_CONTEXT_JSON: JSON.stringify({ 'aws:cdk:bundling-stacks': [], ...context }),
    CDK_VALIDATION: 'false',
  };
  delete env.CDK_DEFAULT_ACCOUNT;
  const result = spawnSync(app[0], app.slice(1), {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    env,
    timeout: 120_000,
  });
  return { status: result.status, stderr: result.stderr, outdir };
}

describe('infra/bin/app.ts', () => {
  afterAll(() => {
    for (const dir of outdirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('CFG-2: stops synth with one line naming the bad key, no stack trace', () => {
    // Act
    const run = runApp({ regions: 'eu-west-1', config: { upstreamUri: 'sip:registrar.example.com', mode: 7 } });
    // Assess
    expect(run.status).toBe(1);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringContaining('"config.mode"')]);
  });

  it('synthesizes one explicitly targeted stack per region from -c regions, with cdk-nag passing', () => {
    // Act
    const run = runApp({ regions: 'eu-west-1,us-east-1', account: '123456789012', config: { upstreamUri: 'sip:registrar.example.com' } });
    // Assess
    expect(run.stderr).not.toMatch(/AwsSolutions-/);
    expect(run.status).toBe(0);
    const manifest = JSON.parse(fs.readFileSync(path.join(run.outdir, 'manifest.json'), 'utf8')) as {
      artifacts: Record<string, { type: string; environment?: string }>;
    };
    const stacks = Object.entries(manifest.artifacts).filter(([, a]) => a.type === 'aws:cloudformation:stack');
    expect(stacks.map(([name, a]) => [name, a.environment])).toEqual([
      ['SipMidRegistrar-eu-west-1', 'aws://123456789012/eu-west-1'],
      ['SipMidRegistrar-us-east-1', 'aws://123456789012/us-east-1'],
    ]);
  });
});

/**
 * Builds a MidRegistrarStack for assertion tests: bundling disabled (context `aws:cdk:bundling-stacks: []`,
 * so esbuild never runs), handler entries as temporary files (NodejsFunction only checks that they exist),
 * under .tmp/, and a fixed region. Synthesize once per test file and share the template.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { parseConfig } from '../../../functions/core/config';
import { PROJECT_ROOT } from '../../../infra/lib/project-paths';
import { MidRegistrarStack, type MidRegistrarStackProps } from '../../../infra/lib/stacks/mid-registrar-stack';

const temporaryDirs: string[] = [];

function temporaryDir(parent: string, prefix: string): string {
  fs.mkdirSync(parent, { recursive: true });
  const dir = fs.mkdtempSync(path.join(parent, prefix));
  temporaryDirs.push(dir);
  return dir;
}

/** Removes the output and entry directories the helpers created (call in afterAll). */
export function removeTestDirs(): void {
  for (const dir of temporaryDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * A test app whose stacks skip asset bundling. The built-in CloudFormation validation (a WebAssembly
 * linter, seconds per synth) runs only where a test asks for it.
 */
export function newTestApp(options: { cloudFormationValidation?: boolean } = {}): App {
  return new App({
    context: { 'aws:cdk:bundling-stacks': [] },
    outdir: temporaryDir(os.tmpdir(), 'cdk-test-out-'),
    builtinCloudFormationValidation: options.cloudFormationValidation ?? false,
  });
}

/** Temporary handler entries (`export const handler`), one per function. */
export function temporaryEntries(): { register: string; lookup: string; sweep: string } {
  // NodejsFunction requires entries under the project root; .tmp/ is git-ignored.
  const dir = temporaryDir(path.join(PROJECT_ROOT, '.tmp'), 'cdk-test-entries-');
  const entry = (name: string): string => {
    const file = path.join(dir, `${name}.ts`);
    fs.writeFileSync(file, 'export const handler = async (): Promise<void> => undefined;\n');
    return file;
  };
  return { register: entry('register'), lookup: entry('lookup'), sweep: entry('sweep') };
}

/** The product configuration the tests deploy unless they pass their own. */
export const TEST_PRODUCT_CONFIG = Object.freeze({ mode: 1, upstreamUri: 'sip:registrar.example.com', shardCount: 4 });

/** A stack in eu-west-1 with test entries; `overrides` replace any prop. */
export function newTestStack(app: App = newTestApp(), overrides: Partial<MidRegistrarStackProps> = {}): MidRegistrarStack {
  const productConfig = overrides.productConfig ?? TEST_PRODUCT_CONFIG;
  return new MidRegistrarStack(app, 'TestMidRegistrar', {
    env: { account: '123456789012', region: 'eu-west-1' },
    productConfig,
    parsedConfig: parseConfig(productConfig),
    functionEntries: temporaryEntries(),
    ...overrides,
  });
}

/**
 * The CDK app: one explicitly targeted stack per region (`-c regions=eu-west-1,us-east-1`), the product
 * configuration validated at synth, and cdk-nag's AwsSolutions checks on every synth (`-c nag=false`
 * skips them). Run through scripts/cdk-app.cjs (see cdk.json).
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readDeploymentSettings } from '../lib/deployment-config';
import { DeploymentConfigError } from '../lib/errors';
import { MidRegistrarStack } from '../lib/stacks/mid-registrar-stack';

const app = new App();
try {
  const settings = readDeploymentSettings((key) => app.node.tryGetContext(key), { defaultAccount: process.env.CDK_DEFAULT_ACCOUNT || undefined });
  const alarmEmail = app.node.tryGetContext('alarmEmail') as string | undefined;
  for (const region of settings.regions) {
    new MidRegistrarStack(app, `SipMidRegistrar-${region}`, {
      env: { region, ...(settings.account === undefined ? {} : { account: settings.account }) },
      description: `SIP mid-registrar (${region})`,
      productConfig: settings.productConfig,
      parsedConfig: settings.parsedConfig,
      ...(settings.upstreamAuthSecret === undefined ? {} : { upstreamAuthSecret: settings.upstreamAuthSecret }),
      ...(alarmEmail === undefined ? {} : { alarmEmail }),
    });
  }
} catch (error) {
  if (!(error instanceof DeploymentConfigError)) throw error;
  // A settings mistake is the user's to fix: one line naming the key, no stack trace.
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
if (String(app.node.tryGetContext('nag') ?? 'true') !== 'false') {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}
app.synth();

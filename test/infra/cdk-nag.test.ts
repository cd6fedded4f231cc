import { App, Stack, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { PolicyValidationPluginReport } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { newTestApp, newTestStack, removeTestDirs } from './support/test-stack';

/**
 * Every cdk-nag acknowledgement recorded in the tree: rule id → reason, with the construct path.
 * (aws-cdk-lib records its own `CloudFormation-Validate::…` acknowledgements the same way; those are not ours.)
 */
function acknowledgementsOf(root: IConstruct): { path: string; id: string; reason: string }[] {
  return root.node.findAll().flatMap((construct) => construct.node.metadata
    .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap((entry) => Object.entries(entry.data as Record<string, string>)
      .map(([id, reason]) => ({ path: construct.node.path, id: id.replace(/^annotation::/i, ''), reason }))))
    .filter((ack) => !ack.id.startsWith('CloudFormation-Validate::'));
}

/** One line per finding: rule and where. */
function findingsOf(report: PolicyValidationPluginReport): string[] {
  return report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));
}

describe('cdk-nag AwsSolutions', () => {
  let app: App;
  let report: PolicyValidationPluginReport;

  beforeAll(() => {
    // Prepare: the full stack, synthesized so aspects have run (bundling disabled).
    app = newTestApp();
    newTestStack(app);
    app.synth();
    // Act: cdk-nag 3.x runs as a policy-validation plugin; validateScope is its direct entry point.
    report = new AwsSolutionsChecks().validateScope(app);
  });

  afterAll(removeTestDirs);

  it('reports zero unacknowledged findings for the mid-registrar stack', () => {
    // Assess
    expect(findingsOf(report)).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('every acknowledgement names an AwsSolutions rule and carries a reason', () => {
    // Act
    const acknowledgements = acknowledgementsOf(app);
    // Assess
    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const ack of acknowledgements) {
      expect(ack.id).toMatch(/^AwsSolutions-[A-Z]+\d+(\[.+\])?$/);
      expect(ack.reason.length).toBeGreaterThanOrEqual(40);
    }
  });

  it('every acknowledgement is needed: without it, its finding is reported', () => {
    // Prepare: the same stack, checked with acknowledgements hidden from cdk-nag.
    const bare = newTestApp();
    newTestStack(bare);
    bare.synth();
    const acknowledged = acknowledgementsOf(bare);
    for (const construct of bare.node.findAll()) {
      const metadata = construct.node.metadata as { type: string }[];
      for (const entry of metadata) {
        if (entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY) entry.type = 'hidden-for-test';
      }
    }
    // Act
    const findings = findingsOf(new AwsSolutionsChecks().validateScope(bare));
    // Assess: each acknowledged rule fires somewhere under the construct that acknowledges it.
    const unused = acknowledged.filter((ack) => !findings.some((f) => f.startsWith(`${ack.id} at ${ack.path}`)));
    expect(unused).toEqual([]);
  });

  it('is live: an unacknowledged finding fails the check', () => {
    // Prepare
    const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'Plain');
    new sqs.Queue(stack, 'Queue');
    // Act
    const plain = new AwsSolutionsChecks().validateScope(stack);
    // Assess
    expect(plain.success).toBe(false);
    expect(findingsOf(plain)).toContain('AwsSolutions-SQS4 at Plain/Queue/Resource');
  });
});

import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { BindingsTable } from '../../../../infra/lib/constructs/bindings-table';

/** A bare stack with only the table (no assets: fast). */
function synthTable(props: ConstructorParameters<typeof BindingsTable>[2]): Template {
  const stack = new Stack(new App({ builtinCloudFormationValidation: false }), 'TableOnly', { env: { account: '123456789012', region: 'eu-west-1' } });
  new BindingsTable(stack, 'Bindings', props);
  return Template.fromStack(stack);
}

describe('Construct: BindingsTable', () => {
  it('switches to provisioned capacity with read and write autoscaling when selected', () => {
    // Act
    const template = synthTable({ billing: { mode: 'provisioned', minReadUnits: 10, maxReadUnits: 200, minWriteUnits: 20, maxWriteUnits: 400, targetUtilizationPercent: 65 } });
    // Assess
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      BillingMode: 'PROVISIONED',
      WriteProvisionedThroughputSettings: {
        WriteCapacityAutoScalingSettings: Match.objectLike({
          MinCapacity: 20,
          MaxCapacity: 400,
          TargetTrackingScalingPolicyConfiguration: { TargetValue: 65 },
        }),
      },
      Replicas: [Match.objectLike({
        ReadProvisionedThroughputSettings: {
          ReadCapacityAutoScalingSettings: Match.objectLike({ MinCapacity: 10, MaxCapacity: 200 }),
        },
      })],
    });
  });

  it('lets a test environment drop deletion protection and retention', () => {
    // Act
    const template = synthTable({ deletionProtection: false, removalPolicy: RemovalPolicy.DESTROY });
    // Assess
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Delete',
      Properties: Match.objectLike({ Replicas: [Match.objectLike({ DeletionProtectionEnabled: false })] }),
    });
  });
});

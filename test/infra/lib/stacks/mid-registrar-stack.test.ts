import * as fs from 'node:fs';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { projectPath } from '../../../../infra/lib/project-paths';
import { ATTR, DUE_INDEX_NAME, TTL_ATTRIBUTE } from '../../../../functions/store/table-schema';
import { DeploymentConfigError } from '../../../../infra/lib/errors';
import { ENV } from '../../../../infra/lib/stacks/mid-registrar-stack';
import { healthProbeScript } from '../../../../infra/lib/constructs/sip-gateway-service';
import { METRIC } from '../../../../infra/lib/metric-catalog';
import { newTestApp, newTestStack, removeTestDirs } from '../../support/test-stack';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

/** Logical ids of the resources of a type whose id starts with a prefix (construct path without slashes). */
function idsOf(resources: Resources, type: string, prefix = ''): string[] {
  return Object.keys(resources).filter((id) => resources[id].Type === type && id.startsWith(prefix));
}

/** Every IAM statement attached to a role, flattened. */
function statementsOfRole(resources: Resources, roleId: string): { Action: string | string[]; Resource: unknown }[] {
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(`"${roleId}"`))
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement);
}

function actionsOf(statement: { Action: string | string[] }): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

describe('MidRegistrarStack', () => {
  let template: Template;
  let resources: Resources;

  beforeAll(() => {
    // Prepare: one synthesized stack shared by every test of this file (bundling disabled).
    template = Template.fromStack(newTestStack(newTestApp()));
    resources = template.toJSON().Resources as Resources;
  });

  afterAll(removeTestDirs);

  describe('Construct: Network', () => {
    it('spans two AZs with a public and a private subnet in each', () => {
      // Act
      const subnets = template.findResources('AWS::EC2::Subnet');
      // Assess
      const azs = new Set(Object.values(subnets).map((s) => JSON.stringify(s.Properties.AvailabilityZone)));
      expect(Object.keys(subnets)).toHaveLength(4);
      expect(azs.size).toBe(2);
    });

    it('reaches DynamoDB and S3 through gateway endpoints', () => {
      // Act
      const gatewayEndpoints = template.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Gateway' } });
      // Assess
      const services = JSON.stringify(Object.values(gatewayEndpoints).map((e) => e.Properties.ServiceName));
      expect(services).toContain('.dynamodb');
      expect(services).toContain('.s3');
    });

    it.each(['lambda', 'logs', 'ecr.api', 'ecr.dkr'])('reaches %s through a private-DNS interface endpoint (no NAT on the hot path)', (service) => {
      // Assess
      template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        VpcEndpointType: 'Interface',
        ServiceName: `com.amazonaws.eu-west-1.${service}`,
        PrivateDnsEnabled: true,
      });
    });

    it('logs VPC flows to CloudWatch Logs', () => {
      // Assess
      template.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
    });

    it('outputs the NAT addresses and private subnets the main registrar must whitelist', () => {
      // Act
      const outputs = Object.keys(template.toJSON().Outputs as Record<string, unknown>);
      // Assess
      expect(outputs.some((o) => o.includes('NatPublicIps'))).toBe(true);
      expect(outputs.some((o) => o.includes('AppSubnetCidrs'))).toBe(true);
    });
  });

  describe('Construct: BindingsTable', () => {
    it('uses the key schema and due-time GSI of functions/store/table-schema.ts', () => {
      // Assess
      template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        KeySchema: [
          { AttributeName: ATTR.partitionKey, KeyType: 'HASH' },
          { AttributeName: ATTR.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [{
          IndexName: DUE_INDEX_NAME,
          KeySchema: [
            { AttributeName: ATTR.dueShard, KeyType: 'HASH' },
            { AttributeName: ATTR.dueAtMs, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        }],
        AttributeDefinitions: Match.arrayWith([
          { AttributeName: ATTR.dueShard, AttributeType: 'S' },
          { AttributeName: ATTR.dueAtMs, AttributeType: 'N' },
        ]),
      });
    });

    it('enables TTL on the schema TTL attribute, on-demand billing, PITR and deletion protection', () => {
      // Assess
      template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
        BillingMode: 'PAY_PER_REQUEST',
        Replicas: [Match.objectLike({
          Region: 'eu-west-1',
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          DeletionProtectionEnabled: true,
        })],
      });
      template.hasResource('AWS::DynamoDB::GlobalTable', { DeletionPolicy: 'Retain' });
    });
  });

  describe('Construct: DecisionFunctions', () => {
    it('creates register, lookup and sweep on arm64 and Node.js 24 with JSON logs at system level WARN, in the VPC', () => {
      // Act
      const functions = template.findResources('AWS::Lambda::Function');
      // Assess
      expect(Object.keys(functions)).toHaveLength(3);
      for (const fn of Object.values(functions)) {
        expect(fn.Properties).toMatchObject({
          Architectures: ['arm64'],
          Runtime: 'nodejs24.x',
          Handler: 'index.handler',
          LoggingConfig: { LogFormat: 'JSON', SystemLogLevel: 'WARN' },
        });
        expect(fn.Properties.VpcConfig.SubnetIds).toHaveLength(2);
      }
    });

    it('CFG-4: passes the validated configuration, the table name and the metric namespace to every function', () => {
      // Act
      const functions = Object.values(template.findResources('AWS::Lambda::Function'));
      // Assess
      for (const fn of functions) {
        const variables = fn.Properties.Environment.Variables as Record<string, unknown>;
        expect(JSON.stringify(variables[ENV.config])).toContain('\\"upstreamUri\\":\\"sip:registrar.example.com\\"');
        expect(JSON.stringify(variables[ENV.config])).toContain('{{resolve:secretsmanager:');
        expect(variables[ENV.tableName]).toEqual({ Ref: expect.stringMatching(/^BindingsTable/) });
        expect(variables.POWERTOOLS_METRICS_NAMESPACE).toBe('SipMidRegistrar');
      }
    });

    it('scopes each function to the table ARN: lookup reads, register and sweep read and write, only the sweep queries the due index', () => {
      // Prepare
      const roleOf = (prefix: string): string => idsOf(resources, 'AWS::IAM::Role', `Functions${prefix}ServiceRole`)[0];
      const dynamo = (prefix: string) => statementsOfRole(resources, roleOf(prefix))
        .filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
      // Act
      const register = dynamo('Register');
      const lookup = dynamo('Lookup');
      const sweep = dynamo('Sweep');
      // Assess
      expect(lookup.flatMap(actionsOf).sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem']);
      expect(register.flatMap(actionsOf).sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem']);
      expect(sweep.flatMap(actionsOf).sort()).toEqual(['dynamodb:BatchGetItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']);
      for (const statement of [...register, ...lookup, ...sweep]) {
        const resource = JSON.stringify(statement.Resource);
        expect(resource).toMatch(/BindingsTable.*Arn/);
        expect(resource).not.toContain('index/*');
        expect(resource).not.toBe('"*"');
      }
      expect(JSON.stringify(sweep.find((s) => actionsOf(s).includes('dynamodb:Query'))?.Resource)).toContain(`/index/${DUE_INDEX_NAME}`);
    });

    it('grants every DynamoDB call the store adapter makes (no AccessDenied after deploy)', () => {
      // Prepare: the commands functions/store/dynamodb-binding-store.ts sends, as IAM actions.
      const source = fs.readFileSync(projectPath('functions/store/dynamodb-binding-store.ts'), 'utf8');
      const iamAction: Record<string, string> = {
        Get: 'GetItem', Put: 'PutItem', Delete: 'DeleteItem', Update: 'UpdateItem', BatchGet: 'BatchGetItem',
        BatchWrite: 'BatchWriteItem', Query: 'Query', Scan: 'Scan', TransactGet: 'TransactGetItems', TransactWrite: 'TransactWriteItems',
      };
      const used = [...new Set([...source.matchAll(/new (\w+)Command\(/g)].map((m) => `dynamodb:${iamAction[m[1]] ?? m[1]}`))];
      // Act
      const granted = new Set(idsOf(resources, 'AWS::IAM::Role', 'Functions')
        .flatMap((role) => statementsOfRole(resources, role))
        .flatMap(actionsOf));
      // Assess
      expect(used.length).toBeGreaterThan(0);
      expect(used.filter((action) => !granted.has(action))).toEqual([]);
    });
  });

  describe('Construct: TimedWork', () => {
    it('runs one rate(1 minute) schedule per shard in one group, each naming its shard for the sweep', () => {
      // Act
      const schedules = Object.values(template.findResources('AWS::Scheduler::Schedule'));
      const groups = Object.values(template.findResources('AWS::Scheduler::ScheduleGroup'));
      // Assess
      expect(groups).toHaveLength(1);
      expect(schedules).toHaveLength(4);
      const shards = schedules.map((s) => {
        expect(s.Properties.ScheduleExpression).toBe('rate(1 minute)');
        expect(s.Properties.GroupName).toBe(groups[0].Properties.Name);
        expect(s.Properties.Target.Arn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^FunctionsSweep/), 'Arn'] });
        return JSON.parse(s.Properties.Target.Input as string) as { shard: number; shardCount: number };
      });
      expect(shards.map((s) => s.shard).sort()).toEqual([0, 1, 2, 3]);
      expect(shards.every((s) => s.shardCount === 4)).toBe(true);
    });

    it('retries a failed invocation twice within two minutes, then sends it to an encrypted SQS dead-letter queue', () => {
      // Assess
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        Target: Match.objectLike({
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 120 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^TimedWorkDeadLetters'), 'Arn'] } },
        }),
      });
      template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
    });
  });

  describe('Construct: SipGatewayService', () => {
    it('enables Container Insights on the cluster', () => {
      // Assess
      template.hasResourceProperties('AWS::ECS::Cluster', {
        ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
      });
    });

    it('runs arm64 Fargate tasks, at least two, in the private subnets', () => {
      // Assess
      template.hasResourceProperties('AWS::ECS::TaskDefinition', {
        RequiresCompatibilities: ['FARGATE'],
        RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' },
      });
      template.hasResourceProperties('AWS::ECS::Service', {
        LaunchType: 'FARGATE',
        DesiredCount: 2,
        NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }) },
      });
      template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 2, MaxCapacity: 20 });
    });

    it('listens for SIP on UDP 5060 and TCP 5060 on an internet-facing NLB', () => {
      // Assess
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
        Type: 'network',
        Scheme: 'internet-facing',
      });
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Protocol: 'UDP', Port: 5060 });
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
        Protocol: 'TCP',
        Port: 5060,
        ListenerAttributes: [{ Key: 'tcp.idle_timeout.seconds', Value: '600' }],
      });
    });

    it.each([['UDP', 5060], ['TCP', 5070]])('forwards %s to container port %i with HTTP health checks, client IP, short drain and connection termination', (protocol, port) => {
      // Assess
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
        Protocol: protocol,
        Port: port,
        TargetType: 'ip',
        HealthCheckProtocol: 'HTTP',
        HealthCheckPort: '8080',
        HealthCheckPath: '/health',
        TargetGroupAttributes: Match.arrayWith([
          { Key: 'deregistration_delay.timeout_seconds', Value: '10' },
          { Key: 'preserve_client_ip.enabled', Value: 'true' },
          { Key: 'deregistration_delay.connection_termination.enabled', Value: 'true' },
        ]),
      });
    });

    it('maps SIP UDP and TCP on different container ports and probes GET /health', () => {
      // Assess
      template.hasResourceProperties('AWS::ECS::TaskDefinition', {
        ContainerDefinitions: [Match.objectLike({
          PortMappings: Match.arrayWith([
            Match.objectLike({ ContainerPort: 5060, Protocol: 'udp' }),
            Match.objectLike({ ContainerPort: 5070, Protocol: 'tcp' }),
            Match.objectLike({ ContainerPort: 8080, Protocol: 'tcp' }),
          ]),
          HealthCheck: Match.objectLike({ Command: ['CMD', 'node', '-e', healthProbeScript(8080)] }),
        })],
      });
    });

    it('CFG-4: gives the container the configuration with its listen sockets, the function names and the internal hop port', () => {
      // Act
      const taskDefinition = Object.values(template.findResources('AWS::ECS::TaskDefinition'))[0];
      const environment = (taskDefinition.Properties.ContainerDefinitions[0].Environment as { Name: string; Value: unknown }[]);
      const value = (name: string): string => JSON.stringify(environment.find((e) => e.Name === name)?.Value);
      // Assess
      expect(value(ENV.config)).toContain('\\"listen\\":[\\"udp:0.0.0.0:5060\\",\\"tcp:0.0.0.0:5070\\"]');
      expect(value(ENV.config)).toMatch(/advertisedUri\\":\\"sip:",\{"Fn::GetAtt":\["GatewayLoadBalancer[0-9A-F]+","DNSName"\]\},":5060/);
      expect(value(ENV.registerFunction)).toMatch(/FunctionsRegister/);
      expect(value(ENV.lookupFunction)).toMatch(/FunctionsLookup/);
      expect(value(ENV.tableName)).toMatch(/BindingsTable/);
      expect(value('INTERNAL_HOP_PORT')).toBe('"5090"');
      expect(value('HEALTH_PORT')).toBe('"8080"');
    });

    it('lets the task invoke exactly the register and lookup functions and only read items', () => {
      // Prepare
      const taskRole = idsOf(resources, 'AWS::IAM::Role', 'GatewayTaskTaskRole')[0];
      // Act
      const statements = statementsOfRole(resources, taskRole);
      // Assess
      const invoke = statements.filter((s) => actionsOf(s).includes('lambda:InvokeFunction'));
      expect(invoke).toHaveLength(1);
      expect(invoke[0].Resource).toEqual([
        { 'Fn::GetAtt': [expect.stringMatching(/^FunctionsRegister/), 'Arn'] },
        { 'Fn::GetAtt': [expect.stringMatching(/^FunctionsLookup/), 'Arn'] },
      ]);
      const writes = statements.flatMap(actionsOf).filter((a) => /dynamodb:(Put|Delete|Update|BatchWrite)/.test(a));
      expect(writes).toEqual([]);
    });

    it('scales on CPU and on REGISTERs per task (Average of the per-task REGISTER counter, 400/s × 60 s flush)', () => {
      // Assess
      template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
        TargetTrackingScalingPolicyConfiguration: Match.objectLike({
          PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' },
          TargetValue: 60,
        }),
      });
      template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
        TargetTrackingScalingPolicyConfiguration: Match.objectLike({
          CustomizedMetricSpecification: Match.objectLike({
            MetricName: METRIC.registerIn,
            Namespace: 'SipMidRegistrar',
            Statistic: 'Average',
            Dimensions: [{ Name: 'Service', Value: 'sip-gateway' }],
          }),
          TargetValue: 24000,
        }),
      });
    });
  });

  describe('Construct: Observability', () => {
    it('draws every product, Lambda, DynamoDB, NLB and ECS metric on one dashboard', () => {
      // Act
      const body = JSON.stringify(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0].Properties.DashboardBody);
      // Assess
      for (const name of [
        ...Object.values(METRIC),
        'Errors', 'Throttles', 'p99',
        'ConsumedReadCapacityUnits', 'ConsumedWriteCapacityUnits', 'ReadThrottleEvents', 'WriteThrottleEvents',
        'ActiveFlowCount_UDP', 'ActiveFlowCount_TCP', 'NewFlowCount_UDP',
        'CPUUtilization', 'MemoryUtilization', 'UnHealthyHostCount',
      ]) {
        expect(body).toContain(name);
      }
    });

    it.each([
      ['Register function errors', 'Errors'],
      ['Lookup function errors', 'Errors'],
      ['Sweep function errors', 'Errors'],
      ['Register function throttles', 'Throttles'],
      ['Lookup function throttles', 'Throttles'],
      ['Sweep function throttles', 'Throttles'],
      ['De-REGISTERs failed', METRIC.deregisterFailed],
      ['Unhealthy gateway targets behind the Udp', 'UnHealthyHostCount'],
      ['Unhealthy gateway targets behind the Tcp', 'UnHealthyHostCount'],
      ['could not deliver', 'ApproximateNumberOfMessagesVisible'],
    ])('alarms on "%s" (%s) to the SNS topic', (description, metricName) => {
      // Assess
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmDescription: Match.stringLikeRegexp(description),
        MetricName: metricName,
        Threshold: 1,
        AlarmActions: [{ Ref: Match.stringLikeRegexp('^ObservabilityAlarmTopic') }],
      });
    });

    it('alarms on DynamoDB read plus write throttles', () => {
      // Assess
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmDescription: Match.stringLikeRegexp('DynamoDB'),
        Metrics: Match.arrayWith([
          Match.objectLike({ Expression: 'reads + writes' }),
          Match.objectLike({ MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'ReadThrottleEvents' }) }) }),
          Match.objectLike({ MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'WriteThrottleEvents' }) }) }),
        ]),
        AlarmActions: [{ Ref: Match.stringLikeRegexp('^ObservabilityAlarmTopic') }],
      });
      template.resourceCountIs('AWS::CloudWatch::Alarm', 11);
    });

    it('encrypts the alarm topic with a rotated key that CloudWatch may use', () => {
      // Assess
      template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
      template.hasResourceProperties('AWS::KMS::Key', {
        EnableKeyRotation: true,
        KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' } })]) },
      });
    });
  });
});

describe('MidRegistrarStack with a tuned configuration', () => {
  let template: Template;

  beforeAll(() => {
    // Prepare
    const productConfig = { upstreamUri: 'sip:registrar.example.com', advertisedUri: 'sip:sip.example.net:5060', healthPort: 9090, shardCount: 2 };
    template = Template.fromStack(newTestStack(newTestApp(), { productConfig }));
  });

  afterAll(removeTestDirs);

  it('CFG-4: healthPort moves the NLB health checks and the container probe', () => {
    // Assess
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { Protocol: 'UDP', HealthCheckPort: '9090' });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { Protocol: 'TCP', HealthCheckPort: '9090' });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({ HealthCheck: Match.objectLike({ Command: ['CMD', 'node', '-e', healthProbeScript(9090)] }) })],
    });
  });

  it('keeps an advertisedUri the user chose instead of the load balancer name', () => {
    // Act
    const fn = Object.values(template.findResources('AWS::Lambda::Function'))[0];
    // Assess
    expect(JSON.stringify(fn.Properties.Environment.Variables[ENV.config])).toContain('\\"advertisedUri\\":\\"sip:sip.example.net:5060\\"');
  });

  it('creates one sweep schedule per configured shard', () => {
    // Assess
    template.resourceCountIs('AWS::Scheduler::Schedule', 2);
  });
});

describe('MidRegistrarStack with a health port the load balancer cannot use', () => {
  afterAll(removeTestDirs);

  it.each([[0], [5060], [5090]])('CFG-4: refuses healthPort %i, naming config.healthPort', (healthPort) => {
    // Prepare
    const productConfig = { upstreamUri: 'sip:registrar.example.com', healthPort };
    // Act
    const build = (): unknown => newTestStack(newTestApp(), { productConfig });
    // Assess
    expect(build).toThrow(DeploymentConfigError);
    expect(build).toThrow(/"config\.healthPort"/);
  });
});

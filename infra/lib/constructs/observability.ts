/**
 * The region's CloudWatch dashboard and alarms (DESIGN §2, §7), alarms published to one SNS topic.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC, type MetricCatalog } from '../metric-catalog';

/** Props of {@link Observability}. */
export interface ObservabilityProps {
  /** Where the product publishes its metrics. */
  readonly metrics: MetricCatalog;
  /** The decision functions, by display name. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /** Name of the bindings table. */
  readonly tableName: string;
  /** The gateway's load balancer. */
  readonly loadBalancer: elbv2.NetworkLoadBalancer;
  /** The gateway's target groups, by display name (UDP, TCP). */
  readonly targetGroups: Readonly<Record<string, elbv2.NetworkTargetGroup>>;
  /** The gateway service. */
  readonly service: ecs.FargateService;
  /** The scheduler's dead-letter queue. */
  readonly scheduleDeadLetterQueue: sqs.IQueue;
  /**
   * Address subscribed to the alarm topic (it must confirm the subscription).
   * @default no subscription
   */
  readonly alarmEmail?: string;
  /**
   * Dashboard name.
   * @default `SipMidRegistrar-<region>`
   */
  readonly dashboardName?: string;
}

const PERIOD = Duration.minutes(1);
const ALARM_PERIOD = Duration.minutes(5);

/**
 * Dashboard: REGISTER in/absorbed/forwarded, upstream replies, De-REGISTERs sent/failed, lookups;
 * Lambda errors, throttles and p99 duration; DynamoDB consumed and throttled units; NLB flows; ECS CPU
 * and memory. Alarms: Lambda errors and throttles, DynamoDB throttles, De-REGISTER dead letters,
 * unhealthy targets, scheduler dead-letter depth; all to {@link Observability.alarmTopic}.
 */
export class Observability extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  /** Every alarm notifies this topic (KMS-encrypted, TLS only). */
  readonly alarmTopic: sns.Topic;
  /** The alarms, by construct id. */
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const region = Stack.of(this).region;

    const topicKey = new kms.Key(this, 'AlarmTopicKey', {
      description: 'Encrypts the mid-registrar alarm topic',
      enableKeyRotation: true,
    });
    // CloudWatch alarms publish to an encrypted topic only if they may use its key.
    topicKey.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', { masterKey: topicKey, enforceSSL: true, displayName: 'SIP mid-registrar alarms' });
    if (props.alarmEmail !== undefined) this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));

    const product = (name: string, producer: 'gateway' | 'functions', label?: string): cloudwatch.Metric =>
      new cloudwatch.Metric({
        namespace: props.metrics.namespace,
        metricName: name,
        dimensionsMap: { ...(producer === 'gateway' ? props.metrics.gatewayDimensions : props.metrics.functionDimensions) },
        statistic: cloudwatch.Stats.SUM,
        period: PERIOD,
        ...(label === undefined ? {} : { label }),
      });
    const table = (name: string, statistic: string): cloudwatch.Metric =>
      new cloudwatch.Metric({ namespace: 'AWS/DynamoDB', metricName: name, dimensionsMap: { TableName: props.tableName }, statistic, period: PERIOD });
    const nlb = (name: string): cloudwatch.Metric =>
      new cloudwatch.Metric({
        namespace: 'AWS/NetworkELB',
        metricName: name,
        dimensionsMap: { LoadBalancer: props.loadBalancer.loadBalancerFullName },
        statistic: name.startsWith('Active') ? cloudwatch.Stats.AVERAGE : cloudwatch.Stats.SUM,
        period: PERIOD,
      });
    const functions = Object.entries(props.functions);

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName ?? `SipMidRegistrar-${region}`,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'REGISTER: in / absorbed / forwarded (per minute)',
        left: [
          product(METRIC.registerIn, 'gateway', 'in'),
          product(METRIC.registerAbsorbed, 'gateway', 'absorbed'),
          product(METRIC.registerForwarded, 'gateway', 'forwarded'),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Upstream replies, De-REGISTERs sent / failed (per minute)',
        left: [
          product(METRIC.upstreamReplies, 'gateway', 'upstream replies'),
          product(METRIC.deregisterSent, 'functions', 'De-REGISTER sent'),
          product(METRIC.deregisterFailed, 'functions', 'De-REGISTER failed'),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Lookups (per minute)',
        left: [
          product(METRIC.lookupHit, 'functions', 'found'),
          product(METRIC.lookupMiss, 'functions', 'not found'),
          product(METRIC.lookupRejected, 'functions', 'refused'),
          product(METRIC.lookupRelayed, 'functions', 'relayed'),
        ],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Lambda errors and throttles',
        left: functions.flatMap(([name, fn]) => [
          fn.metricErrors({ period: PERIOD, label: `${name} errors` }),
          fn.metricThrottles({ period: PERIOD, label: `${name} throttles` }),
        ]),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Lambda duration p99 (ms)',
        left: functions.map(([name, fn]) => fn.metricDuration({ period: PERIOD, statistic: 'p99', label: name })),
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'DynamoDB consumed units',
        left: [
          table('ConsumedReadCapacityUnits', cloudwatch.Stats.SUM).with({ label: 'read units' }),
          table('ConsumedWriteCapacityUnits', cloudwatch.Stats.SUM).with({ label: 'write units' }),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'DynamoDB throttled events',
        left: [
          table('ReadThrottleEvents', cloudwatch.Stats.SUM).with({ label: 'read throttles' }),
          table('WriteThrottleEvents', cloudwatch.Stats.SUM).with({ label: 'write throttles' }),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'NLB flows (UDP and TCP)',
        left: [nlb('ActiveFlowCount_UDP'), nlb('ActiveFlowCount_TCP')],
        right: [nlb('NewFlowCount_UDP'), nlb('NewFlowCount_TCP')],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Gateway tasks: CPU and memory (%)',
        left: [
          props.service.metricCpuUtilization({ period: PERIOD, label: 'CPU' }),
          props.service.metricMemoryUtilization({ period: PERIOD, label: 'memory' }),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Unhealthy gateway targets',
        left: Object.entries(props.targetGroups).map(([name, tg]) =>
          tg.metrics.unHealthyHostCount({ period: PERIOD, statistic: cloudwatch.Stats.MAXIMUM, label: name })),
        width: 12,
      }),
    );

    for (const [name, fn] of functions) {
      this.addAlarm(`${name}Errors`, `${name} function errors`, fn.metricErrors({ period: ALARM_PERIOD }));
      this.addAlarm(`${name}Throttles`, `${name} function throttles`, fn.metricThrottles({ period: ALARM_PERIOD }));
    }
    this.addAlarm('DynamoDbThrottles', 'DynamoDB read or write throttle events on the bindings table', new cloudwatch.MathExpression({
      expression: 'reads + writes',
      usingMetrics: {
        reads: table('ReadThrottleEvents', cloudwatch.Stats.SUM).with({ period: ALARM_PERIOD }),
        writes: table('WriteThrottleEvents', cloudwatch.Stats.SUM).with({ period: ALARM_PERIOD }),
      },
      period: ALARM_PERIOD,
      label: 'throttle events',
    }));
    this.addAlarm('DeregisterDeadLetters', 'De-REGISTERs failed after all retries: upstream registrations may outlive their bindings (INV-2)',
      product(METRIC.deregisterFailed, 'functions').with({ period: ALARM_PERIOD }));
    for (const [name, tg] of Object.entries(props.targetGroups)) {
      this.addAlarm(`Unhealthy${name}Targets`, `Unhealthy gateway targets behind the ${name} listener`,
        tg.metrics.unHealthyHostCount({ period: PERIOD, statistic: cloudwatch.Stats.MAXIMUM }), 2);
    }
    this.addAlarm('ScheduleDeadLetters', 'Sweep invocations the scheduler could not deliver (timed work is late)',
      props.scheduleDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: ALARM_PERIOD, statistic: cloudwatch.Stats.MAXIMUM }));
  }

  /** An alarm at ≥ 1 (missing data is fine: no errors were counted) that notifies the topic. */
  private addAlarm(id: string, description: string, metric: cloudwatch.IMetric, evaluationPeriods = 1): void {
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmDescription: description,
      metric,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new actions.SnsAction(this.alarmTopic));
    this.alarms.push(alarm);
  }
}

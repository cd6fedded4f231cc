/**
 * Timed work (DESIGN §6): one EventBridge Scheduler schedule per due-index shard, every minute, invoking
 * the sweep. No per-binding schedules: at 8,300 REGISTER/s their API rate would exceed Scheduler quotas.
 */
import { Duration, RemovalPolicy, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DeploymentConfigError } from '../errors';

/** The event each schedule sends to the sweep function. */
export interface SweepEvent {
  /** The due-index shard to sweep, 0 ≤ shard < shardCount. */
  shard: number;
  /** The number of shards (the `shardCount` configuration key). */
  shardCount: number;
}

/** Props of {@link TimedWork}. */
export interface TimedWorkProps {
  /** The sweep function. */
  readonly sweep: lambda.IFunction;
  /** Shards of the due-time index (`shardCount` configuration key); one schedule each. */
  readonly shardCount: number;
  /**
   * Scheduler retries of a failed invocation. Few: the next minute's run covers the same shard anyway.
   * @default 2
   */
  readonly retryAttempts?: number;
  /**
   * Oldest invocation the Scheduler still delivers; a run older than this is superseded by the next one.
   * @default 2 minutes
   */
  readonly maxEventAge?: Duration;
}

/**
 * A schedule group, `rate(1 minute)` schedules per shard → sweep (input {@link SweepEvent}), a retry
 * policy and an SQS dead-letter queue for invocations the Scheduler could not deliver.
 */
export class TimedWork extends Construct {
  /** The schedule group (all sweep schedules of the region). */
  readonly group: scheduler.ScheduleGroup;
  /** One schedule per shard, index = shard. */
  readonly schedules: scheduler.Schedule[];
  /** Undeliverable sweep invocations. */
  readonly deadLetterQueue: sqs.Queue;
  /** The role the Scheduler assumes to invoke the sweep. */
  readonly schedulerRole: iam.Role;

  constructor(scope: Construct, id: string, props: TimedWorkProps) {
    super(scope, id);
    if (!Number.isInteger(props.shardCount) || props.shardCount < 1) {
      throw new DeploymentConfigError('config.shardCount', `must be a positive integer (got ${props.shardCount})`);
    }
    this.group = new scheduler.ScheduleGroup(this, 'Group', { removalPolicy: RemovalPolicy.DESTROY });
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the sweep schedules',
    });
    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'EventBridge Scheduler: invoke the sweep, send undeliverable runs to the dead-letter queue',
    });
    const sweepLogicalId = Stack.of(this).getLogicalId(props.sweep.node.defaultChild as CfnElement);
    Validations.of(this.schedulerRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${sweepLogicalId}.Arn>:*]`,
      reason: 'The LambdaInvoke target grants invoke on the function and its versions; the statement names only the sweep function',
    });
    this.schedules = [];
    for (let shard = 0; shard < props.shardCount; shard += 1) {
      const event: SweepEvent = { shard, shardCount: props.shardCount };
      this.schedules.push(new scheduler.Schedule(this, `Shard${shard}`, {
        description: `Sweep due-index shard ${shard} of ${props.shardCount}`,
        scheduleGroup: this.group,
        schedule: scheduler.ScheduleExpression.rate(Duration.minutes(1)),
        target: new targets.LambdaInvoke(props.sweep, {
          input: scheduler.ScheduleTargetInput.fromObject(event),
          retryAttempts: props.retryAttempts ?? 2,
          maxEventAge: props.maxEventAge ?? Duration.minutes(2),
          deadLetterQueue: this.deadLetterQueue,
          role: this.schedulerRole,
        }),
      }));
    }
  }
}

/**
 * The decision functions (DESIGN §2–3, §6): register, lookup and sweep, each a thin Lambda around the
 * pure core, with the least DynamoDB access its work needs.
 */
import * as path from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { PROJECT_ROOT, projectPath } from '../project-paths';
import type { BindingsTable } from './bindings-table';

/** Entry files (each exports `handler`). */
export interface DecisionFunctionEntries {
  /** @default functions/handlers/register.ts */
  readonly register?: string;
  /** @default functions/handlers/lookup.ts */
  readonly lookup?: string;
  /** @default functions/handlers/sweep.ts */
  readonly sweep?: string;
}

/** Props of {@link DecisionFunctions}. */
export interface DecisionFunctionsProps {
  /** VPC to run in: the sweep reaches the main registrar from it, all reach DynamoDB by its gateway endpoint. */
  readonly vpc: ec2.IVpc;
  /** Subnets of the functions. */
  readonly subnets: ec2.SubnetSelection;
  /** The bindings table. */
  readonly bindings: BindingsTable;
  /** Environment common to all functions (configuration JSON, table name, metric namespace…). */
  readonly environment: Record<string, string>;
  /**
   * Entry files, relative to the repository root or absolute.
   * @default the handlers under functions/handlers/
   */
  readonly entries?: DecisionFunctionEntries;
  /**
   * Memory of register and lookup (CPU scales with it; they are on the REGISTER hot path).
   * @default 1024
   */
  readonly decisionMemoryMiB?: number;
  /**
   * Memory of the sweep.
   * @default 512
   */
  readonly sweepMemoryMiB?: number;
  /**
   * Timeout of register and lookup; the gateway's own decision deadline is shorter and answers 500 +
   * Retry-After (ERR-2) long before this fires.
   * @default 10 seconds
   */
  readonly decisionTimeout?: Duration;
  /**
   * Timeout of one sweep run. It fires every minute per shard and may loop inside its minute (DESIGN §6);
   * the extra time lets an upstream transaction started near the end (upstreamTimeout) finish.
   * @default 90 seconds
   */
  readonly sweepTimeout?: Duration;
  /**
   * Retention of the functions' log groups.
   * @default one month
   */
  readonly logRetention?: logs.RetentionDays;
}

/** DynamoDB actions the store adapter issues (functions/store/dynamodb-binding-store.ts). */
const READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem'];
const WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:DeleteItem'];

/**
 * Three `NodejsFunction`s (esbuild, arm64, Node.js 24, JSON logs with system level WARN) in the VPC.
 * IAM: register reads and writes items; lookup only reads; sweep reads, writes and queries the due index.
 */
export class DecisionFunctions extends Construct {
  /** Answers `register` and `register-reply` decisions for the gateway. */
  readonly register: nodejs.NodejsFunction;
  /** Answers `lookup` decisions for the gateway. */
  readonly lookup: nodejs.NodejsFunction;
  /** Timed work per shard: upstream refreshes and De-REGISTERs (invoked by the scheduler). */
  readonly sweep: nodejs.NodejsFunction;
  /** Security group of the functions (egress only). */
  readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: DecisionFunctionsProps) {
    super(scope, id);
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Decision functions: no inbound; outbound to VPC endpoints and SIP to the main registrar',
      allowAllOutbound: true,
    });
    const entries = props.entries ?? {};
    const table = props.bindings.table;
    const decisionTimeout = props.decisionTimeout ?? Duration.seconds(10);

    this.register = this.createFunction('Register', entries.register ?? 'functions/handlers/register.ts', props, {
      memorySize: props.decisionMemoryMiB ?? 1024,
      timeout: decisionTimeout,
      description: 'Mid-registrar REGISTER and upstream-reply decisions',
    });
    this.lookup = this.createFunction('Lookup', entries.lookup ?? 'functions/handlers/lookup.ts', props, {
      memorySize: props.decisionMemoryMiB ?? 1024,
      timeout: decisionTimeout,
      description: 'Mid-registrar lookup decisions for requests towards devices',
    });
    this.sweep = this.createFunction('Sweep', entries.sweep ?? 'functions/handlers/sweep.ts', props, {
      memorySize: props.sweepMemoryMiB ?? 512,
      timeout: props.sweepTimeout ?? Duration.seconds(90),
      description: 'Mid-registrar timed work per shard: upstream refreshes and De-REGISTERs',
    });

    // Statements on the table ARN itself (table.grant would add `<table>/index/*` as well): only the
    // sweep queries an index, and only the due index.
    const onItems = (fn: lambda.IFunction, actions: string[]): void => {
      fn.addToRolePolicy(new iam.PolicyStatement({ actions, resources: [table.tableArn] }));
    };
    onItems(this.register, [...READ_ACTIONS, ...WRITE_ACTIONS]);
    onItems(this.lookup, READ_ACTIONS);
    onItems(this.sweep, [...READ_ACTIONS, ...WRITE_ACTIONS]);
    this.sweep.addToRolePolicy(new iam.PolicyStatement({
      actions: ['dynamodb:Query'],
      resources: [props.bindings.dueIndexArn],
    }));

    for (const fn of [this.register, this.lookup, this.sweep]) {
      for (const policy of ['AWSLambdaBasicExecutionRole', 'AWSLambdaVPCAccessExecutionRole']) {
        Validations.of(fn.role ?? fn).acknowledge({
          id: `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/${policy}]`,
          reason: `${policy} is the AWS-maintained minimum for a function that writes its logs and attaches VPC network interfaces`,
        });
      }
    }
  }

  private createFunction(
    id: string,
    entry: string,
    props: DecisionFunctionsProps,
    sizing: Pick<nodejs.NodejsFunctionProps, 'memorySize' | 'timeout' | 'description'>,
  ): nodejs.NodejsFunction {
    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    return new nodejs.NodejsFunction(this, id, {
      entry: path.isAbsolute(entry) ? entry : projectPath(entry),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: projectPath('package-lock.json'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      ...sizing,
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [this.securityGroup],
      environment: { ...props.environment, NODE_OPTIONS: '--enable-source-maps' },
      loggingFormat: lambda.LoggingFormat.JSON,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      logGroup,
      bundling: {
        // Local esbuild (a project dependency): synth needs no Docker.
        forceDockerBundling: false,
        minify: true,
        sourceMap: true,
        // The Node.js 24 runtime ships AWS SDK v3; bundling it would only grow cold starts.
        externalModules: ['@aws-sdk/*'],
      },
    });
  }
}

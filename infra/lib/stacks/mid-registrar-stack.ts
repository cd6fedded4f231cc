/**
 * One region of the mid-registrar (DESIGN §7): network, bindings table, decision functions, timed work,
 * the SIP gateway fleet, and the dashboard and alarms.
 */
import { Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { MidRegistrarConfig } from '../../../functions/core/config';
import { containerListen } from '../deployment-config';
import { DEFAULT_METRIC_CATALOG, metricEnvironment, type MetricCatalog } from '../metric-catalog';
import { BindingsTable, type BindingsTableProps } from '../constructs/bindings-table';
import { DecisionFunctions, type DecisionFunctionEntries } from '../constructs/decision-functions';
import { Network, type NetworkProps } from '../constructs/network';
import { Observability } from '../constructs/observability';
import { SipGatewayService, type SipGatewayServiceProps } from '../constructs/sip-gateway-service';
import { TimedWork } from '../constructs/timed-work';

/** Environment variable names the stack sets; the gateway's and the handlers' config loaders read them. */
export const ENV = {
  /** The product configuration (SPEC CFG keys) as JSON, for `parseConfig`. */
  config: 'MID_REGISTRAR_CONFIG',
  /** Name of the bindings table. */
  tableName: 'BINDINGS_TABLE_NAME',
  /** Function the gateway invokes for `register` and `register-reply` decisions. */
  registerFunction: 'REGISTER_FUNCTION_NAME',
  /** Function the gateway invokes for `lookup` decisions. */
  lookupFunction: 'LOOKUP_FUNCTION_NAME',
} as const;

/** Gateway settings a deployment may tune (the rest is wired by the stack). */
export type GatewayTuning = Omit<SipGatewayServiceProps, 'vpc' | 'taskSubnets' | 'functions' | 'bindings' | 'environment' | 'metrics' | 'healthPort'>;

/** Props of {@link MidRegistrarStack}. */
export interface MidRegistrarStackProps extends StackProps {
  /** The product configuration JSON as validated at synth (CFG keys, no deployment-owned keys). */
  readonly productConfig: Readonly<Record<string, unknown>>;
  /** The same configuration parsed (defaults applied): `healthPort` and `shardCount` shape the stack. */
  readonly parsedConfig: MidRegistrarConfig;
  /**
   * Secrets Manager secret (name or ARN) with `{"username","password"}` for the mid-registrar's own
   * REGISTERs (DRG-11).
   * @default no upstream credentials
   */
  readonly upstreamAuthSecret?: string;
  /** @default see {@link NetworkProps} */
  readonly network?: NetworkProps;
  /** @default see {@link BindingsTableProps} */
  readonly table?: BindingsTableProps;
  /** @default the handlers under functions/handlers/ */
  readonly functionEntries?: DecisionFunctionEntries;
  /** @default see {@link SipGatewayServiceProps} */
  readonly gateway?: GatewayTuning;
  /** @default {@link DEFAULT_METRIC_CATALOG} */
  readonly metrics?: MetricCatalog;
  /**
   * E-mail address subscribed to the alarm topic.
   * @default none
   */
  readonly alarmEmail?: string;
}

/** The mid-registrar in one region. */
export class MidRegistrarStack extends Stack {
  readonly network: Network;
  readonly bindings: BindingsTable;
  readonly functions: DecisionFunctions;
  readonly timedWork: TimedWork;
  readonly gateway: SipGatewayService;
  readonly observability: Observability;
  /** MAC key of Path, Record-Route and contact tokens (PTH-7), shared by all tasks and functions of the region. */
  readonly tokenSecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: MidRegistrarStackProps) {
    super(scope, id, props);
    const metrics = props.metrics ?? DEFAULT_METRIC_CATALOG;
    const sipPort = props.gateway?.sipPort ?? 5060;
    const containerTcpPort = props.gateway?.containerTcpPort ?? 5070;

    this.network = new Network(this, 'Network', props.network);
    this.bindings = new BindingsTable(this, 'Bindings', props.table);
    this.tokenSecret = new secretsmanager.Secret(this, 'TokenSecret', {
      description: 'SIP mid-registrar tokenSecret (PTH-7): HMAC key of Path, Record-Route and contact tokens',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    Validations.of(this.tokenSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'Rotating the token key would invalidate every Path, Record-Route and contact token in use (PTH-7) until devices re-register; rotate by redeploying in a maintenance window',
    });

    this.functions = new DecisionFunctions(this, 'Functions', {
      vpc: this.network.vpc,
      subnets: this.network.appSubnets,
      bindings: this.bindings,
      ...(props.functionEntries === undefined ? {} : { entries: props.functionEntries }),
      environment: { [ENV.tableName]: this.bindings.table.tableName, ...metricEnvironment(metrics, 'functions') },
    });
    this.timedWork = new TimedWork(this, 'TimedWork', { sweep: this.functions.sweep, shardCount: props.parsedConfig.shardCount });

    this.gateway = new SipGatewayService(this, 'Gateway', {
      ...props.gateway,
      vpc: this.network.vpc,
      taskSubnets: this.network.appSubnets,
      functions: this.functions,
      bindings: this.bindings,
      metrics,
      healthPort: props.parsedConfig.healthPort,
      environment: {
        [ENV.tableName]: this.bindings.table.tableName,
        [ENV.registerFunction]: this.functions.register.functionName,
        [ENV.lookupFunction]: this.functions.lookup.functionName,
        AWS_REGION: this.region,
        ...metricEnvironment(metrics, 'gateway'),
      },
    });

    // The configuration the running system parses. Unless the user chose one, Contact, Path and
    // Record-Route advertise the fleet's load balancer, never one task (DESIGN §5). Secrets enter as
    // CloudFormation dynamic references, resolved at deploy time and never written into the template.
    const runtimeConfig: Record<string, unknown> = {
      ...props.productConfig,
      advertisedUri: props.productConfig.advertisedUri ?? `sip:${this.gateway.loadBalancer.loadBalancerDnsName}:${sipPort}`,
      tokenSecret: this.tokenSecret.secretValue.unsafeUnwrap(),
      ...(props.upstreamAuthSecret === undefined ? {} : { upstreamAuth: this.upstreamAuthReference(props.upstreamAuthSecret) }),
    };
    const functionConfig = this.toJsonString(runtimeConfig);
    for (const fn of [this.functions.register, this.functions.lookup, this.functions.sweep]) fn.addEnvironment(ENV.config, functionConfig);
    this.gateway.taskDefinition.defaultContainer?.addEnvironment(
      ENV.config,
      this.toJsonString({ ...runtimeConfig, listen: containerListen(sipPort, containerTcpPort) }),
    );

    this.observability = new Observability(this, 'Observability', {
      metrics,
      functions: { Register: this.functions.register, Lookup: this.functions.lookup, Sweep: this.functions.sweep },
      tableName: this.bindings.table.tableName,
      loadBalancer: this.gateway.loadBalancer,
      targetGroups: { Udp: this.gateway.targetGroups.udp, Tcp: this.gateway.targetGroups.tcp },
      service: this.gateway.service,
      scheduleDeadLetterQueue: this.timedWork.deadLetterQueue,
      ...(props.alarmEmail === undefined ? {} : { alarmEmail: props.alarmEmail }),
    });
  }

  private upstreamAuthReference(secretNameOrArn: string): { username: string; password: string } {
    const secret = secretNameOrArn.startsWith('arn:')
      ? secretsmanager.Secret.fromSecretCompleteArn(this, 'UpstreamAuth', secretNameOrArn)
      : secretsmanager.Secret.fromSecretNameV2(this, 'UpstreamAuth', secretNameOrArn);
    return {
      username: secret.secretValueFromJson('username').unsafeUnwrap(),
      password: secret.secretValueFromJson('password').unsafeUnwrap(),
    };
  }
}

/**
 * The SIP gateway fleet (DESIGN §2, §5, §7): Fargate tasks behind a Network Load Balancer that keeps
 * each device's flow on one task, with autoscaling on CPU and on REGISTERs per task.
 */
import { CfnOutput, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { DeploymentConfigError } from '../errors';
import { METRIC, type MetricCatalog } from '../metric-catalog';
import { PROJECT_ROOT } from '../project-paths';
import type { BindingsTable } from './bindings-table';

/** Props of {@link SipGatewayService}. */
export interface SipGatewayServiceProps {
  /** VPC of the load balancer (public subnets) and the tasks. */
  readonly vpc: ec2.IVpc;
  /** Subnets of the tasks (private). */
  readonly taskSubnets: ec2.SubnetSelection;
  /** Decision functions the gateway invokes. */
  readonly functions: { readonly register: lambda.IFunction; readonly lookup: lambda.IFunction };
  /** The bindings table (read-only for the gateway: it decides nothing itself). */
  readonly bindings: BindingsTable;
  /** Environment of the container (configuration JSON, table and function names…). */
  readonly environment: Record<string, string>;
  /** Where the gateway publishes metrics; the REGISTER-rate scaling policy reads from it. */
  readonly metrics: MetricCatalog;
  /**
   * Container image.
   * @default built from sip-gateway/Dockerfile with the repository as context, for linux/arm64
   */
  readonly image?: ecs.ContainerImage;
  /**
   * SIP port of the load balancer listeners (UDP and TCP) and of the container's UDP socket.
   * @default 5060
   */
  readonly sipPort?: number;
  /**
   * Container port of SIP over TCP. ECS cannot map one container port for both protocols, so the TCP
   * listener on `sipPort` forwards to this port.
   * @default 5070
   */
  readonly containerTcpPort?: number;
  /**
   * HTTP health port of the container (`healthPort` configuration key); the NLB health-checks `GET /health`.
   * @default 8080
   */
  readonly healthPort?: number;
  /**
   * Port of the internal hop between gateway tasks (DESIGN §5: a request for a device whose flow another
   * task owns is handed to that task). Reachable only from other gateway tasks.
   * @default 5090
   */
  readonly internalHopPort?: number;
  /**
   * Source ranges allowed to send SIP to the load balancer. Client IPs are preserved, so the task
   * security group enforces the same list.
   * @default anywhere (IPv4)
   */
  readonly allowedSipCidrs?: string[];
  /**
   * Idle timeout of the TCP listener. Longer than a device's CRLF keep-alive interval (RFC 5626 §4.4.1
   * suggests ~120 s for TCP), so idle registered connections survive.
   * @default 600 seconds
   */
  readonly tcpIdleTimeout?: Duration;
  /**
   * Deregistration delay; with connection termination, a draining task's flows move quickly and devices
   * re-REGISTER on another task, which takes over ownership (DESIGN §5).
   * @default 10 seconds
   */
  readonly deregistrationDelay?: Duration;
  /** @default 1024 (1 vCPU) */
  readonly cpu?: number;
  /** @default 2048 */
  readonly memoryLimitMiB?: number;
  /**
   * Fewest tasks; at least 2 so one task or AZ can fail.
   * @default 2
   */
  readonly minTasks?: number;
  /** @default 20 */
  readonly maxTasks?: number;
  /**
   * CPU utilization the service tracks.
   * @default 60
   */
  readonly targetCpuPercent?: number;
  /**
   * REGISTER requests per second per task the service tracks.
   * @default 400
   */
  readonly targetRegistersPerSecPerTask?: number;
  /**
   * Retention of the container logs.
   * @default one month
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * ECS cluster (Container Insights), arm64 Fargate service (≥ 2 tasks), internet-facing NLB with a UDP
 * and a TCP listener on the SIP port, HTTP health checks, client IP preservation, short deregistration
 * delay with connection termination, and target-tracking autoscaling on CPU and on REGISTER/s per task.
 */
export class SipGatewayService extends Construct {
  readonly cluster: ecs.Cluster;
  readonly service: ecs.FargateService;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly loadBalancer: elbv2.NetworkLoadBalancer;
  /** Target groups of the UDP and the TCP listener (for health alarms). */
  readonly targetGroups: { readonly udp: elbv2.NetworkTargetGroup; readonly tcp: elbv2.NetworkTargetGroup };
  /** Security group of the tasks. */
  readonly taskSecurityGroup: ec2.SecurityGroup;
  /** Security group of the load balancer. */
  readonly loadBalancerSecurityGroup: ec2.SecurityGroup;
  /** Name of the container in the task definition. */
  readonly containerName = 'sip-gateway';

  constructor(scope: Construct, id: string, props: SipGatewayServiceProps) {
    super(scope, id);
    const sipPort = props.sipPort ?? 5060;
    const containerTcpPort = props.containerTcpPort ?? 5070;
    const healthPort = props.healthPort ?? 8080;
    const internalHopPort = props.internalHopPort ?? 5090;
    const minTasks = props.minTasks ?? 2;
    const maxTasks = props.maxTasks ?? 20;
    if (!Number.isInteger(minTasks) || minTasks < 2) throw new DeploymentConfigError('minTasks', `must be an integer ≥ 2 (got ${minTasks})`);
    if (maxTasks < minTasks) throw new DeploymentConfigError('maxTasks', `must be ≥ minTasks (got ${maxTasks} < ${minTasks})`);
    if (sipPort === containerTcpPort) {
      throw new DeploymentConfigError('containerTcpPort', 'must differ from the SIP port: ECS cannot map one container port for UDP and TCP');
    }
    if (!Number.isInteger(healthPort) || healthPort < 1 || healthPort > 65535) {
      throw new DeploymentConfigError('config.healthPort', `must be a port 1–65535: the load balancer health-checks it (got ${healthPort})`);
    }
    if (new Set([sipPort, containerTcpPort, healthPort, internalHopPort]).size !== 4) {
      throw new DeploymentConfigError('config.healthPort', `the SIP (${sipPort}, ${containerTcpPort}), health (${healthPort}) and internal hop (${internalHopPort}) ports must differ`);
    }
    const allowedSipCidrs = props.allowedSipCidrs ?? ['0.0.0.0/0'];

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: props.cpu ?? 1024,
      memoryLimitMiB: props.memoryLimitMiB ?? 2048,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.ARM64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const image = props.image ?? ecs.ContainerImage.fromAsset(PROJECT_ROOT, {
      file: 'sip-gateway/Dockerfile',
      platform: ecrAssets.Platform.LINUX_ARM64,
    });
    this.taskDefinition.addContainer('Gateway', {
      containerName: this.containerName,
      image,
      essential: true,
      environment: {
        ...props.environment,
        INTERNAL_HOP_PORT: String(internalHopPort),
        // Read by the image's own HEALTHCHECK (sip-gateway/Dockerfile) when run outside ECS.
        HEALTH_PORT: String(healthPort),
        NODE_OPTIONS: '--enable-source-maps',
      },
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'sip-gateway', logGroup }),
      portMappings: [
        { name: 'sip-udp', containerPort: sipPort, protocol: ecs.Protocol.UDP },
        { name: 'sip-tcp', containerPort: containerTcpPort, protocol: ecs.Protocol.TCP },
        { name: 'health', containerPort: healthPort, protocol: ecs.Protocol.TCP },
      ],
      healthCheck: {
        // Same probe as the Dockerfile HEALTHCHECK (ECS ignores the image's own health check).
        command: ['CMD', 'node', '-e', healthProbeScript(healthPort)],
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(20),
      },
      stopTimeout: Duration.seconds(30),
    });

    this.taskSecurityGroup = new ec2.SecurityGroup(this, 'TaskSecurityGroup', {
      vpc: props.vpc,
      description: 'SIP gateway tasks: SIP from allowed sources (client IPs preserved), health checks from the VPC, internal hop between tasks',
      allowAllOutbound: true,
    });
    for (const cidr of allowedSipCidrs) {
      this.taskSecurityGroup.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.udp(sipPort), 'SIP over UDP from devices and the main registrar');
      this.taskSecurityGroup.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(containerTcpPort), 'SIP over TCP from devices and the main registrar');
    }
    this.taskSecurityGroup.addIngressRule(ec2.Peer.ipv4(props.vpc.vpcCidrBlock), ec2.Port.tcp(healthPort), 'NLB health checks');
    this.taskSecurityGroup.addIngressRule(this.taskSecurityGroup, ec2.Port.tcp(internalHopPort), 'Internal hop between gateway tasks (TCP)');
    this.taskSecurityGroup.addIngressRule(this.taskSecurityGroup, ec2.Port.udp(internalHopPort), 'Internal hop between gateway tasks (UDP)');

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: minTasks,
      vpcSubnets: props.taskSubnets,
      securityGroups: [this.taskSecurityGroup],
      assignPublicIp: false,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
      healthCheckGracePeriod: Duration.seconds(60),
    });

    const nlbSecurityGroup = this.loadBalancerSecurityGroup = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc: props.vpc,
      description: 'SIP load balancer: UDP and TCP SIP from allowed sources',
      allowAllOutbound: true,
    });
    for (const cidr of allowedSipCidrs) {
      nlbSecurityGroup.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.udp(sipPort), 'SIP over UDP');
      nlbSecurityGroup.addIngressRule(ec2.Peer.ipv4(cidr), ec2.Port.tcp(sipPort), 'SIP over TCP');
    }
    this.loadBalancer = new elbv2.NetworkLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      internetFacing: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      crossZoneEnabled: true,
      securityGroups: [nlbSecurityGroup],
    });

    const healthCheck: elbv2.HealthCheck = {
      protocol: elbv2.Protocol.HTTP,
      port: String(healthPort),
      path: '/health',
      interval: Duration.seconds(10),
      healthyThresholdCount: 2,
      unhealthyThresholdCount: 2,
    };
    const targetGroupDefaults = {
      healthCheck,
      // The UA's address is what NAT traversal needs (RFC 3581 received/rport, flows): keep it.
      preserveClientIp: true,
      deregistrationDelay: props.deregistrationDelay ?? Duration.seconds(10),
    };
    const udpListener = this.loadBalancer.addListener('SipUdp', { port: sipPort, protocol: elbv2.Protocol.UDP });
    const udp = udpListener.addTargets('SipUdp', {
      ...targetGroupDefaults,
      port: sipPort,
      protocol: elbv2.Protocol.UDP,
      targets: [this.service.loadBalancerTarget({ containerName: this.containerName, containerPort: sipPort, protocol: ecs.Protocol.UDP })],
    });
    const tcpListener = this.loadBalancer.addListener('SipTcp', {
      port: sipPort,
      protocol: elbv2.Protocol.TCP,
      tcpIdleTimeout: props.tcpIdleTimeout ?? Duration.seconds(600),
    });
    const tcp = tcpListener.addTargets('SipTcp', {
      ...targetGroupDefaults,
      port: containerTcpPort,
      protocol: elbv2.Protocol.TCP,
      targets: [this.service.loadBalancerTarget({ containerName: this.containerName, containerPort: containerTcpPort, protocol: ecs.Protocol.TCP })],
    });
    this.targetGroups = { udp, tcp };
    for (const targetGroup of [udp, tcp]) {
      // UDP flows never end by themselves: without this a draining task would keep them until idle.
      targetGroup.setAttribute('deregistration_delay.connection_termination.enabled', 'true');
    }

    // Exactly the two functions (grantInvoke would add their versions and aliases, `<arn>:*`), and
    // read-only items of the table: the gateway may look up a binding's owner task, never write one.
    this.taskDefinition.addToTaskRolePolicy(new iam.PolicyStatement({
      actions: ['lambda:InvokeFunction'],
      resources: [props.functions.register.functionArn, props.functions.lookup.functionArn],
    }));
    this.taskDefinition.addToTaskRolePolicy(new iam.PolicyStatement({
      actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem'],
      resources: [props.bindings.table.tableArn],
    }));

    const scaling = this.service.autoScaleTaskCount({ minCapacity: minTasks, maxCapacity: maxTasks });
    // Scale in slowly: a removed task takes its UDP flows and TCP connections with it, and its devices
    // must re-REGISTER through another task before calls reach them again.
    const scaleInCooldown = Duration.minutes(10);
    const scaleOutCooldown = Duration.minutes(1);
    scaling.scaleOnCpuUtilization('Cpu', {
      targetUtilizationPercent: props.targetCpuPercent ?? 60,
      scaleInCooldown,
      scaleOutCooldown,
    });
    // Each task flushes its REGISTER counter (METRIC.registerIn) every gatewayFlushIntervalSec; the Average over all
    // tasks' data points is therefore REGISTERs per task per flush interval.
    scaling.scaleToTrackCustomMetric('RegisterRate', {
      metric: new cloudwatch.Metric({
        namespace: props.metrics.namespace,
        metricName: METRIC.registerIn,
        dimensionsMap: { ...props.metrics.gatewayDimensions },
        statistic: cloudwatch.Stats.AVERAGE,
        period: Duration.minutes(1),
      }),
      targetValue: (props.targetRegistersPerSecPerTask ?? 400) * props.metrics.gatewayFlushIntervalSec,
      scaleInCooldown,
      scaleOutCooldown,
    });

    this.acknowledgeFindings(allowedSipCidrs);

    new CfnOutput(this, 'SipEndpoint', {
      description: 'Point devices here (UDP and TCP); use a DNS name (CNAME) of your own in front of it',
      value: `${this.loadBalancer.loadBalancerDnsName}:${sipPort}`,
    });
  }

  /** cdk-nag findings that are design decisions, each with its reason. */
  private acknowledgeFindings(allowedSipCidrs: string[]): void {
    if (allowedSipCidrs.includes('0.0.0.0/0')) {
      for (const group of [this.taskSecurityGroup, this.loadBalancerSecurityGroup]) {
        Validations.of(group).acknowledge({
          id: 'AwsSolutions-EC23',
          reason: 'A public SIP service: devices register from any network; narrow it with the allowedSipCidrs prop',
        });
      }
    }
    Validations.of(this.taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason: 'The environment carries non-secret configuration and resource names; secrets enter only as CloudFormation dynamic references resolved at deploy time',
    });
    Validations.of(this.taskDefinition.obtainExecutionRole()).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'ecr:GetAuthorizationToken has no resource-level permissions; image pulls themselves are scoped to the asset repository',
    });
    Validations.of(this.loadBalancer).acknowledge({
      id: 'AwsSolutions-ELB2',
      reason: 'NLB access logs exist only for TLS listeners; this load balancer has UDP and TCP listeners (flows are in the VPC flow log)',
    });
  }
}

/** A probe run with `node -e`: exit 0 iff GET /health answers 2xx within the probe's timeout. */
export function healthProbeScript(healthPort: number): string {
  return `fetch('http://127.0.0.1:${healthPort}/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`;
}

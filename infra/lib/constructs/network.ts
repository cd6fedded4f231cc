/**
 * The region's network (DESIGN §2, §7): a VPC over at least two AZs whose hot path needs no NAT gateway.
 */
import { CfnOutput, Fn, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { DeploymentConfigError } from '../errors';

/** Props of {@link Network}. */
export interface NetworkProps {
  /**
   * Availability zones to span; at least 2 so one AZ's failure leaves gateway tasks and NAT running.
   * @default 2
   */
  readonly maxAzs?: number;
  /**
   * NAT gateways. They carry only what leaves AWS: SIP to the main registrar (relayed REGISTERs from the
   * gateway tasks, De-REGISTERs and refreshes from the sweep function). Lambda, DynamoDB, CloudWatch Logs
   * and ECR are reached through VPC endpoints, so REGISTER handling never crosses a NAT gateway.
   * 0 is allowed when the main registrar is reached privately (peering, VPN, same VPC).
   * @default one per AZ
   */
  readonly natGateways?: number;
  /**
   * IPv4 range of the VPC.
   * @default 10.60.0.0/16
   */
  readonly cidr?: string;
  /**
   * Retention of the VPC flow log (rejected and accepted traffic).
   * @default one month
   */
  readonly flowLogRetention?: logs.RetentionDays;
}

/**
 * VPC with public subnets (load balancer, NAT) and private subnets (Fargate tasks, Lambda functions),
 * a DynamoDB and an S3 gateway endpoint (S3 serves ECR image layers), and interface endpoints for
 * Lambda, CloudWatch Logs and ECR, plus a flow log.
 */
export class Network extends Construct {
  /** The VPC. */
  readonly vpc: ec2.Vpc;
  /** Where the gateway tasks and the functions run. */
  readonly appSubnets: ec2.SubnetSelection;
  /**
   * Public addresses of the NAT gateways: the source of SIP that reaches the main registrar over the
   * internet (empty with `natGateways: 0`).
   */
  readonly natPublicIps: string[];

  constructor(scope: Construct, id: string, props: NetworkProps = {}) {
    super(scope, id);
    const maxAzs = props.maxAzs ?? 2;
    if (!Number.isInteger(maxAzs) || maxAzs < 2) throw new DeploymentConfigError('maxAzs', `must be an integer ≥ 2 (got ${maxAzs})`);
    const natGateways = props.natGateways ?? maxAzs;
    const withEgress = natGateways > 0;

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(props.cidr ?? '10.60.0.0/16'),
      maxAzs,
      natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        {
          name: 'app',
          subnetType: withEgress ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED,
          cidrMask: 20,
        },
      ],
      gatewayEndpoints: {
        DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
      },
    });
    this.appSubnets = { subnetGroupName: 'app' };

    const interfaceEndpoints: Record<string, ec2.InterfaceVpcEndpointAwsService> = {
      Lambda: ec2.InterfaceVpcEndpointAwsService.LAMBDA,
      Logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
      EcrApi: ec2.InterfaceVpcEndpointAwsService.ECR,
      EcrDocker: ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    };
    for (const [name, service] of Object.entries(interfaceEndpoints)) {
      const endpoint = this.vpc.addInterfaceEndpoint(name, { service, subnets: this.appSubnets, privateDnsEnabled: true });
      Validations.of(endpoint).acknowledge({
        id: 'AwsSolutions-EC23',
        reason: 'The endpoint accepts HTTPS from the VPC CIDR only; the rule cannot evaluate the CIDR token and reports it as open',
      });
    }

    const flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: props.flowLogRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });

    this.natPublicIps = this.vpc.publicSubnets
      .map((subnet) => subnet.node.tryFindChild('EIP'))
      .filter((eip): eip is ec2.CfnEIP => eip instanceof ec2.CfnEIP)
      .map((eip) => eip.attrPublicIp);

    new CfnOutput(this, 'AppSubnetCidrs', {
      description: 'Private subnets of the gateway tasks and functions: whitelist these at the main registrar when it is reached privately',
      value: Fn.join(',', this.vpc.selectSubnets(this.appSubnets).subnets.map((s) => s.ipv4CidrBlock)),
    });
    if (this.natPublicIps.length > 0) {
      new CfnOutput(this, 'NatPublicIps', {
        description: 'Source addresses of SIP to the main registrar over the internet: whitelist these for credential-less De-REGISTERs',
        value: Fn.join(',', this.natPublicIps),
      });
    }
  }
}

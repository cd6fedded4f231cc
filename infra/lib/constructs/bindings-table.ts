/**
 * The bindings table (DESIGN §4), built from the store's own schema module so the deployed table and the
 * DynamoDB adapter cannot drift apart.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { createTableInput, DUE_INDEX_NAME, TTL_ATTRIBUTE } from '../../../functions/store/table-schema';
import { InfraError } from '../errors';

/** Provisioned capacity with target-tracking autoscaling (read and write scale independently). */
export interface ProvisionedBilling {
  readonly mode: 'provisioned';
  /** @default 5 */
  readonly minReadUnits?: number;
  /** @default 1000 */
  readonly maxReadUnits?: number;
  /** @default 5 */
  readonly minWriteUnits?: number;
  /** @default 1000 */
  readonly maxWriteUnits?: number;
  /**
   * Utilization that autoscaling tracks.
   * @default 70
   */
  readonly targetUtilizationPercent?: number;
}

/** On-demand (pay per request) billing. */
export interface OnDemandBilling {
  readonly mode: 'on-demand';
}

/** Props of {@link BindingsTable}. */
export interface BindingsTableProps {
  /**
   * Billing: on-demand follows REGISTER storms without tuning; provisioned with autoscaling is cheaper
   * for a steady load (DESIGN §8).
   * @default { mode: 'on-demand' }
   */
  readonly billing?: OnDemandBilling | ProvisionedBilling;
  /**
   * What happens to the table when the stack is deleted. Bindings are rebuilt by devices re-registering,
   * but upstream registrations would be orphaned, so the table is kept by default.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Refuse DeleteTable.
   * @default true
   */
  readonly deletionProtection?: boolean;
}

const ATTRIBUTE_TYPES: Record<string, dynamodb.AttributeType> = {
  S: dynamodb.AttributeType.STRING,
  N: dynamodb.AttributeType.NUMBER,
  B: dynamodb.AttributeType.BINARY,
};

const PROJECTIONS: Record<string, dynamodb.ProjectionType> = {
  KEYS_ONLY: dynamodb.ProjectionType.KEYS_ONLY,
  ALL: dynamodb.ProjectionType.ALL,
  INCLUDE: dynamodb.ProjectionType.INCLUDE,
};

/** Translates `functions/store/table-schema.ts` into TableV2 props: keys, the due-time GSI. */
function schemaProps(): Pick<dynamodb.TablePropsV2, 'partitionKey' | 'sortKey' | 'globalSecondaryIndexes'> {
  const input = createTableInput('schema');
  const typeOf = (name: string | undefined): dynamodb.Attribute => {
    const definition = input.AttributeDefinitions?.find((a) => a.AttributeName === name);
    const type = definition?.AttributeType === undefined ? undefined : ATTRIBUTE_TYPES[definition.AttributeType];
    if (name === undefined || type === undefined) throw new InfraError(`table schema: attribute ${String(name)} has no known type`);
    return { name, type };
  };
  const keyOf = (schema: { AttributeName?: string; KeyType?: string }[] | undefined, keyType: string): dynamodb.Attribute | undefined => {
    const element = schema?.find((k) => k.KeyType === keyType);
    return element === undefined ? undefined : typeOf(element.AttributeName);
  };
  const partitionKey = keyOf(input.KeySchema, 'HASH');
  if (partitionKey === undefined) throw new InfraError('table schema: no partition key');
  const sortKey = keyOf(input.KeySchema, 'RANGE');
  const globalSecondaryIndexes = (input.GlobalSecondaryIndexes ?? []).map((gsi) => {
    const indexPartitionKey = keyOf(gsi.KeySchema, 'HASH');
    const projectionType = PROJECTIONS[gsi.Projection?.ProjectionType ?? 'ALL'];
    if (gsi.IndexName === undefined || indexPartitionKey === undefined || projectionType === undefined) {
      throw new InfraError(`table schema: index ${String(gsi.IndexName)} is incomplete`);
    }
    const indexSortKey = keyOf(gsi.KeySchema, 'RANGE');
    return {
      indexName: gsi.IndexName,
      partitionKey: indexPartitionKey,
      ...(indexSortKey === undefined ? {} : { sortKey: indexSortKey }),
      projectionType,
      ...(gsi.Projection?.NonKeyAttributes === undefined ? {} : { nonKeyAttributes: gsi.Projection.NonKeyAttributes }),
    };
  });
  return { partitionKey, ...(sortKey === undefined ? {} : { sortKey }), globalSecondaryIndexes };
}

function billingOf(billing: OnDemandBilling | ProvisionedBilling): dynamodb.Billing {
  if (billing.mode === 'on-demand') return dynamodb.Billing.onDemand();
  const targetUtilizationPercent = billing.targetUtilizationPercent ?? 70;
  return dynamodb.Billing.provisioned({
    readCapacity: dynamodb.Capacity.autoscaled({
      minCapacity: billing.minReadUnits ?? 5,
      maxCapacity: billing.maxReadUnits ?? 1000,
      targetUtilizationPercent,
    }),
    writeCapacity: dynamodb.Capacity.autoscaled({
      minCapacity: billing.minWriteUnits ?? 5,
      maxCapacity: billing.maxWriteUnits ?? 1000,
      targetUtilizationPercent,
    }),
  });
}

/**
 * The bindings table: key schema and the sparse sharded due-time GSI from the store's schema module,
 * TTL (garbage collection only: every read still checks expiry), point-in-time recovery, deletion
 * protection, on-demand or provisioned-with-autoscaling billing.
 */
export class BindingsTable extends Construct {
  /** The table. */
  readonly table: dynamodb.TableV2;
  /** Name of the due-time GSI that the sweep queries. */
  readonly dueIndexName: string = DUE_INDEX_NAME;

  constructor(scope: Construct, id: string, props: BindingsTableProps = {}) {
    super(scope, id);
    this.table = new dynamodb.TableV2(this, 'Table', {
      ...schemaProps(),
      timeToLiveAttribute: TTL_ATTRIBUTE,
      billing: billingOf(props.billing ?? { mode: 'on-demand' }),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: props.deletionProtection ?? true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }

  /** ARN of the due-time GSI (for IAM statements that allow Query on it only). */
  get dueIndexArn(): string {
    return `${this.table.tableArn}/index/${this.dueIndexName}`;
  }
}

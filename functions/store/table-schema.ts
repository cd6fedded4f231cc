/**
 * The DynamoDB table of the binding store, as data: attribute names, key builders and the table
 * definition. The DynamoDB adapter, the dynalite tests (test/support/dynalite.ts) and the CDK
 * construct all build from these names so they cannot drift apart.
 *
 * Item kinds (docs/store.md):
 * | kind | pk | sk | other attributes |
 * |---|---|---|---|
 * | AoR record | `AOR#<aor>` | `AOR` | `doc` (JSON string), `version`, `ttl`, `dueShard` + `dueAtMs` only when due work exists |
 * | contact id | `CTID#<id>` | `CTID` | `aor`, `ttl` |
 * | dead letter | `AOR#<aor>` | `DLQ#<atMs>#<kind>#<unique>` | `doc`, `ttl` |
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/** Attribute names used in items. */
export const ATTR = {
  partitionKey: 'pk',
  sortKey: 'sk',
  document: 'doc',
  version: 'version',
  ttl: 'ttl',
  dueShard: 'dueShard',
  dueAtMs: 'dueAtMs',
  aor: 'aor',
} as const;

/** The sparse GSI over due AoRs: partition `dueShard` (string), sort `dueAtMs` (number), keys only. */
export const DUE_INDEX_NAME = 'due-index';

/** The TTL attribute (epoch seconds) to enable on the table; garbage collection only. */
export const TTL_ATTRIBUTE = ATTR.ttl;

/** Sort key of AoR record items. */
export const AOR_SORT_KEY = 'AOR';
/** Sort key of contact-id items. */
export const CONTACT_ID_SORT_KEY = 'CTID';

const AOR_PREFIX = 'AOR#';
const CONTACT_ID_PREFIX = 'CTID#';

/** Partition key of an AoR's items. */
export function aorPartitionKey(aor: string): string {
  return AOR_PREFIX + aor;
}

/** The AoR of an AoR partition key; undefined for other kinds. */
export function aorFromPartitionKey(pk: string): string | undefined {
  return pk.startsWith(AOR_PREFIX) ? pk.slice(AOR_PREFIX.length) : undefined;
}

/** Partition key of a contact-id item. */
export function contactIdPartitionKey(contactId: string): string {
  return CONTACT_ID_PREFIX + contactId;
}

/** Sort key of a dead letter: time-ordered within the AoR's partition, unique by `unique`. */
export function deadLetterSortKey(atMs: number, kind: string, unique: string): string {
  return `DLQ#${String(Math.floor(atMs)).padStart(15, '0')}#${kind}#${unique}`;
}

/**
 * CreateTable input for the binding table (used by tests against dynalite; the CDK construct mirrors
 * the same key schema, GSI and attribute types). On-demand billing.
 */
export function createTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: ATTR.partitionKey, AttributeType: 'S' },
      { AttributeName: ATTR.sortKey, AttributeType: 'S' },
      { AttributeName: ATTR.dueShard, AttributeType: 'S' },
      { AttributeName: ATTR.dueAtMs, AttributeType: 'N' },
    ],
    KeySchema: [
      { AttributeName: ATTR.partitionKey, KeyType: 'HASH' },
      { AttributeName: ATTR.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: DUE_INDEX_NAME,
        KeySchema: [
          { AttributeName: ATTR.dueShard, KeyType: 'HASH' },
          { AttributeName: ATTR.dueAtMs, KeyType: 'RANGE' },
        ],
        // Keys only: the sweep re-reads each record anyway, and a smaller index entry costs fewer write units.
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
    ],
  };
}

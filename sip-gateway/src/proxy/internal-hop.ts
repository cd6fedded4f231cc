/**
 * The internal hop between gateway tasks (DESIGN §5, PTH-3): a request for a device whose flow another
 * gateway instance holds is relayed to that owner over its internal port, with a header naming the device
 * flow in an authenticated token; the owner sends it on the flow and the responses come back the same way.
 * Hops go over TCP (a gone owner is a refused or timed-out connect, so the branch ends 480 in seconds, and
 * large requests need no fragmentation); the owner also takes them over UDP on the same port.
 *
 * @remarks
 * The hop token is a flow token (functions/core/token.ts) under a key derived from `tokenSecret`, so a
 * Record-Route token a device has seen can never be replayed as a hop token (no open relay).
 */
import { createHmac } from 'node:crypto';
import type { Flow as ContractFlow } from '../../../functions/core/contract';
import { createFlowToken, verifyFlowToken } from '../../../functions/core/token';
import type { Flow } from '../transport/flow';

/** The header carrying the hop token; only read on the internal port, removed from everything we forward. */
export const INTERNAL_HOP_HEADER = 'X-Mid-Registrar-Hop';

/** An internal hop socket: the task's private address and internal port. */
export interface InternalHopAddress {
  address: string;
  port: number;
}

/** The key of hop tokens: derived from `tokenSecret`, so hop and Record-Route tokens never mix. */
export function deriveHopKey(tokenSecret: string): Buffer {
  return createHmac('sha256', tokenSecret).update('mid-registrar internal hop').digest();
}

/**
 * The gateway id of an instance reachable over the internal hop: `<private address>:<internal port>`.
 *
 * @example
 * formatGatewayId({ address: '10.0.1.7', port: 5090 }); // '10.0.1.7:5090'
 */
export function formatGatewayId(hop: InternalHopAddress): string {
  return hop.address.includes(':') ? `[${hop.address}]:${hop.port}` : `${hop.address}:${hop.port}`;
}

/** The hop address a gateway id names, or undefined for ids of instances without a hop (e.g. `local-…`). */
export function parseGatewayId(gatewayId: string): InternalHopAddress | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|(\d{1,3}(?:\.\d{1,3}){3})):(\d{1,5})$/.exec(gatewayId);
  if (match === null) return undefined;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  return { address: match[1] ?? (match[2] as string), port };
}

/** The token naming the device flow the owner must use (key from {@link deriveHopKey}). */
export function createHopToken(hopKey: Buffer, flow: ContractFlow): string {
  return createFlowToken(hopKey, flow);
}

/** The device flow a hop token names (with its owner's gateway id), or undefined when its MAC fails. */
export function verifyHopToken(hopKey: Buffer, token: string): { flow: Flow; gatewayId: string } | undefined {
  const verified = verifyFlowToken(hopKey, token.trim());
  if (verified === undefined) return undefined;
  const transport = verified.transport === 'tcp' ? 'tcp' : verified.transport === 'tls' ? 'tls' : verified.transport === 'udp' ? 'udp' : undefined;
  if (transport === undefined) return undefined;
  return {
    gatewayId: verified.gatewayId,
    flow: {
      transport,
      localAddress: verified.localAddress,
      localPort: verified.localPort,
      remoteAddress: verified.remoteAddress,
      remotePort: verified.remotePort,
      ...(verified.connectionId === undefined ? {} : { connectionId: verified.connectionId }),
    },
  };
}

/**
 * Routing of every request but REGISTER (SPEC LKP-1..10, RFC 3261 §16): initial requests are looked
 * up and forked to devices or relayed upstream; in-dialog requests follow our Record-Route (LKP-9);
 * CANCEL cancels the fork (LKP-7); ACKs for 2xx and stray 2xx are forwarded statelessly.
 *
 * @remarks
 * Every stateful request runs through a {@link ForkingContext} (also for one branch), so Timer C,
 * CANCEL and best-response selection behave the same for one target, a fork, and a relay upstream.
 */
import { createHash } from 'node:crypto';
import { CONTRACT_VERSION, type Flow as ContractFlow, type LocalResponse, type LookupTarget } from '../../../functions/core/contract';
import { REGISTRAR_ERRORS, registrarErrorResponse } from '../../../functions/core/errors';
import { createFlowToken, verifyFlowToken } from '../../../functions/core/token';
import type { DecisionInvoker } from '../decision/decision-invoker';
import type { Logger } from '../observability/logger';
import type { MetricsRegistry } from '../observability/metrics-registry';
import { createResponse, type SipMessage } from '../sip/message';
import { parseNameAddr } from '../sip/name-addr';
import { parseUri, type SipUri } from '../sip/uri';
import type { Clock, TimerHandle } from '../transaction/clock';
import type { ClientTransactionCallbacks, Transaction } from '../transaction/transaction-layer';
import type { Destination, Flow } from '../transport/flow';
import { ForkingContext, type ForkAction } from './forking-context';
import { createHopToken, deriveHopKey, INTERNAL_HOP_HEADER, parseGatewayId, verifyHopToken, type InternalHopAddress } from './internal-hop';
import { formatOwnVia, removeTopVia } from './via-ops';

/** Where a branch goes: a device flow (PTH-3) or a destination upstream. */
export type BranchTarget = Flow | Destination;

/** The transaction-layer operations the router uses. */
export interface RouterTransactions {
  respond(transaction: Transaction<SipMessage, BranchTarget>, response: SipMessage): boolean;
  sendRequest(
    request: SipMessage,
    target: BranchTarget,
    isReliable: boolean,
    callbacks: ClientTransactionCallbacks<SipMessage, BranchTarget>,
  ): Transaction<SipMessage, BranchTarget>;
  cancel(invite: Transaction<SipMessage, BranchTarget>): unknown;
}

/** Dependencies of {@link RequestRouter}. */
export interface RequestRouterOptions {
  invoker: DecisionInvoker;
  transactions: RouterTransactions;
  /** Sends a message outside any transaction (ACK for 2xx, stray 2xx). */
  sendStateless(message: SipMessage, target: BranchTarget): void;
  /** True when the flow's connection (TCP) is still open; UDP flows always are (PTH-3). */
  isFlowUsable(flow: Flow): boolean;
  /** Resolves `host:port[;transport=x]` or a SIP URI to a destination; undefined when it cannot. */
  resolveNextHop(nextHop: string): Destination | undefined;
  clock: Clock;
  gatewayId: string;
  advertisedUri: string;
  /** `upstreamOutboundProxy` if set, else `upstreamUri`: where device-originated requests go (LKP-1). */
  upstreamNextHop: string;
  tokenSecret: string;
  inviteTimeoutMs: number;
  retryAfterMs: number;
  newBranch(): string;
  newToTag(): string;
  /**
   * This instance's internal hop socket (DESIGN §5). When set, a request for a device whose flow another
   * instance owns (gateway id `<address>:<port>`) is relayed to that owner, which sends it on the flow.
   */
  internalHop?: InternalHopAddress;
  logger?: Logger;
  metrics?: MetricsRegistry;
}

interface Branch {
  target: RoutedTarget;
  transaction?: Transaction<SipMessage, BranchTarget>;
  timerC?: TimerHandle;
}

interface RoutedTarget {
  request: SipMessage;
  to: BranchTarget;
  /** A device flow of ours, the internal hop to the flow's owner, or a destination upstream. */
  via: 'device' | 'hop' | 'upstream';
}

/** Where a request for a device goes from here: its flow, or the owner instance over the internal hop. */
type DeviceRoute = { to: Flow; via: 'device' } | { to: Flow; via: 'hop'; hopToken: string };

interface ForkState {
  server: Transaction<SipMessage, BranchTarget>;
  fork: ForkingContext<RoutedTarget, SipMessage>;
  branches: Branch[];
  done: () => void;
}

const MAGIC_COOKIE = 'z9hG4bK';

/**
 * Routes non-REGISTER requests for the gateway.
 *
 * @example
 * const router = new RequestRouter({ invoker, transactions, sendStateless, isFlowUsable, resolveNextHop, clock, … });
 * router.handleRequest(serverTransaction, flow, nowMs);
 */
export class RequestRouter {
  private readonly forks = new Map<number, ForkState>();
  private readonly advertised: SipUri;
  private readonly hopKey: Buffer;

  constructor(private readonly options: RequestRouterOptions) {
    this.advertised = parseUri(options.advertisedUri);
    this.hopKey = deriveHopKey(options.tokenSecret);
  }

  /** Stateful requests whose final response is still to come. */
  get pendingCount(): number {
    return this.forks.size;
  }

  /** A new server transaction for a request other than REGISTER, CANCEL or ACK. */
  async handleRequest(server: Transaction<SipMessage, BranchTarget>, flow: Flow, receivedAtMs: number): Promise<void> {
    const request = server.request;
    try {
      // RFC 3261 §16.3 step 3: a request that would leave with Max-Forwards 0 is answered 483.
      if ((request.maxForwards() ?? 70) <= 0) {
        this.respondLocal(server, REGISTRAR_ERRORS.tooManyHops.status, REGISTRAR_ERRORS.tooManyHops.text);
        return;
      }
      // RFC 3261 §16.3 step 4: our own Via with this request's loop hash means it came back unchanged.
      if (this.isLoop(request)) {
        this.respondLocal(server, 482, 'Loop Detected');
        return;
      }
      if (request.toTag() !== undefined) {
        this.routeInDialog(server, flow);
        return;
      }
      const topRoute = request.headerValues('Route')[0];
      const decision = await this.options.invoker.lookup({
        version: CONTRACT_VERSION,
        method: request.method,
        requestUri: request.requestUri,
        ...(topRoute === undefined ? {} : { topRoute }),
        hasToTag: false,
        flow: this.toContractFlow(flow),
        receivedAtMs,
      });
      switch (decision.kind) {
        case 'respond':
          this.respondWith(server, decision.response);
          return;
        case 'relay-upstream':
          this.relayUpstream(server, flow);
          return;
        case 'targets':
          this.forkToTargets(server, decision.groups, decision.removeTopRoute);
          return;
      }
    } catch (error) {
      // ERR-3: an unexpected failure gives 500 when an answer is possible.
      this.options.logger?.error({ err: error }, 'request routing failed');
      this.respondWith(server, registrarErrorResponse(REGISTRAR_ERRORS.internalError, this.options.retryAfterMs, this.options.newToTag()));
    }
  }

  /**
   * A CANCEL (RFC 3261 §16.10, LKP-7): 200 if it matches a pending INVITE (then all branches are
   * CANCELled and the INVITE gets 487 unless a branch answered 2xx), else 481.
   */
  handleCancel(cancel: Transaction<SipMessage, BranchTarget>, invite: Transaction<SipMessage, BranchTarget> | undefined): void {
    const state = invite === undefined ? undefined : this.forks.get(invite.id);
    if (state === undefined) {
      this.respondLocal(cancel, 481, 'Call/Transaction Does Not Exist');
      return;
    }
    this.options.transactions.respond(cancel, createResponse(cancel.request, 200, 'OK', { toTag: state.server.request.toTag() ?? this.options.newToTag() }));
    this.execute(state, state.fork.onUpstreamCancel());
  }

  /** An ACK no transaction took: the ACK for a 2xx, end to end (RFC 3261 §16.7 step 5, LKP-6). */
  handleStatelessAck(ack: SipMessage, flow: Flow): void {
    const route = this.inDialogTarget(ack, flow);
    if (route.kind !== 'route') return;
    const forwarded = this.prepareForward(ack, route.to, route.removeTopRoute);
    if (route.hopToken !== undefined) forwarded.setHeader(INTERNAL_HOP_HEADER, [route.hopToken]);
    this.options.sendStateless(forwarded, route.to);
  }

  /**
   * A request that came on the internal hop port (DESIGN §5): its hop token names a device flow of this
   * instance, on which it is sent statefully (this instance proxies the branch: responses, CANCEL). No
   * valid token: 403 (LKP-10, no open relay); the flow is not ours or gone: 480 (PTH-3).
   */
  handleHopRequest(server: Transaction<SipMessage, BranchTarget>): void {
    const owned = this.ownedHopFlow(server.request);
    if (owned.kind === 'reject') {
      this.respondWith(server, registrarErrorResponse(owned.row, this.options.retryAfterMs, this.options.newToTag()));
      return;
    }
    this.startFork(server, [[{ request: this.prepareForward(server.request, owned.flow, false), to: owned.flow, via: 'device' }]]);
  }

  /** An ACK for a 2xx that came on the internal hop port: sent on the device flow its token names. */
  handleHopAck(ack: SipMessage): void {
    const owned = this.ownedHopFlow(ack);
    if (owned.kind === 'flow') this.options.sendStateless(this.prepareForward(ack, owned.flow, false), owned.flow);
  }

  private ownedHopFlow(request: SipMessage): { kind: 'flow'; flow: Flow } | { kind: 'reject'; row: { status: number; text: string } } {
    const token = request.header(INTERNAL_HOP_HEADER);
    const named = token === undefined ? undefined : verifyHopToken(this.hopKey, token);
    if (named === undefined) return { kind: 'reject', row: REGISTRAR_ERRORS.forbidden };
    if (named.gatewayId !== this.options.gatewayId || !this.options.isFlowUsable(named.flow)) return { kind: 'reject', row: REGISTRAR_ERRORS.flowUnavailable };
    return { kind: 'flow', flow: named.flow };
  }

  /** A response no client transaction matched: a 2xx retransmission is forwarded on (LKP-6). */
  handleStatelessResponse(response: SipMessage): void {
    const ours = response.topVia();
    if (ours === undefined || !this.isOurVia(ours.host, ours.port) || response.status < 200 || response.status >= 300) return;
    const forwarded = removeTopVia(response);
    const next = forwarded.topVia();
    if (next === undefined) return;
    const transport = next.transport.toLowerCase() === 'tcp' ? 'tcp' : 'udp';
    const port = typeof next.rport === 'number' ? next.rport : (next.port ?? 5060);
    this.options.sendStateless(forwarded, { transport, address: next.received ?? next.host, port });
  }

  /** LKP-9: in-dialog requests follow our Record-Route. */
  private routeInDialog(server: Transaction<SipMessage, BranchTarget>, flow: Flow): void {
    const route = this.inDialogTarget(server.request, flow);
    if (route.kind === 'reject') {
      this.respondWith(server, registrarErrorResponse(route.row, this.options.retryAfterMs, this.options.newToTag()));
      return;
    }
    const request = this.prepareForward(server.request, route.to, route.removeTopRoute);
    if (route.hopToken !== undefined) request.setHeader(INTERNAL_HOP_HEADER, [route.hopToken]);
    const via = route.hopToken !== undefined ? 'hop' : 'remoteAddress' in route.to ? 'device' : 'upstream';
    this.startFork(server, [[{ request, to: route.to, via }]]);
  }

  private inDialogTarget(
    request: SipMessage,
    flow: Flow,
  ): { kind: 'route'; to: BranchTarget; removeTopRoute: boolean; hopToken?: string } | { kind: 'reject'; row: { status: number; text: string } } {
    const routes = request.headerValues('Route');
    const top = routes[0] === undefined ? undefined : tryParseRouteUri(routes[0]);
    if (top === undefined || !this.isOurUri(top)) {
      // Not ours to route: only a loose route onward is followed; nothing else reaches devices (LKP-10).
      if (top === undefined) return { kind: 'reject', row: REGISTRAR_ERRORS.notFound };
      const to = this.options.resolveNextHop(routes[0] ?? '');
      return to === undefined ? { kind: 'reject', row: REGISTRAR_ERRORS.notFound } : { kind: 'route', to, removeTopRoute: false };
    }
    const device = top.user === undefined ? undefined : verifyFlowToken(this.options.tokenSecret, top.user);
    if (device === undefined) return { kind: 'reject', row: REGISTRAR_ERRORS.forbidden };
    const deviceFlow: Flow = { transport: device.transport === 'tcp' ? 'tcp' : device.transport === 'tls' ? 'tls' : 'udp',
      localAddress: device.localAddress, localPort: device.localPort, remoteAddress: device.remoteAddress, remotePort: device.remotePort,
      ...(device.connectionId === undefined ? {} : { connectionId: device.connectionId }) };
    if (sameRemote(deviceFlow, flow)) {
      // It came from the device: on to the next Route, else the Request-URI (RFC 3261 §16.12).
      const next = routes[1] ?? request.requestUri;
      const to = this.options.resolveNextHop(next);
      return to === undefined ? { kind: 'reject', row: REGISTRAR_ERRORS.notFound } : { kind: 'route', to, removeTopRoute: true };
    }
    const deviceRoute = this.deviceRoute(deviceFlow, device.gatewayId);
    if (deviceRoute.via === 'device' && !this.options.isFlowUsable(deviceFlow)) return { kind: 'reject', row: REGISTRAR_ERRORS.flowUnavailable };
    return { kind: 'route', to: deviceRoute.to, removeTopRoute: true, ...(deviceRoute.via === 'hop' ? { hopToken: deviceRoute.hopToken } : {}) };
  }

  /**
   * DESIGN §5, PTH-3: a flow another instance owns is reached through that owner's internal hop, from ours.
   * Owners without a hop address (a local instance, or no hop configured here) are sent to directly.
   */
  private deviceRoute(deviceFlow: Flow, ownerId: string): DeviceRoute {
    const own = this.options.internalHop;
    const owner = own === undefined || ownerId === this.options.gatewayId ? undefined : parseGatewayId(ownerId);
    if (own === undefined || owner === undefined) return { to: deviceFlow, via: 'device' };
    return {
      // TCP: an owner that is gone shows as a refused or timed-out connection (480 in seconds, not after Timer B).
      to: { transport: 'tcp', localAddress: own.address, localPort: own.port, remoteAddress: owner.address, remotePort: owner.port },
      via: 'hop',
      hopToken: createHopToken(this.hopKey, { ...deviceFlow, gatewayId: ownerId }),
    };
  }

  /** LKP-1: a device-originated request for elsewhere goes upstream, Request-URI unchanged, with Record-Route. */
  private relayUpstream(server: Transaction<SipMessage, BranchTarget>, flow: Flow): void {
    const to = this.options.resolveNextHop(this.options.upstreamNextHop);
    if (to === undefined) {
      this.respondWith(server, registrarErrorResponse(REGISTRAR_ERRORS.serviceUnavailable, this.options.retryAfterMs, this.options.newToTag()));
      return;
    }
    const request = this.prepareForward(server.request, to, false);
    request.prependHeader('Record-Route', this.recordRoute(flow));
    this.startFork(server, [[{ request, to, via: 'upstream' }]]);
  }

  /** LKP-4, LKP-5: one branch per binding, in q groups; Record-Route names the device-side flow. */
  private forkToTargets(server: Transaction<SipMessage, BranchTarget>, groups: LookupTarget[][], removeTopRoute: boolean): void {
    const routed = groups.map((group) =>
      group.map((target): RoutedTarget => {
        const to: Flow = {
          transport: target.flow.transport === 'tcp' ? 'tcp' : target.flow.transport === 'tls' ? 'tls' : 'udp',
          localAddress: target.flow.localAddress,
          localPort: target.flow.localPort,
          remoteAddress: target.flow.remoteAddress,
          remotePort: target.flow.remotePort,
          ...(target.flow.connectionId === undefined ? {} : { connectionId: target.flow.connectionId }),
        };
        const route = this.deviceRoute(to, target.gatewayId);
        const request = this.prepareForward(server.request, route.to, removeTopRoute);
        request.setRequestUri(target.requestUri);
        for (const routeUri of [...target.routeSet].reverse()) request.prependHeader('Route', routeUri);
        // LKP-9: the token names the device flow with its owner, so in-dialog requests reach it from any instance.
        request.prependHeader('Record-Route', this.recordRoute(to, route.via === 'hop' ? target.gatewayId : this.options.gatewayId));
        if (route.via === 'hop') request.setHeader(INTERNAL_HOP_HEADER, [route.hopToken]);
        return { request, to: route.to, via: route.via };
      }),
    );
    this.startFork(server, routed);
  }

  /** RFC 3261 §16.6: copy, drop our Route if asked, Max-Forwards − 1, our Via on top. */
  private prepareForward(original: SipMessage, to: BranchTarget, removeTopRoute: boolean): SipMessage {
    const request = original.clone();
    // Hop tokens never leave the gateway fleet (a received one is only read on the internal port).
    request.removeHeader(INTERNAL_HOP_HEADER);
    if (removeTopRoute) request.setHeader('Route', request.headerValues('Route').slice(1));
    request.setHeader('Max-Forwards', [String(Math.max(0, (original.maxForwards() ?? 70) - 1))]);
    const branch = original.method === 'ACK' ? `${MAGIC_COOKIE}${this.loopHash(original)}.ack` : `${MAGIC_COOKIE}${this.loopHash(original)}.${this.options.newBranch()}`;
    request.prependHeader('Via', formatOwnVia(this.options.advertisedUri, to.transport.toUpperCase(), branch));
    return request;
  }

  /** LKP-9: `<sip:TOKEN@HOST:PORT;lr[;transport=T]>` with HOST:PORT;transport from `advertisedUri`. */
  private recordRoute(deviceFlow: Flow, ownerId: string = this.options.gatewayId): string {
    const token = createFlowToken(this.options.tokenSecret, { ...deviceFlow, gatewayId: ownerId });
    const { host, port } = this.advertised;
    const transport = this.advertised.params.find((p) => p.name.toLowerCase() === 'transport')?.value;
    return `<sip:${token}@${host}${port === undefined ? '' : `:${port}`};lr${transport === undefined ? '' : `;transport=${transport}`}>`;
  }

  private startFork(server: Transaction<SipMessage, BranchTarget>, groups: RoutedTarget[][]): void {
    const fork = new ForkingContext<RoutedTarget, SipMessage>({ method: server.request.method, groups });
    const state: ForkState = { server, fork, branches: [], done: () => this.forks.delete(server.id) };
    this.forks.set(server.id, state);
    this.execute(state, fork.start());
  }

  private execute(state: ForkState, actions: ForkAction<RoutedTarget, SipMessage>[]): void {
    const { transactions, clock } = this.options;
    for (const action of actions) {
      switch (action.kind) {
        case 'send-trying':
          // The INVITE server transaction already sent 100 Trying (RFC 3261 §17.2.1).
          break;
        case 'start-branch':
          this.startBranch(state, action.branchId, action.target);
          break;
        case 'start-timer-c': {
          const branch = state.branches[action.branchId];
          if (branch === undefined) break;
          if (branch.timerC !== undefined) clock.clearTimer(branch.timerC);
          branch.timerC = clock.setTimer(this.options.inviteTimeoutMs, () => this.execute(state, state.fork.onTimerC(action.branchId)));
          break;
        }
        case 'stop-timer-c': {
          const branch = state.branches[action.branchId];
          if (branch?.timerC !== undefined) clock.clearTimer(branch.timerC);
          break;
        }
        case 'cancel-branch': {
          const transaction = state.branches[action.branchId]?.transaction;
          if (transaction !== undefined) transactions.cancel(transaction);
          break;
        }
        case 'forward-response':
          transactions.respond(state.server, removeTopVia(action.response));
          break;
        case 'send-final':
          transactions.respond(state.server, this.finalResponse(state.server.request, action));
          state.done();
          break;
      }
    }
    if (state.fork.isFinished) state.done();
  }

  private startBranch(state: ForkState, branchId: number, target: RoutedTarget): void {
    const branch: Branch = { target };
    state.branches[branchId] = branch;
    const fail = (status: number) => () => this.execute(state, state.fork.onBranchFailed(branchId, status));
    // PTH-3: toward a device, directly or through its owner, undeliverable means 480.
    const isDevice = target.via !== 'upstream';
    if (target.via === 'device' && !this.options.isFlowUsable(target.to as Flow)) {
      // PTH-3: delivery impossible: the branch ends with 480.
      queueMicrotask(fail(480));
      return;
    }
    try {
      branch.transaction = this.options.transactions.sendRequest(target.request, target.to, target.to.transport !== 'udp', {
        onResponse: (response) => {
          const status = response.status;
          this.execute(state, status < 200 ? state.fork.onProvisionalResponse(branchId, response, status) : state.fork.onFinalResponse(branchId, response, status));
        },
        // RFC 3261 §16.7 step 2 / §16.9: a timeout counts as 408, a transport error as 480 toward a device (PTH-3), 503 upstream.
        // An owner that never answers the hop is a gone instance (PTH-3).
        onTimeout: fail(target.via === 'hop' ? 480 : 408),
        onTransportError: fail(isDevice ? 480 : 503),
      });
    } catch (error) {
      this.options.logger?.warn({ err: error }, 'branch could not be sent');
      queueMicrotask(fail(isDevice ? 480 : 503));
    }
  }

  /** RFC 3261 §16.7 steps 6–7: the chosen response without our Via, 503 → 500, challenges merged. */
  private finalResponse(request: SipMessage, action: Extract<ForkAction<RoutedTarget, SipMessage>, { kind: 'send-final' }>): SipMessage {
    if (action.response === undefined) {
      const row = localRow(action.status);
      return createResponse(request, row.status, row.text, {
        toTag: this.options.newToTag(),
        headers: row.status >= 500 ? [['P-Registrar-Error', row.text], ['Retry-After', String(Math.ceil(this.options.retryAfterMs / 1000))]] : row.status >= 300 ? [['P-Registrar-Error', row.text]] : [],
      });
    }
    const response = removeTopVia(action.response);
    if (action.status !== action.response.status) response.setStatus(action.status, 'Server Internal Error');
    if (action.challengeSources.length > 1) {
      for (const name of ['WWW-Authenticate', 'Proxy-Authenticate']) {
        response.setHeader(name, action.challengeSources.flatMap((source) => source.headerValues(name)));
      }
    }
    return response;
  }

  private respondWith(server: Transaction<SipMessage, BranchTarget>, local: LocalResponse): void {
    this.options.transactions.respond(server, createResponse(server.request, local.status, local.reason, { toTag: local.toTag, headers: local.headers }));
  }

  private respondLocal(server: Transaction<SipMessage, BranchTarget>, status: number, text: string): void {
    const headers: [string, string][] = [['P-Registrar-Error', text]];
    if (status >= 500) headers.push(['Retry-After', String(Math.ceil(this.options.retryAfterMs / 1000))]);
    this.options.transactions.respond(server, createResponse(server.request, status, text, { toTag: this.options.newToTag(), headers }));
  }

  /** RFC 3261 §16.6 step 8: the part of our branch that detects loops, from the fields that route the request. */
  private loopHash(request: SipMessage): string {
    const hash = createHash('sha1');
    hash.update(`${request.requestUri}|${request.fromTag() ?? ''}|${request.toTag() ?? ''}|${request.callId()}|${request.cseq().seq}|${request.headerValues('Route').join(',')}`);
    return hash.digest('hex').slice(0, 16);
  }

  private isLoop(request: SipMessage): boolean {
    const hash = this.loopHash(request);
    return request.vias().some((via) => this.isOurVia(via.host, via.port) && (via.branch ?? '').startsWith(`${MAGIC_COOKIE}${hash}.`));
  }

  private isOurVia(host: string, port: number | undefined): boolean {
    return host.toLowerCase() === this.advertised.host.toLowerCase() && (port ?? 5060) === (this.advertised.port ?? 5060);
  }

  private isOurUri(uri: SipUri): boolean {
    return this.isOurVia(uri.host, uri.port);
  }

  private toContractFlow(flow: Flow): ContractFlow {
    return { ...flow, gatewayId: this.options.gatewayId };
  }
}

function tryParseRouteUri(value: string): SipUri | undefined {
  try {
    return parseNameAddr(value, 'Route').uri;
  } catch {
    return undefined;
  }
}

function sameRemote(a: Flow, b: Flow): boolean {
  return a.transport === b.transport && a.remoteAddress === b.remoteAddress && a.remotePort === b.remotePort;
}

/** Status and text of a response the fork generates itself (ERR-6 where a row exists). */
function localRow(status: number): { status: number; text: string } {
  switch (status) {
    case 408:
      return { status, text: 'Request Timeout' };
    case 480:
      return REGISTRAR_ERRORS.flowUnavailable;
    case 487:
      return { status, text: 'Request Terminated' };
    case 500:
      return REGISTRAR_ERRORS.internalError;
    default:
      return { status: 503, text: REGISTRAR_ERRORS.serviceUnavailable.text };
  }
}

/**
 * The REGISTER-storm benchmark (`npm run bench`, issue 4): SIPp devices on loopback refresh their
 * registrations through `npm start` (dist/main.js, mode 1, contact insertion) in front of Kamailio,
 * at stepped fixed rates; prints sustained absorbed REGISTER/s, response times, absorbed fraction,
 * upstream REGISTERs counted by Kamailio, the gateway's CPU per REGISTER and peak RSS, and the cost
 * per REGISTER (DESIGN §8). Bounded in count and time; cleans up its processes and temp dirs.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { allocatePort } from '../../test/support/ports';
import { startProcess, stopAllProcesses, type ManagedProcess } from '../../test/support/process';
import { measureRegisterCost, type CostProbeResult } from './cost-probe';
import { summarizeCpuProfile, type ProfileSummary, type ProfileWindow } from './cpu-profile-summary';
import { startKamailioUpstream, type KamailioUpstream } from './kamailio-upstream';
import { startLoopProbe } from './loop-probe';
import { readProcessUsage, startUdpDropSampler } from './process-usage';
import { percentile, runSippLoad, type SippLoadResult } from './sipp-load';
import { makeDevices, sourceAddresses, writeInjectionFile, type StormDevice } from './storm-csv';

const ROOT = join(__dirname, '..', '..');
const MAIN = join(ROOT, 'dist', 'main.js');
const DOC = join(ROOT, 'docs', 'benchmarks.md');
const DOMAIN = 'example.com';
const GATEWAY_HOST = '127.0.0.2';
const KAMAILIO_HOST = '127.0.0.3';
/** Device Expires: well inside outgoingExpires 3600 − refreshMargin, so every refresh is absorbable (M1-1). */
const DEVICE_EXPIRES_SEC = 300;
/** Source addresses: at 6,000/s each sends ~190/s, under the gateway's 500/s per-source flood limit. */
const SOURCE_ADDRESS_COUNT = 32;
/**
 * How often the step polls the gateway's /health for event-loop stalls. Each probe is HTTP work in the gateway's
 * process, counted in its CPU: at 20 probes/s it was ~2 µs per REGISTER in the CPU profile (HTTP parsing and the
 * status JSON), load no REGISTER causes (a load balancer probes every 10–30 s). 4/s still samples a 15 s step 60 times.
 */
const HEALTH_PROBE_INTERVAL_MS = 250;

/** Issue 4 targets on the 2-core machine. */
export const TARGETS = { absorbedPerSec: 4000, p99Ms: 10, cpuUsPerRegister: 80 } as const;

/** Benchmark settings; `--quick` is a ~30 s smoke run. */
export interface StormSettings {
  quick: boolean;
  /** Run the gateway under `node --cpu-prof` and summarize its hot path. */
  profile: boolean;
  /** Write the results into docs/benchmarks.md. */
  record: boolean;
  ratesPerSec: number[];
  stepDurationSec: number;
  preRegisterRatePerSec: number;
  /** Distinct AoRs, each registered once before the storm. */
  devices: number;
  probeDevices: number;
  /** Extra Node.js/V8 flags for the gateway process (`--gateway-node-arg`, repeatable), e.g. `--trace-gc`. */
  gatewayNodeArgs: string[];
}

/** One rate step's measurements. */
export interface StepResult {
  targetPerSec: number;
  sipp: SippLoadResult;
  achievedPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  upstreamRegisters: number;
  absorbedFraction: number;
  cpuSec: number;
  cpuUsPerRegister: number;
  peakRssBytes: number;
  /** Zero failures, zero retransmissions, at least 97% of the target rate achieved. */
  clean: boolean;
  /** Datagrams dropped on full receive buffers during the step: at the gateway's socket, at SIPp's. */
  udpDrops: { gateway: number; sipp: number };
  /** Answer times of the gateway's /health polled every {@link HEALTH_PROBE_INTERVAL_MS} during the step (event-loop stalls), ms, ascending. */
  healthMs: number[];
  /** When the step ran, on the monotonic clock (for the CPU profile). */
  window: ProfileWindow;
}

/**
 * Parses the command line (`--quick`, `--profile`, `--no-record`, `--rates a,b`, `--duration s`, `--pre-rate r`, `--devices n`,
 * `--gateway-node-arg FLAG` repeatable).
 */
export function parseStormArgs(argv: readonly string[]): StormSettings {
  const quick = argv.includes('--quick');
  const value = (flag: string): string | undefined => {
    const index = argv.indexOf(flag);
    return index >= 0 ? argv[index + 1] : undefined;
  };
  const rates = value('--rates')?.split(',').map((rate) => Number.parseInt(rate, 10));
  const duration = value('--duration') !== undefined ? Number.parseInt(value('--duration')!, 10) : undefined;
  const settings: StormSettings = {
    quick,
    profile: argv.includes('--profile'),
    record: !quick && !argv.includes('--no-record') && !argv.includes('--profile'),
    ratesPerSec: rates ?? (quick ? [2000] : [1000, 2000, 3000, 4000]),
    stepDurationSec: duration ?? (quick ? 8 : 15),
    preRegisterRatePerSec: value('--pre-rate') !== undefined ? Number.parseInt(value('--pre-rate')!, 10) : 500,
    devices: value('--devices') !== undefined ? Number.parseInt(value('--devices')!, 10) : quick ? 4000 : 10_000,
    probeDevices: quick ? 200 : 1000,
    gatewayNodeArgs: argv.flatMap((arg, index) => (arg === '--gateway-node-arg' && index + 1 < argv.length ? [argv[index + 1]] : [])),
  };
  if (settings.ratesPerSec.some((rate) => !Number.isInteger(rate) || rate < 1 || rate > 20_000)) throw new RangeError('--rates: integers 1..20000');
  if (!Number.isInteger(settings.devices) || settings.devices < 100 || settings.devices > 100_000) throw new RangeError('--devices: 100..100000');
  if (!Number.isInteger(settings.stepDurationSec) || settings.stepDurationSec < 1 || settings.stepDurationSec > 60) throw new RangeError('--duration: 1..60 s');
  return settings;
}

const fmt = (value: number, digits = 0): string => value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const mib = (bytes: number): string => `${fmt(bytes / 2 ** 20, 1)} MiB`;
/** SIPp records response times in whole milliseconds, truncated: 0 means under 1 ms. */
const ms = (value: number): string => (value < 1 ? '<1' : fmt(value));

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

interface Ports {
  kamailio: number;
  gateway: number;
  health: number;
  probe: number;
  sipp: { local: number; control: number; media: number };
}

async function allocateAll(): Promise<Ports> {
  return {
    kamailio: await allocatePort(KAMAILIO_HOST),
    gateway: await allocatePort(GATEWAY_HOST),
    health: await allocatePort(GATEWAY_HOST),
    probe: await allocatePort(GATEWAY_HOST),
    sipp: { local: await allocatePort('127.0.1.1'), control: await allocatePort(), media: await allocatePort() },
  };
}

async function startGateway(workDir: string, ports: Ports, kamailio: KamailioUpstream, profileDir: string | undefined, extraNodeArgs: string[]): Promise<ManagedProcess> {
  const configFile = join(workDir, 'mid.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      mode: 1,
      insertion: 'contact',
      upstreamUri: `sip:${kamailio.address}`,
      outgoingExpires: 3600,
      listen: [`udp:${GATEWAY_HOST}:${ports.gateway}`],
      healthPort: ports.health,
      dataDir: join(workDir, 'data'),
    }),
  );
  const nodeArgs = [...extraNodeArgs, ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : [])];
  const gateway = startProcess({ command: process.execPath, args: [...nodeArgs, MAIN, '--config', configFile], cwd: workDir, label: 'gateway' });
  await gateway.waitForOutput(/mid-registrar mode=/, 15_000);
  return gateway;
}

async function registerRun(
  workDir: string,
  ports: Ports,
  devices: readonly StormDevice[],
  calls: number,
  cseq: number,
  ratePerSec: number,
  remote: string,
): Promise<SippLoadResult> {
  const file = join(workDir, `storm-${cseq}.csv`);
  writeInjectionFile(file, devices, calls, cseq);
  try {
    return await runSippLoad({
      remote,
      injectionFile: file,
      localPort: ports.sipp.local,
      controlPort: ports.sipp.control,
      mediaPort: ports.sipp.media,
      calls,
      ratePerSec,
      domain: DOMAIN,
      expiresSec: DEVICE_EXPIRES_SEC,
      timeoutMs: Math.ceil((calls / ratePerSec) * 1000) + 15_000,
    });
  } finally {
    rmSync(file, { force: true });
  }
}

/** One step's SIPp runs added up: counters summed, response times merged, spans summed. */
function mergeLoads(runs: readonly SippLoadResult[]): SippLoadResult {
  const sum = (pick: (run: SippLoadResult) => number): number => runs.reduce((total, run) => total + pick(run), 0);
  return {
    exitCode: runs.find((run) => run.exitCode !== 0)?.exitCode ?? 0,
    successfulCalls: sum((run) => run.successfulCalls),
    failedCalls: sum((run) => run.failedCalls),
    retransmissions: sum((run) => run.retransmissions),
    timeouts: sum((run) => run.timeouts),
    unexpectedMessages: sum((run) => run.unexpectedMessages),
    responseTimesMs: runs.flatMap((run) => run.responseTimesMs).sort((a, b) => a - b),
    spanMs: sum((run) => run.spanMs),
    output: (runs.find((run) => run.failedCalls > 0) ?? runs[runs.length - 1])?.output ?? '',
  };
}

/**
 * One rate step: `rate × duration` REGISTERs as back-to-back SIPp runs, each visiting every device
 * once with the next CSeq (SIPp matches responses by Call-ID, so one run cannot visit a device twice).
 */
async function runStep(
  settings: StormSettings,
  workDir: string,
  ports: Ports,
  devices: readonly StormDevice[],
  gateway: ManagedProcess,
  kamailio: KamailioUpstream,
  ratePerSec: number,
  nextCseq: () => number,
): Promise<StepResult> {
  const calls = ratePerSec * settings.stepDurationSec;
  const pid = gateway.pid!;
  const upstreamBefore = await kamailio.registersReceived();
  const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);
  const gatewaySocket = (ip: string, port: number): boolean => ip === GATEWAY_HOST && port === ports.gateway;
  const sippSockets = (ip: string, port: number): boolean => ip.startsWith('127.0.1.') && port === ports.sipp.local;
  const dropSamplers = { gateway: startUdpDropSampler(gatewaySocket, 100), sipp: startUdpDropSampler(sippSockets, 100) };
  const before = readProcessUsage(pid);
  const fromUs = monotonicUs();
  const loopProbe = startLoopProbe(GATEWAY_HOST, ports.health, HEALTH_PROBE_INTERVAL_MS);
  const runs: SippLoadResult[] = [];
  for (let sent = 0; sent < calls; sent += devices.length) {
    const run = await registerRun(workDir, ports, devices, Math.min(devices.length, calls - sent), nextCseq(), ratePerSec, `${GATEWAY_HOST}:${ports.gateway}`);
    runs.push(run);
    if (run.failedCalls > 0) break;
  }
  const toUs = monotonicUs();
  const after = readProcessUsage(pid);
  const healthMs = await loopProbe.stop();
  const udpDrops = { gateway: dropSamplers.gateway.stop(), sipp: dropSamplers.sipp.stop() };
  const sipp = mergeLoads(runs);
  const upstreamRegisters = (await kamailio.registersReceived()) - upstreamBefore;
  const answered = sipp.successfulCalls;
  const cpuSec = after.cpuSec - before.cpuSec;
  const achievedPerSec = sipp.spanMs > 0 ? (answered - runs.length) / (sipp.spanMs / 1000) : 0;
  return {
    targetPerSec: ratePerSec,
    sipp,
    achievedPerSec,
    p50Ms: percentile(sipp.responseTimesMs, 0.5),
    p99Ms: percentile(sipp.responseTimesMs, 0.99),
    maxMs: sipp.responseTimesMs[sipp.responseTimesMs.length - 1] ?? 0,
    upstreamRegisters,
    // Kamailio counts every REGISTER it receives, the gateway's retransmissions included.
    absorbedFraction: answered > 0 ? Math.max(0, answered - upstreamRegisters) / answered : 0,
    cpuSec,
    cpuUsPerRegister: answered > 0 ? (cpuSec / answered) * 1e6 : 0,
    peakRssBytes: after.peakRssBytes,
    clean: sipp.failedCalls === 0 && sipp.retransmissions === 0 && answered === calls && achievedPerSec >= 0.97 * ratePerSec,
    healthMs,
    udpDrops,
    window: { fromUs, toUs },
  };
}

function stepTable(steps: readonly StepResult[]): string[] {
  const rows = [
    '| target REGISTER/s | achieved/s (while sending) | answered 200 | failed | retrans | p50 ms (SIPp, 1 ms steps) | p99 ms | max ms | absorbed | upstream REGISTERs (Kamailio) | gateway CPU s / 1,000 | µs / REGISTER | peak RSS | /health p99 / max ms | UDP drops gateway / SIPp | clean |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|',
  ];
  for (const step of steps) {
    rows.push(
      `| ${fmt(step.targetPerSec)} | ${fmt(step.achievedPerSec)} | ${fmt(step.sipp.successfulCalls)} | ${fmt(step.sipp.failedCalls)} | ${fmt(step.sipp.retransmissions)} | ` +
        `${ms(step.p50Ms)} | ${ms(step.p99Ms)} | ${ms(step.maxMs)} | ${fmt(step.absorbedFraction * 100, 2)}% | ${fmt(step.upstreamRegisters)} | ` +
        `${fmt(step.cpuUsPerRegister / 1000, 3)} | ${fmt(step.cpuUsPerRegister, 1)} | ${mib(step.peakRssBytes)} | ` +
        `${fmt(percentile(step.healthMs, 0.99), 1)} / ${fmt(step.healthMs[step.healthMs.length - 1] ?? 0, 1)} | ${fmt(step.udpDrops.gateway)} / ${fmt(step.udpDrops.sipp)} | ${step.clean ? 'yes' : 'no'} |`,
    );
  }
  return rows;
}

function costTable(cost: CostProbeResult): string[] {
  const row = (label: string, c: CostProbeResult['relayed']): string =>
    `| ${label} | ${fmt(c.registers)} | ${fmt(c.decisionsPerRegister, 2)} | ${fmt(c.registerRepliesPerRegister, 2)} | ${fmt(c.storeReadsPerRegister, 2)} | ${fmt(c.storeWritesPerRegister, 2)} | ` +
    `${fmt(c.decisionBytesPerRegister)} | ${fmt(c.journalBytesPerRegister)} | ${fmt(c.upstreamPerRegister, 2)} | ${fmt(c.absorbedShare * 100, 1)}% |`;
  return [
    '| REGISTER kind | REGISTERs | decision calls / REG | of which register-reply | store reads / REG | store writes / REG | decision payload bytes / REG | journal bytes / REG | upstream REGISTERs / REG | gateway absorbed |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    row('first (relayed)', cost.relayed),
    row('refresh (absorbed)', cost.absorbed),
    '',
    `Stored AoR record with one binding: ${fmt(cost.recordBytes)} bytes of JSON (DynamoDB: ${Math.ceil(cost.recordBytes / 1024)} write unit(s) per put, ` +
      `${Math.ceil(cost.recordBytes / 4096)} strongly consistent read unit(s) per get).`,
  ];
}

function profileTable(summary: ProfileSummary, top: number, step: StepResult): string[] {
  const rows = [
    `Samples of the ${fmt(step.targetPerSec)}/s step only: ${fmt(summary.totalMs / 1000, 1)} s of wall time, of which ${fmt(summary.busyMs / 1000, 1)} s busy on the main thread; shares are of busy time.`,
    '',
    '| self % | self ms | function | source |',
    '|---:|---:|---|---|',
  ];
  for (const spot of summary.functions.slice(0, top)) {
    rows.push(`| ${fmt(spot.selfShare * 100, 1)} | ${fmt(spot.selfMs)} | \`${spot.functionName}\` | ${spot.location || '(V8)'} |`);
  }
  rows.push('', '| self % | file |', '|---:|---|');
  for (const file of summary.files.slice(0, 15)) rows.push(`| ${fmt(file.selfShare * 100, 1)} | ${file.file} |`);
  return rows;
}

function verdict(steps: readonly StepResult[]): { sustained: StepResult | undefined; lines: string[] } {
  const clean = steps.filter((step) => step.clean);
  const sustained = clean[clean.length - 1];
  const met = (ok: boolean): string => (ok ? 'met' : 'NOT met');
  const lines = sustained
    ? [
        `Sustained: ${fmt(sustained.achievedPerSec)} REGISTER/s with zero failures and zero retransmissions ` +
          `(step ${fmt(sustained.targetPerSec)}/s, ${fmt(sustained.absorbedFraction * 100, 2)}% absorbed), p50 ${ms(sustained.p50Ms)} ms, p99 ${ms(sustained.p99Ms)} ms.`,
        `Targets: ≥ ${fmt(TARGETS.absorbedPerSec)} absorbed REGISTER/s ${met(sustained.achievedPerSec * sustained.absorbedFraction >= TARGETS.absorbedPerSec * 0.97)}; ` +
          `p99 ≤ ${TARGETS.p99Ms} ms ${met(sustained.p99Ms <= TARGETS.p99Ms)}; ` +
          `CPU ≤ ${TARGETS.cpuUsPerRegister} µs per absorbed REGISTER ${met(sustained.cpuUsPerRegister <= TARGETS.cpuUsPerRegister)} (${fmt(sustained.cpuUsPerRegister, 1)} µs).`,
      ]
    : ['Sustained: no step ran clean (every step had failures, retransmissions or fell short of its rate).', 'Targets: NOT met.'];
  const noFailures = steps.filter((step) => step.sipp.failedCalls === 0 && step.achievedPerSec >= 0.97 * step.targetPerSec);
  const best = noFailures[noFailures.length - 1];
  if (best && best !== sustained) {
    lines.push(
      `Highest step without failures: ${fmt(best.achievedPerSec)} REGISTER/s, ${fmt(best.sipp.retransmissions)} retransmissions ` +
        `(${fmt(best.udpDrops.gateway)} requests dropped on the gateway's full receive buffer), p99 ${ms(best.p99Ms)} ms, ${fmt(best.cpuUsPerRegister, 1)} µs CPU per REGISTER.`,
    );
  }
  return { sustained, lines };
}

function machineLine(load1: number): string {
  const cpu = cpus();
  return (
    `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${fmt(totalmem() / 2 ** 30, 0)} GiB RAM, Node.js ${process.version}, SIPp and Kamailio 5.6 on the same machine; ` +
    `load average ${fmt(load1, 2)} when the run started (other work on the machine competes for the same 2 cores)`
  );
}

function recordDoc(report: string[]): void {
  const start = '<!-- register-storm:results:start -->';
  const end = '<!-- register-storm:results:end -->';
  const block = `${start}\n${report.join('\n')}\n${end}`;
  const current = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '';
  const from = current.indexOf(start);
  const to = current.indexOf(end);
  const next = from >= 0 && to > from ? `${current.slice(0, from)}${block}${current.slice(to + end.length)}` : `${current}\n${block}\n`;
  writeFileSync(DOC, next);
}

/** Runs the benchmark; resolves with the process exit code (0 when every step ran, 1 on a setup failure). */
export async function runRegisterStorm(argv: readonly string[]): Promise<number> {
  const settings = parseStormArgs(argv);
  const startLoad = loadavg()[0] ?? 0;
  const workDir = mkdtempSync(join(tmpdir(), 'register-storm-'));
  const profileDir = settings.profile ? join(workDir, 'profile') : undefined;
  let kamailio: KamailioUpstream | undefined;
  try {
    const ports = await allocateAll();
    const devices = makeDevices(settings.devices, sourceAddresses(SOURCE_ADDRESS_COUNT), 'storm');
    log(`register-storm: ${fmt(devices.length)} devices on ${SOURCE_ADDRESS_COUNT} loopback sources, steps ${settings.ratesPerSec.join(', ')}/s × ${settings.stepDurationSec} s${settings.profile ? ', gateway under --cpu-prof' : ''}`);
    kamailio = await startKamailioUpstream({ host: KAMAILIO_HOST, port: ports.kamailio, domain: DOMAIN, trustedSources: [GATEWAY_HOST], sharedMemoryMb: 512 });
    const gateway = await startGateway(workDir, ports, kamailio, profileDir, settings.gatewayNodeArgs);
    log(`gateway pid ${gateway.pid} on udp:${GATEWAY_HOST}:${ports.gateway}, Kamailio pid ${kamailio.pid} on ${kamailio.address}`);

    // Prepare: every device registers once (relayed: the first REGISTER of a contact goes upstream).
    const preStartedMs = Date.now();
    const upstreamBeforePre = await kamailio.registersReceived();
    const pre = await registerRun(workDir, ports, devices, devices.length, 1, settings.preRegisterRatePerSec, `${GATEWAY_HOST}:${ports.gateway}`);
    const preUpstream = (await kamailio.registersReceived()) - upstreamBeforePre;
    log(
      `pre-registration: ${fmt(pre.successfulCalls)}/${fmt(devices.length)} registered in ${fmt((Date.now() - preStartedMs) / 1000, 1)} s at ${fmt(settings.preRegisterRatePerSec)}/s ` +
        `(failed ${pre.failedCalls}, retrans ${pre.retransmissions}, p99 ${ms(percentile(pre.responseTimesMs, 0.99))} ms, upstream REGISTERs ${fmt(preUpstream)})`,
    );
    if (pre.successfulCalls === 0) throw new Error(`pre-registration failed:\n${pre.output}\n${gateway.tail()}`);

    // Act: the storm, one step per rate.
    const steps: StepResult[] = [];
    let cseq = 1;
    for (const rate of settings.ratesPerSec) {
      const step = await runStep(settings, workDir, ports, devices, gateway, kamailio, rate, () => (cseq += 1));
      steps.push(step);
      log(
        `step ${fmt(rate)}/s: achieved ${fmt(step.achievedPerSec)}/s, failed ${step.sipp.failedCalls}, retrans ${step.sipp.retransmissions}, ` +
          `p50 ${ms(step.p50Ms)} ms, p99 ${ms(step.p99Ms)} ms, absorbed ${fmt(step.absorbedFraction * 100, 2)}%, ${fmt(step.cpuUsPerRegister, 1)} µs CPU/REGISTER, ` +
            `/health max ${fmt(step.healthMs[step.healthMs.length - 1] ?? 0, 1)} ms, UDP drops gateway ${step.udpDrops.gateway} SIPp ${step.udpDrops.sipp}`,
      );
      // Retransmissions alone do not end the ramp (the next step shows how they grow); failures or a missed rate do.
      if (step.sipp.failedCalls > 0 || step.achievedPerSec < 0.97 * rate) {
        log(step.sipp.output.slice(-1500));
        break;
      }
    }
    const gatewayExit = await gateway.stop(15_000);
    if (gatewayExit.code !== 0) log(`gateway exited ${JSON.stringify(gatewayExit)}:\n${gateway.tail(1500)}`);
    if (settings.gatewayNodeArgs.length > 0) {
      // What the extra flags print (e.g. --trace-gc) outlives the run's temp directory.
      const outputFile = join(tmpdir(), `register-storm-gateway-${gateway.pid}.log`);
      writeFileSync(outputFile, gateway.stdout);
      log(`gateway stdout (node ${settings.gatewayNodeArgs.join(' ')}): ${outputFile}`);
    }
    const profileFile = profileDir && existsSync(profileDir) ? readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile')) : undefined;
    const lastStep = steps[steps.length - 1];
    const profile = profileDir && profileFile && lastStep ? summarizeCpuProfile(join(profileDir, profileFile), ROOT, lastStep.window) : undefined;

    // Cost per REGISTER, counted in-process (npm start exposes no decision or store counters).
    const upstream = kamailio;
    const cost = await measureRegisterCost({
      host: GATEWAY_HOST,
      port: ports.probe,
      upstreamUri: `sip:${kamailio.address}`,
      devices: makeDevices(settings.probeDevices, sourceAddresses(SOURCE_ADDRESS_COUNT), 'probe'),
      upstreamRegisters: () => upstream.registersReceived(),
      domain: DOMAIN,
      expiresSec: DEVICE_EXPIRES_SEC,
      sippPorts: ports.sipp,
      ratePerSec: 500,
    });

    // Assess
    const { lines: verdictLines } = verdict(steps);
    const report = [
      `### REGISTER storm — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
      '',
      `Machine: ${machineLine(startLoad)}.`,
      `Command: \`npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}\` (gateway \`node dist/main.js\`, mode 1, contact insertion, outgoingExpires 3600; ` +
        `${fmt(devices.length)} devices, Expires ${DEVICE_EXPIRES_SEC}, ${SOURCE_ADDRESS_COUNT} source addresses; ${settings.stepDurationSec} s per step as back-to-back SIPp runs that each refresh every device once).`,
      `Pre-registration: ${fmt(pre.successfulCalls)} devices at ${fmt(settings.preRegisterRatePerSec)}/s, ${pre.failedCalls} failed, ${pre.retransmissions} retransmissions, ` +
        `p99 ${ms(percentile(pre.responseTimesMs, 0.99))} ms, ${fmt(preUpstream)} REGISTERs reached Kamailio.`,
      '',
      ...verdictLines,
      '',
      ...stepTable(steps),
      '',
      'Cost per REGISTER (in-process probe with the same composition as `npm start`, counters on the decision services and the store):',
      '',
      ...costTable(cost),
      ...(profile && lastStep ? ['', 'Gateway CPU profile (`node --cpu-prof`), top self time:', '', ...profileTable(profile, 25, lastStep)] : []),
    ];
    log('');
    log(report.join('\n'));
    if (settings.record) {
      recordDoc(report);
      log(`\nresults written to ${DOC}`);
    }
    return 0;
  } catch (error) {
    process.stderr.write(`register-storm failed: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  } finally {
    await kamailio?.stop();
    await stopAllProcesses();
    rmSync(workDir, { recursive: true, force: true });
  }
}

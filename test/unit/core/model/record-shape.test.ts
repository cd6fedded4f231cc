/**
 * The AoR record's shape is declared once, in functions/core/model.ts: what the timed-work core stores
 * on the record (refresh work, DRG-10 overlaps, DRG-7 shadows, De-REGISTER attempt state) must be part
 * of `AorRecord` itself, not only of a timed-work view of it that survives because the store persists
 * the record as opaque JSON. Types are checked by the TypeScript compiler, so this test compiles small
 * programs against the real modules and reads the diagnostics.
 */
import path from 'node:path';
import ts from 'typescript';

const CORE = path.resolve(__dirname, '../../../../functions/core');
const PROBE = path.join(__dirname, 'record-shape-probe.ts');
/** The last program: its unchanged files (lib, model, timed-work) are reused by the next one. */
let previous: ts.Program | undefined;

/** Type-checks `source` as if it were a file next to this test; returns the error messages. */
function typeErrors(source: string): string[] {
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.Node16,
    moduleResolution: ts.ModuleResolutionKind.Node16,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, ...rest) =>
    path.resolve(fileName) === PROBE ? ts.createSourceFile(fileName, source, languageVersion) : getSourceFile(fileName, languageVersion, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (fileName) => path.resolve(fileName) === PROBE || fileExists(fileName);
  const program = ts.createProgram([PROBE], options, host, previous);
  previous = program;
  return ts
    .getPreEmitDiagnostics(program, program.getSourceFile(PROBE))
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

const IMPORTS = `
import type { AorRecord, DeregisterWork, UpstreamRegistration } from '${CORE}/model';
import type { DeregisterWorkState, RefreshWork, TimedWorkRecord } from '${CORE}/timed-work/timed-work-types';
declare const upstream: UpstreamRegistration;
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
`;

describe('AorRecord shape (model.ts)', () => {
  it('DRG-6/DRG-7/DRG-9/DRG-10: a record with every timed-work field is an AorRecord, no cast needed', () => {
    // Prepare
    const source = `${IMPORTS}
      const deregister: DeregisterWork = {
        workId: 'drg:11', cause: 'expired', upstream, dueAtMs: 60_000, attempts: 1, nextAttemptAtMs: 62_000, contactId: '11',
        lastCseq: 8, lastFailure: '503',
        inFlight: { attemptId: 'a1', sentAtMs: 60_000, claimUntilMs: 75_000, cseq: 8, answeredChallenge: false },
        pendingChallenge: { status: 401, challenge: 'Digest realm="x", nonce="n"' },
      };
      const refresh: RefreshWork = {
        workId: 'refresh:11', target: { contactId: '11' }, forLapsesAtMs: 3_600_000, forced: false, attempts: 0, nextAttemptAtMs: 3_568_000, lastCseq: 0,
      };
      export const record: AorRecord = {
        aor: 'alice@example.com', bindings: [], pendingRelays: [], deregisterWork: [deregister], relayCount: 2,
        refreshWork: [refresh],
        pathOverlaps: [{ contactUri: 'sip:alice@192.0.2.7:5062', fromMs: 60_000, untilMs: 75_000 }],
        upstreamShadows: [{ workId: 'orphan:r1:0', upstream, contactId: '11' }],
      };
    `;

    // Act
    const errors = typeErrors(source);

    // Assess
    expect(errors).toEqual([]);
  });

  it('the timed-work names are the model types themselves, not second declarations', () => {
    // Prepare
    const source = `${IMPORTS}
      export const sameRecord: Same<TimedWorkRecord, AorRecord> = true;
      export const sameWork: Same<DeregisterWorkState, DeregisterWork> = true;
    `;

    // Act
    const errors = typeErrors(source);

    // Assess
    expect(errors).toEqual([]);
  });

  it('the check is real: a field the model does not declare is rejected', () => {
    // Prepare
    const source = `${IMPORTS}
      export const record: AorRecord = { aor: 'alice@example.com', bindings: [], pendingRelays: [], deregisterWork: [], sweepNotes: [] };
    `;

    // Act
    const errors = typeErrors(source);

    // Assess
    expect(errors).toEqual([expect.stringContaining("'sweepNotes' does not exist in type 'AorRecord'")]);
  });
});

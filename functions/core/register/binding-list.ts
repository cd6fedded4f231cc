/**
 * The binding list a UA gets in a 200 OK (SPEC REG-10, RPL-7, GEN-4) and the Path echo (PTH-5).
 */
import type { MidRegistrarConfig } from '../config';
import type { HeaderField } from '../contract';
import { type AorRecord, type Binding, bindingLapsesAtMs, listedExpiresSec, validBindings } from '../model';

/** REG-10: oldest first. */
function byCreation(a: Binding, b: Binding): number {
  return a.createdAtMs - b.createdAtMs;
}

/**
 * REG-10: one Contact field listing every valid binding of the AoR, oldest first, as
 * `<original URI>[;q=q];expires=<GEN-4>`; no field when there is none. The array is fresh: callers may
 * append to it.
 */
export function bindingListHeaders(record: AorRecord, nowMs: number): HeaderField[] {
  const valid = validBindings(record, nowMs);
  if (valid.length === 0) return [];
  valid.sort(byCreation);
  // One string built in place (no per-binding array): a 200 OK usually lists a single binding.
  let list = '';
  for (let i = 0; i < valid.length; i++) {
    const b = valid[i];
    const lapsesAtMs = bindingLapsesAtMs(b, record) as number;
    if (i > 0) list += ', ';
    list += `<${b.contactUri}>${b.q === undefined ? '' : `;q=${b.q}`};expires=${listedExpiresSec(b.expiresAtMs, lapsesAtMs, nowMs)}`;
  }
  return [['Contact', list]];
}

/**
 * PTH-5: whether the 200 OK for this REGISTER returns its Path: never with `pathMode` `off`; otherwise
 * when the REGISTER had Path and `Supported: path` (`strict` refused Path without it already).
 */
export function shouldEchoPath(config: MidRegistrarConfig, path: readonly string[], supportsPath: boolean): boolean {
  return config.pathMode !== 'off' && supportsPath && path.length > 0;
}

/** The Path field of a 200 OK (PTH-5), when echoed. */
export function pathEchoHeaders(echo: boolean, path: readonly string[]): HeaderField[] {
  return echo ? [pathEchoField(path)] : [];
}

/** PTH-5: the echoed Path field. */
export function pathEchoField(path: readonly string[]): HeaderField {
  return ['Path', path.join(', ')];
}

/**
 * The binding list a UA gets in a 200 OK (SPEC REG-10, RPL-7, GEN-4) and the Path echo (PTH-5).
 */
import type { MidRegistrarConfig } from '../config';
import type { HeaderField } from '../contract';
import { type AorRecord, bindingLapsesAtMs, listedExpiresSec, validBindings } from '../model';

/**
 * REG-10: one Contact field listing every valid binding of the AoR, oldest first, as
 * `<original URI>[;q=q];expires=<GEN-4>`; no field when there is none.
 */
export function bindingListHeaders(record: AorRecord, nowMs: number): HeaderField[] {
  const valid = validBindings(record, nowMs).sort((a, b) => a.createdAtMs - b.createdAtMs);
  if (valid.length === 0) return [];
  const list = valid.map((b) => {
    const lapsesAtMs = bindingLapsesAtMs(b, record) as number;
    const q = b.q === undefined ? '' : `;q=${b.q}`;
    return `<${b.contactUri}>${q};expires=${listedExpiresSec(b.expiresAtMs, lapsesAtMs, nowMs)}`;
  });
  return [['Contact', list.join(', ')]];
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
  return echo ? [['Path', path.join(', ')]] : [];
}

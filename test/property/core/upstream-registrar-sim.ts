/**
 * A simulated upstream (main) registrar for the model-based tests: one AoR's location table with
 * RFC 3261 §10.3 semantics (CSeq ordering per Call-ID, expires=0 removal, `*` removal, grants capped).
 */
import { parseUri, urisEqual, type SipUri } from '../../../sip-gateway/src/sip/uri';
import { splitNameAddr } from '../../../sip-gateway/src/sip/name-addr';
import { findParam } from '../../../sip-gateway/src/sip/header-params';

/** One contact upstream holds. */
export interface UpstreamEntry {
  uriText: string;
  uri: SipUri;
  expiresAtMs: number;
  callId: string;
  cseq: number;
  /** When it was first registered (for INV-2 of registrations never covered locally). */
  createdAtMs: number;
}

/** A contact of a REGISTER as upstream reads it. */
export interface RegisteredContact {
  uriText: string;
  expiresSec: number;
}

/** Reads `Contact` header values (`[name] <uri>;params;expires=E`). */
export function contactsOfHeaders(values: readonly string[]): RegisteredContact[] {
  return values.map((value) => {
    const parts = splitNameAddr(value, 'Contact');
    const expires = findParam(parts.params, 'expires');
    return { uriText: parts.uriText, expiresSec: typeof expires === 'string' ? Number(expires) : 0 };
  });
}

/** The outcome of one REGISTER at upstream. */
export type UpstreamResult = { status: 200; contacts: string[] } | { status: 500 };

export class UpstreamRegistrarSim {
  readonly entries: UpstreamEntry[] = [];

  /** @param maxGrantSec the longest expiry upstream grants (it may shorten, never lengthen: §10.3 step 7). */
  constructor(private readonly maxGrantSec: number) {}

  /** The valid entry for a URI at `nowMs`. */
  find(uriText: string, nowMs: number): UpstreamEntry | undefined {
    const uri = parseUri(uriText);
    return this.entries.find((entry) => nowMs < entry.expiresAtMs && urisEqual(entry.uri, uri));
  }

  /** Valid entries at `nowMs`. */
  valid(nowMs: number): UpstreamEntry[] {
    return this.entries.filter((entry) => nowMs < entry.expiresAtMs);
  }

  /** RFC 3261 §10.3 steps 6–8 for one REGISTER processed at `nowMs`. */
  register(contacts: readonly RegisteredContact[] | 'star', callId: string, cseq: number, nowMs: number): UpstreamResult {
    this.purge(nowMs);
    if (contacts === 'star') {
      this.entries.length = 0;
      return { status: 200, contacts: [] };
    }
    for (const contact of contacts) {
      const uri = parseUri(contact.uriText);
      const existing = this.entries.find((entry) => urisEqual(entry.uri, uri));
      // §10.3 step 7: same Call-ID with a CSeq not above the stored one is out of order.
      if (existing !== undefined && existing.callId === callId && cseq <= existing.cseq) return { status: 500 };
    }
    for (const contact of contacts) {
      const uri = parseUri(contact.uriText);
      const index = this.entries.findIndex((entry) => urisEqual(entry.uri, uri));
      if (contact.expiresSec === 0) {
        if (index >= 0) this.entries.splice(index, 1);
        continue;
      }
      const grantSec = Math.min(contact.expiresSec, this.maxGrantSec);
      const entry: UpstreamEntry = {
        uriText: contact.uriText,
        uri,
        expiresAtMs: nowMs + grantSec * 1000,
        callId,
        cseq,
        createdAtMs: index >= 0 ? this.entries[index].createdAtMs : nowMs,
      };
      if (index >= 0) this.entries[index] = entry;
      else this.entries.push(entry);
    }
    // §10.3 step 8: the 2xx lists every current binding with its remaining expiry.
    return {
      status: 200,
      contacts: this.entries.map((entry) => `<${entry.uriText}>;expires=${Math.ceil((entry.expiresAtMs - nowMs) / 1000)}`),
    };
  }

  private purge(nowMs: number): void {
    for (let index = this.entries.length - 1; index >= 0; index -= 1) {
      if (this.entries[index].expiresAtMs <= nowMs) this.entries.splice(index, 1);
    }
  }
}

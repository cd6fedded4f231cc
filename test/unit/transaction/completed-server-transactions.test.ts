import { CompletedServerTransaction } from '../../../sip-gateway/src/transaction/completed-server-transactions';

describe('Class: CompletedServerTransaction', () => {
  describe('Property: bytes', () => {
    it('GEN-6 §17.2.2: gives the encoded response on every read, from its memory, holding no view object between reads', () => {
      // Prepare
      const pool = new Uint8Array(64);
      const encoded = pool.subarray(8, 8 + 14);
      encoded.set(new TextEncoder().encode('SIP/2.0 200 OK'));

      // Act
      const entry = new CompletedServerTransaction(7, 'key', encoded, 'flow');
      const first = entry.bytes;
      const second = entry.bytes;

      // Assess
      expect(new TextDecoder().decode(first)).toBe('SIP/2.0 200 OK');
      for (const view of [first, second]) expect([view.buffer, view.byteOffset, view.byteLength]).toEqual([pool.buffer, 8, 14]);
      expect(Object.values(entry).some((value) => ArrayBuffer.isView(value))).toBe(false);
      expect(entry.target).toBe('flow');
    });
  });

  describe('Property: state', () => {
    it('§17.2.2: is Completed until it ends, then Terminated', () => {
      // Prepare
      const entry = new CompletedServerTransaction(1, 'key', new Uint8Array(1), 'flow');
      const before = entry.state;

      // Act
      entry.ended = true;

      // Assess
      expect([before, entry.state]).toEqual(['Completed', 'Terminated']);
    });
  });
});

import { contactExpiresSec, contactInstance, contactQ, contactRegId, parseContacts } from '../../../sip-gateway/src/sip/contact';
import { SipParseError } from '../../../sip-gateway/src/sip/errors';

describe('Module: contact', () => {
  describe('Function: parseContacts', () => {
    it('parses several contacts across several fields', () => {
      // Act
      const list = parseContacts(['<sip:a@10.0.0.1>;expires=60;q=0.7, "B" <sip:b@10.0.0.2>', 'sip:c@10.0.0.3;expires=0']);
      // Assess
      expect(list.star).toBe(false);
      if (list.star) return;
      expect(list.contacts.map((c) => c.uri.user)).toEqual(['a', 'b', 'c']);
      expect(list.contacts.map(contactExpiresSec)).toEqual([60, undefined, 0]);
      expect(contactQ(list.contacts[0])).toBe(0.7);
    });

    it('REG-8: accepts a lone star', () => {
      // Act
      const list = parseContacts([' * ']);
      // Assess
      expect(list).toEqual({ star: true });
    });

    it('REG-8: rejects a star with other contacts', () => {
      // Act
      const act = (): unknown => parseContacts(['*', '<sip:a@b>']);
      // Assess
      expect(act).toThrow('* used in contact and more than 1 contact');
    });

    it('rejects a malformed contact with SipParseError', () => {
      // Act
      const act = (): unknown => parseContacts(['<sip:a@b>, <sip:broken']);
      // Assess
      expect(act).toThrow(SipParseError);
    });
  });

  describe('Function: contactQ', () => {
    it.each([['0', 0], ['1', 1], ['0.001', 0.001], ['1.000', 1], ['0.', 0]])('accepts q=%s', (q, expected) => {
      // Prepare
      const list = parseContacts([`<sip:a@b>;q=${q}`]);
      // Act / Assess
      expect(!list.star && contactQ(list.contacts[0])).toBe(expected);
    });

    it.each(['1.5', '2', '0.1234', '-0.5', 'x'])('REG-1: rejects q=%s', (q) => {
      // Prepare
      const list = parseContacts([`<sip:a@b>;q=${q}`]);
      // Act
      const act = (): unknown => !list.star && contactQ(list.contacts[0]);
      // Assess
      expect(act).toThrow('Invalid q param in contact');
    });
  });

  describe('Functions: contactExpiresSec, contactInstance, contactRegId', () => {
    it('read RFC 5626 parameters and ignore a non-integer expires', () => {
      // Prepare
      const list = parseContacts(['<sip:a@b;ob>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";reg-id=1;expires=soon']);
      // Act
      const contact = !list.star ? list.contacts[0] : undefined;
      // Assess
      expect(contactInstance(contact!)).toBe('<urn:uuid:00000000-0000-1000-8000-000A95A0E128>');
      expect(contactRegId(contact!)).toBe(1);
      expect(contactExpiresSec(contact!)).toBeUndefined();
    });
  });
});

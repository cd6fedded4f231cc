import { CommonWords } from '../../../sip-gateway/src/sip/common-words';

describe('Class: CommonWords', () => {
  const words = new CommonWords(['tag', 'branch', 'lr']);

  it('gives the shared spelling of a listed word written at the range, in the same case only', () => {
    // Prepare
    const text = 'x;branch=1;Tag=2;tag=3';

    // Act / Assess
    expect(words.at(text, 2, 8)).toBe('branch');
    expect(words.at(text, 11, 14)).toBeUndefined();
    expect(words.at(text, 17, 20)).toBe('tag');
  });

  it('gives nothing for an unlisted word, one of an unlisted length, or a listed word cut short', () => {
    // Act / Assess
    expect(words.at('ttl', 0, 3)).toBeUndefined();
    expect(words.at('received', 0, 8)).toBeUndefined();
    expect(words.at('branch', 0, 5)).toBeUndefined();
  });
});

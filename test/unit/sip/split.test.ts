import { splitHeaderValues } from '../../../sip-gateway/src/sip/split';

describe('Function: splitHeaderValues', () => {
  it.each([
    ['a, b ,c', ['a', 'b', 'c']],
    ['"Doe, John" <sip:j@x>, <sip:k@y;p=1,2>', ['"Doe, John" <sip:j@x>', '<sip:k@y;p=1,2>']],
    ['"a\\", b" <sip:x@y>, c', ['"a\\", b" <sip:x@y>', 'c']],
    ['  single  ', ['single']],
    [' , a,, ', ['a']],
    ['', []],
  ])('splits %j', (value, expected) => {
    // Act
    const parts = splitHeaderValues(value);
    // Assess
    expect(parts).toEqual(expected);
  });
});

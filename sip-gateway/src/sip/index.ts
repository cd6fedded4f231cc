/**
 * Public API of the pure SIP codec: parsing, serialization and typed header access (RFC 3261).
 */
export * from './errors';
export * from './limits';
export * from './uri';
export * from './header-params';
export * from './name-addr';
export * from './split';
export * from './via';
export * from './contact';
export * from './header-names';
export * from './message';
export * from './stream-framer';

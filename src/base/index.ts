// Layer `base`: assertions, byte helpers, bigint codecs, CRC-32C, typed errors with etcd's exact
// messages, and the interfaces of the outside world (Clock, Logger). It imports nothing, so every
// other layer may use it.
export * from './assert.js';
export * from './bytes.js';
export * from './errors.js';
export * from './log.js';

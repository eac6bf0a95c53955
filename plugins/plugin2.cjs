// A plugin that fails on every call, as the origin's plugin2 did with a badmatch.
'use strict';

exports.plugin_demo_point1_Plugin = function (args) {
  const [expected] = [1];
  const actual = args.order + 122;
  if (expected !== actual) {
    throw Object.assign(new Error(`badmatch: expected ${expected}, got ${actual}`), { code: 'EBADMATCH' });
  }
  return actual;
};

// A plugin the demo drops into its watched plugin folder while it runs: it is live as soon as it lands.
'use strict';

exports.plugin_demo_point1_Plugin = function (args) {
  return { from: 'late', seen: args.order, note: 'dropped in while the host ran' };
};

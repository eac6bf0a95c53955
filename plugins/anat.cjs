// A plugin module from elsewhere: it plugs into plugin_demo's point1.
'use strict';

exports.plugin_demo_point1_Plugin = function (args) {
  return { from: 'anat', seen: args.order };
};

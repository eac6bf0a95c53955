// A plugin module served by the remote node "billing-eu": its plugins run in the node's process.
export function shop_checkout_Plugin(order) {
  return { vat: Math.round(order.cents * 0.2), by: `billing-eu (pid ${process.pid})` };
}
shop_checkout_Plugin.priority = 10;

export function health() {
  return 'ok';
}

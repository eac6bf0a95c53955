// The sign-in step of the extpoint panel: the address servePanel() gave carries the token after '#'.
// The fragment never reaches the server in a request line; this script sends it once as a header and
// gets an HttpOnly cookie back, then drops the fragment from the address bar and loads the panel.
'use strict';
(async () => {
  const message = document.getElementById('message');
  const match = /(?:^#|&)token=([A-Za-z0-9_-]+)/.exec(location.hash);
  if (match === null) return;
  history.replaceState(null, '', location.pathname);
  const res = await fetch('/session', { method: 'POST', headers: { 'x-extpoint-token': match[1] }, credentials: 'same-origin' });
  if (res.ok) location.reload();
  else if (message !== null) message.textContent = `The token was refused (${res.status}). Ask the host for a fresh panel address.`;
})();

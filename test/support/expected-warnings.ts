// Warnings the tests expect, filtered so that anything else stands out:
// - oidc-provider 9 names Node 22 as its runtime; it works on the Node 20 here (OIDC-PROVIDER.md);
// - back-channel logout to loopback services skips the library's SSRF guard on purpose
//   (provider/configuration.ts outboundFetch), and the library says so.
const EXPECTED = [/oidc-provider WARNING: Unsupported runtime/, /oidc-provider WARNING: failed to setup SSRF protection/];

const warn = console.warn.bind(console);
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && EXPECTED.some((pattern) => pattern.test(args[0] as string))) return;
  warn(...args);
};

/**
 * Type entry of the package (`exports["."].types`). The runtime entry is `node.js` under Node and
 * `browser.js` elsewhere; both export exactly this API.
 */
export * from './node.js';

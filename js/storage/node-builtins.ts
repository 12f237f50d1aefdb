/**
 * The Node built-ins that file and Redis storage need, loaded when first used. The Node entry
 * exports both storages, so importing these modules up front cost every process ≈ 2 ms of its cold
 * start, storage or not (bench/README.md, "Browser cold start and shipped size").
 */
import type * as NodeCrypto from 'node:crypto';
import { createRequire } from 'node:module';
import type * as NodeOs from 'node:os';

type Crypto = typeof NodeCrypto;
type Os = typeof NodeOs;

const load = createRequire(import.meta.url);
let crypto: Crypto | undefined;
let os: Os | undefined;

/** `node:crypto`. */
export const nodeCrypto = (): Crypto => (crypto ??= load('node:crypto') as Crypto);
/** `node:os`. */
export const nodeOs = (): Os => (os ??= load('node:os') as Os);

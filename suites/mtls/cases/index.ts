/** The mTLS suite's cases, in the order they run (an explicit list: nothing registers itself on import). */
import type { ConformanceCase } from '../../../harness/index.ts';
import type { SecurityEnv } from '../../shared/security-env.ts';
import { forgedXfccCase } from './forged-xfcc.ts';
import { migrationCase } from './migration.ts';
import { migrationWireCase } from './migration-on-the-wire.ts';
import { modeMatrixCases } from './mode-matrix.ts';
import { wireCases } from './on-the-wire.ts';
import { pluginCaCase } from './plugin-ca.ts';
import { rawPlaintextCase } from './raw-plaintext.ts';
import { rotationCase } from './rotation.ts';
import { scopeCases } from './scope-precedence.ts';
import { secureNamingCase } from './secure-naming.ts';
import { tlsVersionCase } from './tls-version.ts';

export const mtlsCases: readonly ConformanceCase<SecurityEnv>[] = [...modeMatrixCases, ...wireCases, tlsVersionCase, rawPlaintextCase, forgedXfccCase, ...scopeCases, migrationCase, migrationWireCase, secureNamingCase, rotationCase, pluginCaCase];

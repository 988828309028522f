/** The project's fixtures folder: policies and topologies the suites load. */
import { join } from 'node:path';
import { projectRoot } from '../../harness/project-root.ts';

export const FIXTURES_DIR = join(projectRoot, 'fixtures');

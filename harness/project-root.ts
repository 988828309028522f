/** The meshproof checkout this code runs from (holds docker/, fixtures/, suites/). */
import { fileURLToPath } from 'node:url';

export const projectRoot: string = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');

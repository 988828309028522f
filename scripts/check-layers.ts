/**
 * `npm run check:layers` (part of `npm test`): the imports of harness/ keep to the layering in
 * scripts/layers.ts (DESIGN.md, "Where things live"). Prints each broken rule as file:line and
 * exits 1; prints the count of imports read and exits 0 when none is broken.
 */
import { join } from 'node:path';
import { layeringProblems, readImports } from './layers.ts';

const harness = join(import.meta.dirname, '..', 'harness');
const imports = await readImports(harness);
const problems = layeringProblems(imports);
if (problems.length > 0) {
  for (const p of problems) console.error(p);
  console.error(`layers: ${problems.length} import(s) break the layering of harness/ (scripts/layers.ts, DESIGN.md "Where things live")`);
  process.exit(1);
}
console.log(`layers: ${imports.length} imports between ${new Set(imports.map((i) => i.from)).size} files of harness/ keep to the layering`);

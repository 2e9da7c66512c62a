// Regenerates the state diagrams in README.md from the transition tables (run after `build`).
import { readFileSync, writeFileSync } from 'node:fs';
import { stateDiagram } from '../dist/index.js';

const url = new URL('../README.md', import.meta.url);
let readme = readFileSync(url, 'utf8');
for (const role of ['client', 'server']) {
  const start = `<!-- state-diagram:${role} -->`;
  const end = `<!-- /state-diagram:${role} -->`;
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from === -1 || to === -1) throw new Error(`README.md lacks the ${start} … ${end} markers`);
  readme = `${readme.slice(0, from + start.length)}\n\`\`\`mermaid\n${stateDiagram(role)}\n\`\`\`\n${readme.slice(to)}`;
}
writeFileSync(url, readme);

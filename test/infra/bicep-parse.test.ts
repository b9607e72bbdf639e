// Every .bicep file under infra/ parses with the tree-sitter Bicep grammar without ERROR or MISSING nodes,
// and the parser does report both kinds on broken input (so a clean result means something).
import { describe, expect, test } from '@jest/globals';
import { declarations, loadBicepFiles, parseBicep, syntaxProblems } from './bicep-tree.js';

describe('Bicep syntax (tree-sitter-bicep, offline)', () => {
  test('every .bicep file under infra/ parses with zero ERROR/MISSING nodes', async () => {
    const files = await loadBicepFiles('infra');
    expect(files.map((f) => f.path)).toEqual(
      expect.arrayContaining(['infra/main.bicep', 'infra/modules/function-app.bicep', 'infra/modules/key-vault-access.bicep']),
    );
    for (const file of files) {
      expect({ file: file.path, problems: syntaxProblems(file) }).toEqual({ file: file.path, problems: [] });
      // A file the grammar silently skipped would have no declarations at all.
      const d = declarations(file);
      expect(d.params.size + d.resources.length + d.modules.length).toBeGreaterThan(0);
    }
  });

  test('the parser reports an ERROR node for a broken declaration', async () => {
    const file = await parseBicep("resource kv 'Microsoft.KeyVault/vaults@2023-07-01' = {\n  name: 'x'\n  properties: {\n    enableRbacAuthorization: true true\n  }\n}\n");
    expect(syntaxProblems(file).map((p) => p.kind)).toContain('ERROR');
  });

  test('the parser reports a MISSING node for an unclosed call or string', async () => {
    expect(syntaxProblems(await parseBicep('var x = concat(a, b\n')).map((p) => p.kind)).toContain('MISSING');
    expect(syntaxProblems(await parseBicep("param p string = 'abc\n")).map((p) => p.kind)).toContain('MISSING');
  });

  test('every module path in infra/ points at a .bicep file that exists', async () => {
    const files = await loadBicepFiles('infra');
    const paths = new Set(files.map((f) => f.path));
    const targets = files.flatMap((f) => declarations(f).modules.map((m) => m.target));
    expect(targets.length).toBeGreaterThan(0);
    for (const t of targets) expect(paths).toContain(t);
  });
});

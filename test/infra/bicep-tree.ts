// Parses Bicep offline (tree-sitter-bicep's wasm grammar through web-tree-sitter) and answers questions about the
// tree: syntax errors, declarations, resources by type, property values by path, module calls, app settings.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Parser from 'web-tree-sitter';

export type Node = Parser.SyntaxNode;

export interface BicepFile {
  /** Path relative to the repository root, with forward slashes (or a made-up name for a snippet). */
  readonly path: string;
  readonly source: string;
  readonly root: Node;
}

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const require = createRequire(import.meta.url);
let parser: Promise<Parser> | undefined;

function bicepParser(): Promise<Parser> {
  parser ??= (async () => {
    await Parser.init();
    const language = await Parser.Language.load(require.resolve('tree-sitter-bicep/tree-sitter-bicep.wasm'));
    const p = new Parser();
    p.setLanguage(language);
    return p;
  })();
  return parser;
}

export async function parseBicep(source: string, filePath = 'snippet.bicep'): Promise<BicepFile> {
  const tree = (await bicepParser()).parse(source);
  return { path: filePath, source, root: tree.rootNode };
}

/** Every .bicep file under `dir` (relative to the repository root), parsed. */
export async function loadBicepFiles(dir = 'infra'): Promise<BicepFile[]> {
  const files = (readdirSync(path.join(REPO_ROOT, dir), { recursive: true, encoding: 'utf8' }) as string[])
    .filter((f) => f.endsWith('.bicep'))
    .map((f) => path.posix.join(dir, f.split(path.sep).join('/')))
    .sort();
  return Promise.all(files.map((f) => parseBicep(readFileSync(path.join(REPO_ROOT, f), 'utf8'), f)));
}

// ------------------------------------------------------------------ syntax

export interface SyntaxProblem {
  readonly kind: 'ERROR' | 'MISSING';
  readonly line: number;
  readonly column: number;
  readonly text: string;
}

export function syntaxProblems(file: BicepFile): SyntaxProblem[] {
  const problems: SyntaxProblem[] = [];
  const visit = (n: Node): void => {
    if (n.type === 'ERROR' || n.isMissing) {
      problems.push({
        kind: n.isMissing ? 'MISSING' : 'ERROR',
        line: n.startPosition.row + 1,
        column: n.startPosition.column + 1,
        text: n.isMissing ? n.type : n.text.slice(0, 60),
      });
    }
    for (const c of n.children) visit(c);
  };
  visit(file.root);
  return problems;
}

export function lineOf(n: Node): number {
  return n.startPosition.row + 1;
}

// ------------------------------------------------------------------ declarations

export interface ParamDecl {
  readonly name: string;
  readonly node: Node;
  readonly type: string;
  readonly defaultValue?: Node;
  readonly decorators: readonly Node[];
}

export interface VarDecl {
  readonly name: string;
  readonly node: Node;
  readonly value: Node;
  /** Text of the `//` comment line(s) directly above the declaration, if any. */
  readonly comment?: string;
}

export interface ResourceDecl {
  readonly symbol: string;
  /** Full type without API version, e.g. `Microsoft.Web/sites/config` (nested types are joined to the parent's). */
  readonly type: string;
  readonly apiVersion: string;
  readonly existing: boolean;
  /** Deployed only under an `if`, or once per loop item. */
  readonly conditional: boolean;
  readonly loop: boolean;
  readonly body: Node;
  readonly node: Node;
  readonly parent?: ResourceDecl;
}

export interface ModuleDecl {
  readonly symbol: string;
  /** Path of the called file relative to the repository root (resolved against the caller's folder). */
  readonly target: string;
  readonly conditional: boolean;
  readonly body: Node;
  readonly node: Node;
}

export interface OutputDecl {
  readonly name: string;
  readonly node: Node;
  readonly value: Node;
}

export interface Declarations {
  readonly params: ReadonlyMap<string, ParamDecl>;
  readonly vars: ReadonlyMap<string, VarDecl>;
  readonly resources: readonly ResourceDecl[];
  readonly modules: readonly ModuleDecl[];
  readonly outputs: readonly OutputDecl[];
}

const declarationCache = new WeakMap<BicepFile, Declarations>();

export function declarations(file: BicepFile): Declarations {
  const cached = declarationCache.get(file);
  if (cached) return cached;
  const params = new Map<string, ParamDecl>();
  const vars = new Map<string, VarDecl>();
  const resources: ResourceDecl[] = [];
  const modules: ModuleDecl[] = [];
  const outputs: OutputDecl[] = [];
  const top = file.root.namedChildren;
  let decorators: Node[] = [];
  top.forEach((n, i) => {
    if (n.type === 'decorators') {
      decorators = n.namedChildren.filter((d) => d.type === 'decorator');
      return;
    }
    const named = n.namedChildren;
    if (n.type === 'parameter_declaration') {
      const typeNode = named.find((c) => c.type === 'type');
      const rest = named.filter((c) => c !== named[0] && c !== typeNode);
      params.set(named[0]!.text, {
        name: named[0]!.text,
        node: n,
        type: typeNode?.text ?? '',
        ...(rest[0] && { defaultValue: rest[0] }),
        decorators,
      });
    } else if (n.type === 'variable_declaration') {
      const comment = leadingComment(top, i);
      vars.set(named[0]!.text, { name: named[0]!.text, node: n, value: named[named.length - 1]!, ...(comment && { comment }) });
    } else if (n.type === 'resource_declaration') {
      collectResources(n, undefined, resources);
    } else if (n.type === 'module_declaration') {
      const { body, conditional } = declarationBody(n);
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file.path), stringLiteral(named[1]!) ?? ''));
      modules.push({ symbol: named[0]!.text, target, conditional, body, node: n });
    } else if (n.type === 'output_declaration') {
      outputs.push({ name: named[0]!.text, node: n, value: named[named.length - 1]! });
    }
    if (n.type !== 'comment' && n.type !== 'diagnostic_comment') decorators = [];
  });
  const result = { params, vars, resources, modules, outputs };
  declarationCache.set(file, result);
  return result;
}

function leadingComment(siblings: readonly Node[], index: number): string | undefined {
  const lines: string[] = [];
  let row = siblings[index]!.startPosition.row;
  for (let j = index - 1; j >= 0; j--) {
    const s = siblings[j]!;
    if (s.type !== 'comment' || s.endPosition.row !== row - 1) break;
    lines.unshift(s.text.replace(/^\/\/\s?|^\/\*|\*\/$/g, '').trim());
    row = s.startPosition.row;
  }
  return lines.length > 0 ? lines.join(' ') : undefined;
}

/** The object body of a resource/module declaration, looking through `if (...)` and `[for ...: ...]`. */
function declarationBody(n: Node): { body: Node; conditional: boolean; loop: boolean } {
  let node = n.namedChildren[n.namedChildren.length - 1]!;
  let conditional = false;
  let loop = false;
  if (node.type === 'for_statement') {
    loop = true;
    conditional = true;
    node = node.childForFieldName('body') ?? node;
  }
  if (node.type === 'if_statement') {
    conditional = true;
    node = node.namedChildren.find((c) => c.type === 'object') ?? node;
  }
  return { body: node, conditional, loop };
}

function collectResources(n: Node, parent: ResourceDecl | undefined, out: ResourceDecl[]): void {
  const named = n.namedChildren;
  const [typeName, version = parent?.apiVersion ?? ''] = (stringLiteral(named[1]!) ?? '').split('@');
  const type = parent && !typeName!.includes('/') ? `${parent.type}/${typeName}` : typeName!;
  const existing = n.children.some((c) => !c.isNamed && c.type === 'existing');
  const { body, conditional, loop } = declarationBody(n);
  const decl: ResourceDecl = {
    symbol: named[0]!.text,
    type,
    apiVersion: version,
    existing,
    conditional: conditional || (parent?.conditional ?? false),
    loop,
    body,
    node: n,
    ...(parent && { parent }),
  };
  out.push(decl);
  for (const prop of body.namedChildren) {
    const nested = prop.type === 'object_property' ? prop.namedChildren.find((c) => c.type === 'resource_declaration') : undefined;
    if (nested) collectResources(nested, decl, out);
  }
}

/** Resources of a type (case-insensitive, API version ignored); declared with `existing` only when asked. */
export function resourcesOfType(file: BicepFile, type: string, opts: { existing?: boolean } = {}): ResourceDecl[] {
  return declarations(file).resources.filter(
    (r) => r.type.toLowerCase() === type.toLowerCase() && (opts.existing === undefined || r.existing === opts.existing),
  );
}

export function resourceBySymbol(file: BicepFile, symbol: string): ResourceDecl | undefined {
  return declarations(file).resources.find((r) => r.symbol === symbol);
}

// ------------------------------------------------------------------ objects and values

export interface Entry {
  readonly key: string;
  readonly keyNode: Node;
  readonly value: Node;
}

/** The key/value properties of an object node (nested resource declarations are not properties). */
export function objectEntries(obj: Node | undefined): Entry[] {
  if (!obj || obj.type !== 'object') return [];
  const entries: Entry[] = [];
  for (const prop of obj.namedChildren) {
    if (prop.type !== 'object_property') continue;
    const parts = prop.namedChildren.filter((c) => c.type !== 'comment');
    if (parts.length < 2 || parts.some((c) => c.type === 'resource_declaration')) continue;
    const keyNode = parts[0]!;
    const key = keyNode.type === 'string' ? (stringLiteral(keyNode) ?? keyNode.text) : keyNode.text;
    entries.push({ key, keyNode, value: parts[parts.length - 1]! });
  }
  return entries;
}

/** The value at a dotted path inside an object node, e.g. `properties.siteConfig.minTlsVersion` (keys case-insensitive, as ARM's are). */
export function property(obj: Node | undefined, dottedPath: string): Node | undefined {
  let node = obj;
  for (const key of dottedPath.split('.')) {
    node = objectEntries(node).find((e) => e.key.toLowerCase() === key.toLowerCase())?.value;
    if (!node) return undefined;
  }
  return node;
}

const ESCAPES: Record<string, string> = { "\\'": "'", '\\\\': '\\', '\\n': '\n', '\\r': '\r', '\\t': '\t', '\\$': '$' };

/** The text of a string node without interpolation, unescaped; undefined for anything else. */
export function stringLiteral(n: Node | undefined): string | undefined {
  if (!n || n.type !== 'string') return undefined;
  if (n.namedChildren.some((c) => c.type === 'interpolation')) return undefined;
  if (n.text.startsWith("'''")) return n.text.slice(3, -3);
  // From the source between the quotes (the grammar makes no node for some text, e.g. a lone space), unescaped.
  let out = '';
  let pos = n.startIndex + 1;
  for (const c of n.namedChildren.filter((x) => x.type === 'escape_sequence')) {
    out += n.text.slice(pos - n.startIndex, c.startIndex - n.startIndex) + (ESCAPES[c.text] ?? c.text);
    pos = c.endIndex;
  }
  return out + n.text.slice(pos - n.startIndex, -1);
}

export type Literal = string | number | boolean | null;

/** A literal value: string without interpolation, number, boolean or null. */
export function literal(n: Node | undefined): Literal | undefined {
  if (!n) return undefined;
  switch (n.type) {
    case 'string':
      return stringLiteral(n);
    case 'number':
      return Number(n.text);
    case 'boolean':
      return n.text === 'true';
    case 'null':
      return null;
    default:
      return undefined;
  }
}

/** A literal, looking through variables of the same file (not parameters: a parameter can be overridden). */
export function resolvedLiteral(file: BicepFile, n: Node | undefined, depth = 0): Literal | undefined {
  if (!n || depth > 10) return undefined;
  if (n.type === 'parenthesized_expression') return resolvedLiteral(file, n.namedChildren[0], depth + 1);
  if (n.type === 'identifier') {
    const v = declarations(file).vars.get(n.text);
    return v ? resolvedLiteral(file, v.value, depth + 1) : undefined;
  }
  return literal(n);
}

export function callName(n: Node): string | undefined {
  if (n.type !== 'call_expression') return undefined;
  const fn = n.childForFieldName('function');
  if (!fn) return undefined;
  return fn.type === 'member_expression' ? fn.childForFieldName('property')?.text : fn.text;
}

export function callArguments(n: Node): Node[] {
  return n.childForFieldName('arguments')?.namedChildren.filter((c) => c.type !== 'comment') ?? [];
}

/** The node and all its descendants, depth first. */
export function* walk(n: Node): Generator<Node> {
  yield n;
  for (const c of n.namedChildren) yield* walk(c);
}

/** The text of a decorator's function, e.g. `description` for `@description('...')` or `@sys.description(...)`. */
export function decoratorName(d: Node): string | undefined {
  const call = d.namedChildren.find((c) => c.type === 'call_expression');
  return call ? callName(call) : undefined;
}

export function decorator(decorators: readonly Node[], name: string): Node | undefined {
  return decorators.find((d) => decoratorName(d) === name);
}

// ------------------------------------------------------------------ modules

/** The module declarations (in any of `files`) that deploy `file`. */
export function callersOf(files: readonly BicepFile[], file: BicepFile): { caller: BicepFile; module: ModuleDecl }[] {
  return files.flatMap((caller) =>
    declarations(caller)
      .modules.filter((m) => m.target === file.path)
      .map((module) => ({ caller, module })),
  );
}

// ------------------------------------------------------------------ app settings

export interface AppSettingRef {
  /** The setting name when it is a literal; undefined when it is computed (e.g. from a loop over a parameter). */
  readonly name?: string;
  readonly nameNode?: Node;
  readonly value?: Node;
  /** The file the name/value expressions belong to (app settings may be built in a caller and passed to a module). */
  readonly file: BicepFile;
  /** Written only under some condition (a ternary branch, a loop, a conditional module). */
  readonly conditional: boolean;
}

export interface SiteAppSettings {
  readonly file: BicepFile;
  readonly site: ResourceDecl;
  readonly settings: AppSettingRef[];
  /** Expressions the collector could not follow (then a policy cannot vouch for them). */
  readonly unresolved: { file: BicepFile; node: Node; reason: string }[];
}

/**
 * The app settings of every Function App/web app site in `files`: `properties.siteConfig.appSettings` (array of
 * `{ name, value }`) and `config` resources named `appsettings` (object form). Follows variables, `concat`/`union`,
 * ternaries, loops, and module parameters back into the calling file.
 */
export function collectAppSettings(files: readonly BicepFile[]): SiteAppSettings[] {
  const result: SiteAppSettings[] = [];
  for (const file of files) {
    for (const site of resourcesOfType(file, 'Microsoft.Web/sites', { existing: false })) {
      const entry: SiteAppSettings = { file, site, settings: [], unresolved: [] };
      const list = property(site.body, 'properties.siteConfig.appSettings');
      if (list) followSettings(files, file, list, site.conditional, entry, 0);
      for (const cfg of resourcesOfType(file, 'Microsoft.Web/sites/config')) {
        if (String(resolvedLiteral(file, property(cfg.body, 'name'))).toLowerCase() !== 'appsettings') continue;
        if (cfg.parent && cfg.parent !== site) continue;
        if (!cfg.parent && property(cfg.body, 'parent')?.text !== site.symbol) continue;
        const props = property(cfg.body, 'properties');
        const entries = objectEntries(props);
        if (props && props.type !== 'object') entry.unresolved.push({ file, node: props, reason: 'appsettings properties are not an object literal' });
        for (const e of entries) entry.settings.push({ name: e.key, nameNode: e.keyNode, value: e.value, file, conditional: cfg.conditional });
      }
      result.push(entry);
    }
  }
  return result;
}

function followSettings(files: readonly BicepFile[], file: BicepFile, n: Node, conditional: boolean, out: SiteAppSettings, depth: number): void {
  if (depth > 20) {
    out.unresolved.push({ file, node: n, reason: 'too deep' });
    return;
  }
  const next = (node: Node, cond = conditional, f = file): void => followSettings(files, f, node, cond, out, depth + 1);
  switch (n.type) {
    case 'array':
      n.namedChildren.filter((c) => c.type !== 'comment').forEach((c) => next(c));
      return;
    case 'object': {
      const nameNode = property(n, 'name');
      const name = resolvedLiteral(file, nameNode);
      out.settings.push({
        ...(typeof name === 'string' && { name }),
        ...(nameNode && { nameNode }),
        ...(property(n, 'value') && { value: property(n, 'value')! }),
        file,
        conditional,
      });
      return;
    }
    case 'parenthesized_expression':
      next(n.namedChildren[0]!);
      return;
    case 'ternary_expression':
      next(n.childForFieldName('consequence')!, true);
      next(n.childForFieldName('alternative')!, true);
      return;
    case 'for_statement': {
      const body = n.childForFieldName('body')!;
      next(body.type === 'if_statement' ? body.namedChildren.find((c) => c.type === 'object')! : body, true);
      return;
    }
    case 'call_expression': {
      const fn = callName(n);
      if (fn === 'concat' || fn === 'union' || fn === 'flatten') {
        callArguments(n).forEach((a) => next(a));
        return;
      }
      break;
    }
    case 'identifier': {
      const decls = declarations(file);
      const v = decls.vars.get(n.text);
      if (v) return next(v.value);
      if (decls.params.has(n.text)) {
        const callers = callersOf(files, file);
        for (const { caller, module } of callers) {
          const arg = property(property(module.body, 'params'), n.text);
          if (arg) next(arg, conditional || module.conditional, caller);
          else out.unresolved.push({ file: caller, node: module.node, reason: `module ${module.symbol} does not pass ${n.text}` });
        }
        if (callers.length === 0) out.unresolved.push({ file, node: n, reason: `parameter ${n.text} is not passed by any module call` });
        return;
      }
      break;
    }
  }
  out.unresolved.push({ file, node: n, reason: `cannot follow ${n.type}` });
}

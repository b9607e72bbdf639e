// Checks Bicep resource declarations against Azure's generated type definitions (azure-types/, see its README):
// the type and API version exist, and every property set (object literals, and the values of variables, loop items
// and lambdas the evaluator can compute) is one the type defines and is not read-only.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Opaque, type Scope, type Value, evaluate } from './bicep-eval.js';
import { type BicepFile, type Node, type ResourceDecl, objectEntries, walk } from './bicep-tree.js';

interface TypeNode {
  readonly $type: string;
  readonly name?: string;
  readonly body?: Ref;
  readonly properties?: Record<string, { type: Ref; flags?: number }>;
  readonly additionalProperties?: Ref;
  readonly itemType?: Ref;
  readonly elements?: Ref[] | Record<string, Ref>;
  readonly baseProperties?: Record<string, { type: Ref; flags?: number }>;
}
interface Ref {
  readonly $ref: string;
}
type Doc = TypeNode[];

const DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'azure-types');
const READ_ONLY = 2;
/** Keys of a resource body that are Bicep's, not the resource type's. */
const BICEP_KEYS = new Set(['scope', 'parent', 'dependsOn']);

const types = new Map<string, { doc: Doc; body: TypeNode }>();
for (const f of readdirSync(DIR).filter((x) => x.endsWith('.json'))) {
  const doc = JSON.parse(readFileSync(path.join(DIR, f), 'utf8')) as Doc;
  for (const t of doc) if (t.$type === 'ResourceType' && t.name && t.body) types.set(t.name.toLowerCase(), { doc, body: deref(doc, t.body) });
}

function deref(doc: Doc, ref: Ref): TypeNode {
  return doc[Number(ref.$ref.split('/').pop())]!;
}

/** Names of the resource types available (`Type@version`). */
export function knownTypes(): string[] {
  return [...types.keys()];
}

function propsOf(doc: Doc, t: TypeNode): { props: Record<string, { type: Ref; flags?: number }>; open: boolean } | undefined {
  if (t.$type === 'ObjectType') return { props: t.properties ?? {}, open: t.additionalProperties !== undefined };
  if (t.$type === 'DiscriminatedObjectType') {
    const props = { ...(t.baseProperties ?? {}) };
    for (const e of Object.values(t.elements as Record<string, Ref>)) Object.assign(props, deref(doc, e).properties ?? {});
    return { props, open: false };
  }
  return undefined;
}

function itemOf(doc: Doc, t: TypeNode): TypeNode | undefined {
  return t.$type === 'ArrayType' && t.itemType ? deref(doc, t.itemType) : undefined;
}

export interface TypeCheck {
  readonly problems: string[];
  /** Property paths checked against the type. */
  readonly checked: string[];
}

/** Checks one resource declaration; `scope` evaluates variables (and the loop variable of a looped resource). */
export function checkResource(file: BicepFile, r: ResourceDecl, scope: Scope): TypeCheck {
  const problems: string[] = [];
  const checked: string[] = [];
  const name = `${r.type}@${r.apiVersion}`;
  const entry = types.get(name.toLowerCase());
  if (!entry) return { problems: [`${file.path}: resource type ${name} is not in the type definitions`], checked };
  const { doc, body } = entry;
  const loop = r.loop ? [...walkFor(r.node)] : [];

  const checkValue = (value: Value, t: TypeNode, at: string): void => {
    if (value instanceof Opaque || value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      const item = itemOf(doc, t);
      if (item) value.forEach((v, i) => checkValue(v, item, `${at}[${i}]`));
      return;
    }
    const p = propsOf(doc, t);
    if (!p) return;
    for (const [k, v] of Object.entries(value)) visit(k, p, at, (child) => checkValue(v, child, `${at}.${k}`));
  };

  const visit = (key: string, p: NonNullable<ReturnType<typeof propsOf>>, at: string, then: (t: TypeNode) => void): void => {
    const path = at ? `${at}.${key}` : key;
    const prop = Object.entries(p.props).find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1];
    if (!prop) {
      if (!p.open) problems.push(`${file.path} ${r.symbol}: ${path} is not a property of ${name} (there: ${Object.keys(p.props).sort().join(', ')})`);
      return;
    }
    checked.push(path);
    if ((prop.flags ?? 0) & READ_ONLY) problems.push(`${file.path} ${r.symbol}: ${path} is read-only in ${name}`);
    then(deref(doc, prop.type));
  };

  const checkNode = (n: Node, t: TypeNode, at: string, s: Scope): void => {
    if (n.type === 'object') {
      const p = propsOf(doc, t);
      if (!p) return;
      for (const e of objectEntries(n)) {
        if (!at && BICEP_KEYS.has(e.key)) continue;
        if (e.keyNode.type === 'string' && e.keyNode.text.includes('${')) { checked.push(`${at}.<computed>`); continue; }
        visit(e.key, p, at, (child) => checkNode(e.value, child, at ? `${at}.${e.key}` : e.key, s));
      }
      return;
    }
    if (n.type === 'array') {
      const item = itemOf(doc, t);
      if (item) for (const c of n.namedChildren) checkNode(c, item, `${at}[]`, s);
      return;
    }
    try {
      checkValue(evaluate(n, s), t, at);
    } catch {
      // a value only Azure knows at deploy time (or one the evaluator does not model): nothing more to check here
    }
  };

  if (loop.length > 0) {
    const { iterable, item, body: loopBody } = loop[0]!;
    const items = evaluate(iterable, scope);
    if (!Array.isArray(items)) return { problems: [`${file.path} ${r.symbol}: loop over something that is not a list`], checked };
    for (const it of items) checkNode(loopBody, body, '', scope.with({ [item]: it }));
  } else {
    checkNode(r.body, body, '', scope);
  }
  return { problems, checked };
}

function* walkFor(n: Node): Generator<{ iterable: Node; item: string; body: Node }> {
  for (const c of walk(n)) {
    if (c.type === 'for_statement') {
      const init = c.childForFieldName('initializer');
      const body = c.childForFieldName('body');
      const iterable = c.namedChildren.find((x) => x.type !== 'for_loop_parameters' && x.id !== init?.id && x.id !== body?.id);
      if (init && body && iterable) yield { iterable, item: init.text, body };
      return;
    }
  }
}

// Evaluates the subset of Bicep that builds app settings (literals, interpolation, parameters with sample values or
// defaults, variables, module parameters, ternaries, loops, lambdas, common functions). What only Azure knows at
// deploy time (resource properties, module outputs, uniqueString, ...) becomes an Opaque value.
import {
  type BicepFile,
  type Node,
  callArguments,
  callName,
  callersOf,
  declarations,
  literal,
  objectEntries,
  property,
  resourcesOfType,
  stringLiteral,
} from './bicep-tree.js';

/** A value known only at deploy time; `expr` is the Bicep expression that produces it. */
export class Opaque {
  constructor(readonly expr: string) {}
  toString(): string {
    return `<${this.expr}>`;
  }
}

class Lambda {
  constructor(readonly params: readonly string[], readonly body: Node, readonly scope: Scope) {}
}

export type Value = string | number | boolean | null | Opaque | Lambda | Value[] | { [key: string]: Value };

export class BicepEvalError extends Error {
  constructor(message: string, node?: Node) {
    super(node ? `${message} (line ${node.startPosition.row + 1}: ${node.text.slice(0, 80)})` : message);
    this.name = 'BicepEvalError';
  }
}

type ParamSource = (name: string) => Value | undefined;

/** Evaluation scope of one file: where its parameters come from, its variables (memoised), and loop/lambda locals. */
export class Scope {
  private readonly varCache: Map<string, Value>;
  constructor(
    readonly files: readonly BicepFile[],
    readonly file: BicepFile,
    private readonly params: ParamSource,
    private readonly locals: ReadonlyMap<string, Value> = new Map(),
    varCache?: Map<string, Value>,
  ) {
    this.varCache = varCache ?? new Map();
  }

  with(locals: Record<string, Value>): Scope {
    return new Scope(this.files, this.file, this.params, new Map([...this.locals, ...Object.entries(locals)]), this.varCache);
  }

  /** The same file without loop/lambda locals (variables and parameters are file-level). */
  private root(): Scope {
    return new Scope(this.files, this.file, this.params, new Map(), this.varCache);
  }

  lookup(name: string, at: Node): Value {
    if (this.locals.has(name)) return this.locals.get(name)!;
    const d = declarations(this.file);
    const param = d.params.get(name);
    if (param) {
      const given = this.params(name);
      if (given !== undefined) return given;
      if (param.defaultValue) return evaluate(param.defaultValue, this.root());
      throw new BicepEvalError(`parameter ${name} of ${this.file.path} has no value and no default`, at);
    }
    const v = d.vars.get(name);
    if (v) {
      if (!this.varCache.has(name)) this.varCache.set(name, evaluate(v.value, this.root()));
      return this.varCache.get(name)!;
    }
    if (d.resources.some((r) => r.symbol === name) || d.modules.some((m) => m.symbol === name)) return new Opaque(name);
    throw new BicepEvalError(`unknown identifier ${name} in ${this.file.path}`, at);
  }
}

/** Scope of the entry file: parameters from `samples`, else their defaults. */
export function entryScope(files: readonly BicepFile[], entry: BicepFile, samples: Readonly<Record<string, Value>>): Scope {
  return new Scope(files, entry, (name) => (Object.hasOwn(samples, name) ? samples[name] : undefined));
}

/** Scope of any file reached from the entry through module calls (parameters bound to the caller's arguments). */
export function scopeFor(file: BicepFile, entry: Scope): Scope {
  if (file === entry.file) return entry;
  const callers = callersOf(entry.files, file);
  if (callers.length !== 1) throw new BicepEvalError(`${file.path} is deployed by ${callers.length} module calls; expected exactly one`);
  const { caller, module } = callers[0]!;
  const callerScope = scopeFor(caller, entry);
  const args = property(module.body, 'params');
  return new Scope(entry.files, file, (name) => {
    const arg = property(args, name);
    return arg ? evaluate(arg, callerScope) : undefined;
  });
}

const ESCAPES: Record<string, string> = { "\\'": "'", '\\\\': '\\', '\\n': '\n', '\\r': '\r', '\\t': '\t', '\\$': '$' };

export function evaluate(n: Node, scope: Scope): Value {
  switch (n.type) {
    case 'string':
      return evalString(n, scope);
    case 'number':
    case 'boolean':
    case 'null':
      return literal(n)!;
    case 'array':
      return n.namedChildren.filter((c) => c.type !== 'comment').map((c) => evaluate(c, scope));
    case 'object': {
      const out: Record<string, Value> = {};
      for (const e of objectEntries(n)) {
        const key = e.keyNode.type === 'string' ? evaluate(e.keyNode, scope) : e.key;
        if (typeof key !== 'string') throw new BicepEvalError('object key is not a known string', e.keyNode);
        out[key] = evaluate(e.value, scope);
      }
      return out;
    }
    case 'parenthesized_expression':
      return evaluate(n.namedChildren[0]!, scope);
    case 'identifier':
      return scope.lookup(n.text, n);
    case 'member_expression': {
      lambdaBodyCheck(n);
      const obj = evaluate(n.childForFieldName('object')!, scope);
      const prop = n.childForFieldName('property')!.text;
      const safe = n.children.some((c) => !c.isNamed && c.text === '.?');
      if (obj instanceof Opaque) return new Opaque(`${obj.expr}.${prop}`);
      if (obj === null && safe) return null;
      if (isRecord(obj)) {
        const key = Object.keys(obj).find((k) => k.toLowerCase() === prop.toLowerCase());
        if (key !== undefined) return obj[key]!;
        if (safe) return null;
      }
      throw new BicepEvalError(`property ${prop} does not exist`, n);
    }
    case 'subscript_expression': {
      lambdaBodyCheck(n);
      const obj = evaluate(n.childForFieldName('object')!, scope);
      const index = evaluate(n.childForFieldName('index')!, scope);
      if (obj instanceof Opaque || index instanceof Opaque) return new Opaque(n.text);
      if (Array.isArray(obj) && typeof index === 'number' && index in obj) return obj[index]!;
      if (isRecord(obj) && typeof index === 'string' && index in obj) return obj[index]!;
      throw new BicepEvalError('index out of range', n);
    }
    case 'ternary_expression': {
      const cond = evaluate(n.childForFieldName('condition')!, scope);
      if (typeof cond !== 'boolean') throw new BicepEvalError('condition is not a known boolean', n);
      return evaluate(n.childForFieldName(cond ? 'consequence' : 'alternative')!, scope);
    }
    case 'unary_expression': {
      const op = n.childForFieldName('operator')!.type;
      const arg = evaluate(n.childForFieldName('argument')!, scope);
      if (arg instanceof Opaque) return new Opaque(n.text);
      if (op === '!' && typeof arg === 'boolean') return !arg;
      if (op === '-' && typeof arg === 'number') return -arg;
      throw new BicepEvalError(`cannot apply ${op}`, n);
    }
    case 'binary_expression':
      return evalBinary(n, scope);
    case 'call_expression':
      return evalCall(n, scope);
    case 'for_statement':
      return evalFor(n, scope);
    case 'lambda_expression': {
      const parts = n.namedChildren;
      return new Lambda(parts.slice(0, -1).map((p) => p.text), parts[parts.length - 1]!, scope);
    }
    default:
      throw new BicepEvalError(`cannot evaluate ${n.type}`, n);
  }
}

/** tree-sitter-bicep parses `x => x.y` and `x => f(x)[1]` as `(x => x).y` and `(x => f(x))[1]` (the Bicep compiler
 *  does not): such a body must be parenthesised, `x => (x.y)`, or this evaluator would compute something else. */
function lambdaBodyCheck(n: Node): void {
  if (n.childForFieldName('object')?.type === 'lambda_expression') {
    throw new BicepEvalError('a lambda body that ends in .property or [index] must be in parentheses, e.g. x => (x.name)', n);
  }
}

function isRecord(v: Value): v is Record<string, Value> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Opaque) && !(v instanceof Lambda);
}

function evalString(n: Node, scope: Scope): Value {
  const plain = stringLiteral(n);
  if (plain !== undefined) return plain;
  let opaque = false;
  // The grammar puts text it skips (e.g. a lone space before `${`) into no node or into the interpolation node:
  // take the literal text from the source between the nodes, and before the `${` of an interpolation.
  let pos = n.startIndex + 1;
  const gap = (end: number): string => n.text.slice(pos - n.startIndex, Math.max(pos, end) - n.startIndex);
  const parts = n.namedChildren.map((c) => {
    const before = gap(c.startIndex);
    pos = c.endIndex;
    if (c.type === 'escape_sequence') return before + (ESCAPES[c.text] ?? c.text);
    if (c.type !== 'interpolation') return before + c.text;
    const lead = before + c.text.slice(0, c.text.indexOf('${'));
    const v = evaluate(c.namedChildren[0]!, scope);
    if (v instanceof Opaque) {
      opaque = true;
      return `${lead}\${${v.expr}}`;
    }
    if (typeof v === 'string' || typeof v === 'number') return lead + String(v);
    throw new BicepEvalError(`interpolating a ${v === null ? 'null' : typeof v} value; convert it explicitly`, c);
  });
  const tail = n.text.startsWith("'''") ? '' : gap(n.endIndex - 1);
  if (tail) parts.push(tail);
  return opaque ? new Opaque(`'${parts.join('')}'`) : parts.join('');
}

function evalBinary(n: Node, scope: Scope): Value {
  const op = n.childForFieldName('operator')!.type;
  const left = evaluate(n.childForFieldName('left')!, scope);
  if (op === '&&' && left === false) return false;
  if (op === '||' && left === true) return true;
  if (op === '??' && left !== null) return left;
  const right = evaluate(n.childForFieldName('right')!, scope);
  if (left instanceof Opaque || right instanceof Opaque) return new Opaque(n.text);
  switch (op) {
    case '&&':
    case '||':
      if (typeof left === 'boolean' && typeof right === 'boolean') return right;
      break;
    case '??':
      return right;
    case '==':
      return JSON.stringify(left) === JSON.stringify(right);
    case '!=':
      return JSON.stringify(left) !== JSON.stringify(right);
    case '=~':
    case '!~':
      if (typeof left === 'string' && typeof right === 'string') return (left.toLowerCase() === right.toLowerCase()) === (op === '=~');
      break;
    default:
      if (typeof left === 'number' && typeof right === 'number') {
        const ops: Record<string, (a: number, b: number) => Value> = {
          '<': (a, b) => a < b, '<=': (a, b) => a <= b, '>': (a, b) => a > b, '>=': (a, b) => a >= b,
          '+': (a, b) => a + b, '-': (a, b) => a - b, '*': (a, b) => a * b, '/': (a, b) => Math.trunc(a / b), '%': (a, b) => a % b,
        };
        if (ops[op]) return ops[op](left, right);
      }
  }
  throw new BicepEvalError(`cannot apply ${op} to these values`, n);
}

function evalFor(n: Node, scope: Scope): Value {
  const params = n.namedChildren.find((c) => c.type === 'for_loop_parameters');
  const initializer = n.childForFieldName('initializer');
  const body = n.childForFieldName('body')!;
  const skip = new Set([params?.id, initializer?.id, body.id]);
  const iterable = n.namedChildren.find((c) => !skip.has(c.id))!;
  const items = evaluate(iterable, scope);
  if (items instanceof Opaque) return new Opaque(n.text);
  const list = typeof items === 'number' ? [...Array(items).keys()] : items;
  if (!Array.isArray(list)) throw new BicepEvalError('loop over something that is not an array', iterable);
  const itemName = initializer?.text ?? params?.namedChildren.find((c) => c.type === 'loop_variable')?.text;
  const indexName = params?.namedChildren.find((c) => c.type === 'loop_enumerator')?.text;
  const out: Value[] = [];
  list.forEach((item, i) => {
    const inner = scope.with({ ...(itemName && { [itemName]: item }), ...(indexName && { [indexName]: i }) });
    if (body.type === 'if_statement') {
      const cond = evaluate(body.namedChildren[0]!, inner);
      if (cond === true) out.push(evaluate(body.namedChildren[1]!, inner));
      else if (cond !== false) throw new BicepEvalError('loop filter is not a known boolean', body);
    } else {
      out.push(evaluate(body, inner));
    }
  });
  return out;
}

function apply(fn: Value, args: Value[], at: Node): Value {
  if (!(fn instanceof Lambda)) throw new BicepEvalError('expected a lambda', at);
  return evaluate(fn.body, fn.scope.with(Object.fromEntries(fn.params.map((p, i) => [p, args[i] ?? null]))));
}

function toText(v: Value, at: Node): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') throw new BicepEvalError('string() of a boolean renders as True/False in ARM; use a ternary', at);
  return JSON.stringify(v);
}

const BUILTINS: Record<string, (args: Value[], at: Node) => Value> = {
  concat: (args, at) =>
    args.every(Array.isArray) ? (args as Value[][]).flat() : args.map((a) => toText(a, at)).join(''),
  // ARM's union() keeps one copy of equal items (objects compared by value), within and across the arrays.
  union: (args) =>
    args.every(Array.isArray)
      ? [...new Map((args as Value[][]).flat().map((v) => [JSON.stringify(v), v] as const)).values()]
      : Object.assign({}, ...(args as object[])),
  empty: ([v]) => v === null || v === '' || (Array.isArray(v) && v.length === 0) || (isRecord(v!) && Object.keys(v).length === 0),
  length: ([v]) => (typeof v === 'string' || Array.isArray(v) ? v.length : Object.keys(v as object).length),
  string: ([v], at) => toText(v!, at),
  toLower: ([v]) => String(v).toLowerCase(),
  toUpper: ([v]) => String(v).toUpperCase(),
  trim: ([v]) => String(v).trim(),
  replace: ([s, a, b]) => String(s).split(String(a)).join(String(b)),
  split: ([s, sep]) => String(s).split(String(sep)),
  join: ([arr, sep]) => (arr as Value[]).join(String(sep)),
  contains: ([c, v]) => (typeof c === 'string' ? c.includes(String(v)) : Array.isArray(c) ? c.includes(v!) : Object.hasOwn(c as object, String(v))),
  startsWith: ([s, p]) => String(s).startsWith(String(p)),
  endsWith: ([s, p]) => String(s).endsWith(String(p)),
  first: ([v]) => (Array.isArray(v) ? (v[0] ?? null) : String(v).slice(0, 1)),
  last: ([v]) => (Array.isArray(v) ? (v[v.length - 1] ?? null) : String(v).slice(-1)),
  coalesce: (args) => args.find((a) => a !== null) ?? null,
  items: ([o]) => Object.keys(o as object).sort().map((key) => ({ key, value: (o as Record<string, Value>)[key]! })),
  filter: ([arr, fn], at) => (arr as Value[]).filter((x) => apply(fn!, [x], at) === true),
  map: ([arr, fn], at) => (arr as Value[]).map((x) => apply(fn!, [x], at)),
  // Stops the deployment with the message (used in the branch of a ternary that is taken).
  fail: ([message], at) => {
    throw new BicepEvalError(`fail(): ${String(message)}`, at);
  },
};

function evalCall(n: Node, scope: Scope): Value {
  const name = callName(n) ?? '';
  const fnNode = n.childForFieldName('function')!;
  const builtin = fnNode.type === 'identifier' || fnNode.text.startsWith('sys.') ? BUILTINS[name] : undefined;
  if (!builtin) return new Opaque(n.text); // uniqueString, guid, resourceGroup(), environment(), x.listKeys(), ...
  const args = callArguments(n).map((a) => evaluate(a, scope));
  if (args.some((a) => a instanceof Opaque)) return new Opaque(n.text);
  return builtin(args, n);
}

// ------------------------------------------------------------------ app settings

export interface EvaluatedSetting {
  readonly name: string;
  readonly value: Value;
}

/** The entry file: a `main.bicep` that no module call deploys. */
export function entryFile(files: readonly BicepFile[]): BicepFile {
  const entries = files.filter((f) => f.path.endsWith('main.bicep') && callersOf(files, f).length === 0);
  if (entries.length !== 1) throw new BicepEvalError(`expected one entry main.bicep, found ${entries.length}`);
  return entries[0]!;
}

/**
 * The app settings of the (single) Function App, evaluated from the entry file with `samples` as its parameter
 * values: `properties.siteConfig.appSettings` must come out as a list of `{ name, value }`.
 */
export function evaluateAppSettings(files: readonly BicepFile[], samples: Readonly<Record<string, Value>>): EvaluatedSetting[] {
  const sites = files.flatMap((file) => resourcesOfType(file, 'Microsoft.Web/sites', { existing: false }).map((site) => ({ file, site })));
  if (sites.length !== 1) throw new BicepEvalError(`expected one Microsoft.Web/sites resource, found ${sites.length}`);
  const { file, site } = sites[0]!;
  const list = property(site.body, 'properties.siteConfig.appSettings');
  if (!list) throw new BicepEvalError(`site ${site.symbol} has no properties.siteConfig.appSettings`);
  const value = evaluate(list, scopeFor(file, entryScope(files, entryFile(files), samples)));
  if (!Array.isArray(value)) throw new BicepEvalError('appSettings is not a list', list);
  return value.map((item) => {
    if (!isRecord(item) || typeof item['name'] !== 'string' || !('value' in item)) {
      throw new BicepEvalError(`app setting is not { name: string, value }: ${JSON.stringify(item)}`, list);
    }
    return { name: item['name'], value: item['value']! };
  });
}

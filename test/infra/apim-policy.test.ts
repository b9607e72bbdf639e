// Parses infra/apim/broker-token-policy.xml as XML (strictly: any parser warning fails) and checks its parts: the
// cache lookup, the managed-identity call to the broker, the failure answer, the cache store until shortly before
// expiry, the Authorization header to Altinn, and the named values. Each check is shown failing on a one-change copy.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { DOMParser, onWarningStopParsing, type Element } from '@xmldom/xmldom';

const POLICY_PATH = 'infra/apim/broker-token-policy.xml';
const policy = readFileSync(POLICY_PATH, 'utf8');

function parse(xml: string) {
  return new DOMParser({ onError: onWarningStopParsing }).parseFromString(xml, 'text/xml');
}

const children = (e: Element): Element[] => Array.from(e.childNodes).filter((n): n is Element => n.nodeType === 1);
const all = (e: Element, tag: string): Element[] => Array.from(e.getElementsByTagName(tag));
const one = (e: Element, tag: string, problems: string[]): Element | undefined => {
  const found = all(e, tag);
  if (found.length !== 1) problems.push(`expected one <${tag}> in <${e.tagName}>, found ${found.length}`);
  return found[0];
};
const text = (e: Element | undefined): string => (e?.textContent ?? '').trim();

/** Every problem found in a policy document; [] for a good one. Throws when it is not well-formed XML. */
function checkPolicy(xml: string): string[] {
  const problems: string[] = [];
  const root = parse(xml).documentElement;
  if (!root || root.tagName !== 'policies') return ['the root element must be <policies>'];
  const sections = children(root);
  const names = sections.map((s) => s.tagName);
  if (names.join() !== 'inbound,backend,outbound,on-error') problems.push(`sections must be inbound, backend, outbound, on-error; found ${names.join(', ')}`);
  for (const s of sections) if (children(s)[0]?.tagName !== 'base') problems.push(`<${s.tagName}> must start with <base />`);
  const inbound = sections.find((s) => s.tagName === 'inbound');
  const outbound = sections.find((s) => s.tagName === 'outbound');
  if (!inbound || !outbound) return problems;

  // The cache: one key for lookup, store and remove.
  const lookup = one(inbound, 'cache-lookup-value', problems);
  const store = one(inbound, 'cache-store-value', problems);
  const remove = one(outbound, 'cache-remove-value', problems);
  const key = lookup?.getAttribute('key') ?? '';
  if (!key.includes('{{broker-profile}}')) problems.push('the cache key must include the profile');
  for (const e of [store, remove]) if (e && e.getAttribute('key') !== key) problems.push(`<${e.tagName}> must use the lookup's key "${key}"`);
  const tokenVar = lookup?.getAttribute('variable-name') ?? '';
  const miss = lookup ? children(inbound)[children(inbound).indexOf(lookup) + 1] : undefined;
  const missCondition = miss?.tagName === 'choose' ? children(miss)[0]?.getAttribute('condition') ?? '' : '';
  if (!missCondition.includes(`!context.Variables.ContainsKey("${tokenVar}")`)) problems.push('the broker must be called only on a cache miss (a <choose> right after the lookup)');

  // The broker call: a managed-identity token for the broker's app ID URI, GET {broker-url}/api/token/{profile}.
  const mi = one(inbound, 'authentication-managed-identity', problems);
  if (mi && mi.getAttribute('resource') !== '{{broker-app-id-uri}}') problems.push('the managed identity token must be for {{broker-app-id-uri}}');
  const entraVar = mi?.getAttribute('output-token-variable-name') ?? '';
  const send = one(inbound, 'send-request', problems);
  if (send) {
    if (text(one(send, 'set-url', problems)) !== '{{broker-url}}/api/token/{{broker-profile}}') problems.push('send-request must GET {{broker-url}}/api/token/{{broker-profile}}');
    if (text(one(send, 'set-method', problems)) !== 'GET') problems.push('send-request must use GET');
    const auth = all(send, 'set-header').find((h) => h.getAttribute('name') === 'Authorization');
    if (text(auth) !== `@("Bearer " + (string)context.Variables["${entraVar}"])`) problems.push('send-request must send the managed identity token as Bearer');
    if (!/^\d+$/.test(send.getAttribute('timeout') ?? '')) problems.push('send-request needs a timeout');
  }
  const brokerVar = send?.getAttribute('response-variable-name') ?? '';
  const failure = all(inbound, 'when').find((w) => (w.getAttribute('condition') ?? '').includes(`context.Variables["${brokerVar}"]).StatusCode != 200`));
  const answer = failure && one(failure, 'return-response', problems);
  if (!answer || one(answer, 'set-status', problems)?.getAttribute('code') !== '503') problems.push('a broker answer other than 200 must become a 503 for the caller');
  else if (!all(answer, 'set-header').some((h) => h.getAttribute('name') === 'Retry-After')) problems.push('the 503 must carry Retry-After');

  // Cached until shortly before expiry, then sent to Altinn.
  if (store) {
    if (store.getAttribute('value') !== `@((string)context.Variables["${tokenVar}"])`) problems.push('the cache must store the token variable');
    if (!/\["expires_in"\]\s*-\s*[1-9]\d*\)/.test(store.getAttribute('duration') ?? '')) problems.push('the cache duration must be expires_in minus a margin');
  }
  const outer = children(inbound).filter((e) => e.tagName === 'set-header' && e.getAttribute('name') === 'Authorization');
  if (outer.length !== 1 || outer[0]!.getAttribute('exists-action') !== 'override' || text(outer[0]) !== `@("Bearer " + (string)context.Variables["${tokenVar}"])`) {
    problems.push('the inbound section must override Authorization with "Bearer " + the Altinn token');
  }
  const removeWhen = remove?.parentNode as Element | undefined;
  if (!removeWhen || removeWhen.getAttribute('condition') !== '@(context.Response.StatusCode == 401)') problems.push('a 401 from Altinn must drop the cached token');

  // Every variable read was set before; secrets only as named values.
  const set = new Set<string>();
  for (const e of all(root, '*')) {
    for (const a of ['variable-name', 'output-token-variable-name', 'response-variable-name']) if (e.hasAttribute(a)) set.add(e.getAttribute(a)!);
    if (e.tagName === 'set-variable') set.add(e.getAttribute('name') ?? '');
  }
  for (const m of xml.matchAll(/context\.Variables(?:\[|\.ContainsKey\()(?:"|&quot;)([^"&]+)(?:"|&quot;)/g)) {
    if (!set.has(m[1]!)) problems.push(`variable "${m[1]}" is read but never set`);
  }
  for (const h of all(root, 'set-header')) {
    const v = text(h);
    if (!v.startsWith('@(') && !/^\{\{[\w.-]+\}\}$/.test(v) && h.getAttribute('name') !== 'Content-Type') problems.push(`header ${h.getAttribute('name')} must be an expression or a named value, not a literal`);
  }
  return problems;
}

/** `good` with its one occurrence of `from` replaced by `to`. */
function variant(from: string, to: string): string {
  expect(policy.split(from).length - 1).toBe(1);
  return policy.replace(from, to);
}

describe('infra/apim/broker-token-policy.xml', () => {
  test('is well-formed XML and passes every check', () => {
    expect(() => parse(policy)).not.toThrow();
    expect(checkPolicy(policy)).toEqual([]);
  });

  test('uses exactly the named values its header documents', () => {
    const header = /<!--([\s\S]*?)-->/.exec(policy)![1]!;
    const documented = [...header.matchAll(/^ {4}([a-z][a-z0-9-]+) +\S/gm)].map((m) => m[1]!).sort();
    const used = [...new Set([...policy.replace(/<!--[\s\S]*?-->/g, '').matchAll(/\{\{([^}]+)\}\}/g)].map((m) => m[1]!))].sort();
    expect(used).toEqual(documented);
    expect(used).toEqual(['altinn-api-url', 'apim-identity-client-id', 'broker-app-id-uri', 'broker-profile', 'broker-url']);
  });

  test('a copy that is not well-formed is refused by the parser', () => {
    expect(() => parse(variant('</backend>', '</backnd>'))).toThrow();
    expect(() => parse(variant('Body.As&lt;JObject&gt;()', 'Body.As<JObject>()'))).toThrow();
  });

  test.each([
    ['a different key on the cache store', 'key="broker-altinn-token-{{broker-profile}}" value=', 'key="other" value=', /must use the lookup's key/],
    ['no margin before expiry', '[&quot;expires_in&quot;] - 60)', '[&quot;expires_in&quot;])', /expires_in minus a margin/],
    ['the broker called on another route', '/api/token/{{broker-profile}}</set-url>', '/api/token</set-url>', /must GET/],
    ['the Altinn token sent without "Bearer "', '<value>@("Bearer " + (string)context.Variables["altinnToken"])</value>', '<value>@((string)context.Variables["altinnToken"])</value>', /override Authorization/],
    ['the cache kept after a 401', '<when condition="@(context.Response.StatusCode == 401)">', '<when condition="@(context.Response.StatusCode == 403)">', /401 from Altinn/],
    ['a broker failure passed on as 200', '<set-status code="503"', '<set-status code="200"', /must become a 503/],
    ['a token for another resource', 'resource="{{broker-app-id-uri}}"', 'resource="https://management.azure.com/"', /for \{\{broker-app-id-uri\}\}/],
    ['a variable read that is never set', 'output-token-variable-name="brokerEntraToken"', 'output-token-variable-name="entra"', /"brokerEntraToken" is read but never set/],
    ['a literal credential in a header', '<value>@("Bearer " + (string)context.Variables["brokerEntraToken"])</value>', '<value>Bearer abc123</value>', /Authorization must be an expression or a named value/],
    ['the broker called on every request', '<when condition="@(!context.Variables.ContainsKey(&quot;altinnToken&quot;))">', '<when condition="@(true)">', /cache miss/],
  ] as const)('each check can fail: %s', (_label, from, to, message) => {
    expect(checkPolicy(variant(from, to)).join('\n')).toMatch(message);
  });
});

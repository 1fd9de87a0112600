// Ordered custom rules: the first rule whose predicates all match decides (always / never /
// a consistent rate); no match delegates. A rule's rate uses the same threshold arithmetic as
// the default probability, so chained hops with the same rules agree.
import { ConsistentProbabilitySampler } from './probability.ts';
import { writeOtThreshold } from './threshold.ts';
import type { HeadDecision, HeadStrategy, SamplingRequest } from './types.ts';

export interface RuleMatch {
  /** Upper-case methods; empty = any. */
  methods: string[];
  pathPrefix: string | null;
  pathRegex: RegExp | null;
  /** Lower-case host[:port], compared exactly. */
  authority: string | null;
  /** Lower-case header name → exact value. */
  headers: Array<[string, string]>;
}

export interface Rule {
  name: string;
  match: RuleMatch;
  action: 'always' | 'never' | 'rate';
  rate: number;
}

export function ruleMatches(m: RuleMatch, req: SamplingRequest): boolean {
  if (m.methods.length > 0 && !m.methods.includes(req.method.toUpperCase())) return false;
  if (m.pathPrefix !== null && !req.path.startsWith(m.pathPrefix)) return false;
  if (m.pathRegex !== null && !m.pathRegex.test(req.path)) return false;
  if (m.authority !== null && req.authority.toLowerCase() !== m.authority) return false;
  for (const [name, value] of m.headers) if (req.header(name) !== value) return false;
  return true;
}

export class RuleSampler implements HeadStrategy {
  private readonly rates: Array<ConsistentProbabilitySampler | null>;

  constructor(
    readonly rules: readonly Rule[],
    precision = 4,
  ) {
    this.rates = rules.map((r) => (r.action === 'rate' ? new ConsistentProbabilitySampler(r.rate, precision) : null));
  }

  decide(req: SamplingRequest): HeadDecision | null {
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i]!;
      if (!ruleMatches(rule.match, req)) continue;
      const tracestate = req.parent?.tracestate ?? '';
      if (rule.action === 'rate') {
        const d = this.rates[i]!.decide(req);
        return { ...d, keptBy: d.sampled ? 'rule' : null, droppedBy: d.sampled ? null : 'rule', rule: rule.name };
      }
      const sampled = rule.action === 'always';
      // A non-probabilistic keep has an unknown adjusted count: the spec says erase th.
      return {
        sampled,
        keptBy: sampled ? 'rule' : null,
        droppedBy: sampled ? null : 'rule',
        rule: rule.name,
        tracestate: writeOtThreshold(tracestate, null),
      };
    }
    return null;
  }

  toString(): string {
    return `RuleSampler{${this.rules.map((r) => `${r.name}:${r.action === 'rate' ? r.rate : r.action}`).join(', ')}}`;
  }
}

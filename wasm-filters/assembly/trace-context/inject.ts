// Injection: the headers each outbound format writes for a context (names lower-case).
import { HeaderPairs } from '../abi/headers';
import { formatB3Single } from './b3';
import { percentEncode } from './baggage';
import { Sampled, TraceContext } from './context';
import { Format } from './formats';
import { formatUberTraceId } from './jaeger';
import { formatTraceparent } from './w3c';

export function inject(ctx: TraceContext, formats: i32[]): HeaderPairs {
  return injectInto(new HeaderPairs(), ctx, formats);
}

/** inject() appending to `out` (which the filter reuses across requests: no lists per request). */
export function injectInto(out: HeaderPairs, ctx: TraceContext, formats: i32[]): HeaderPairs {
  for (let i = 0; i < formats.length; i++) {
    switch (formats[i]) {
      case Format.W3c: {
        out.push('traceparent', formatTraceparent(ctx));
        if (ctx.tracestate.length > 0) out.push('tracestate', ctx.tracestate);
        const n = ctx.baggageKeys.length;
        if (n > 0) {
          const members = new Array<string>(n);
          for (let k = 0; k < n; k++) members[k] = ctx.baggageKeys[k] + '=' + percentEncode(ctx.baggageValues[k]);
          out.push('baggage', members.join(','));
        }
        break;
      }
      case Format.B3:
        out.push('b3', formatB3Single(ctx));
        break;
      case Format.B3Multi:
        out.push('x-b3-traceid', ctx.traceId);
        out.push('x-b3-spanid', ctx.spanId);
        if (ctx.debug) out.push('x-b3-flags', '1');
        else if (ctx.sampled != Sampled.Unset) out.push('x-b3-sampled', ctx.sampled == Sampled.Yes ? '1' : '0');
        break;
      case Format.Jaeger:
        out.push('uber-trace-id', formatUberTraceId(ctx));
        for (let k = 0; k < ctx.baggageKeys.length; k++) {
          out.push('uberctx-' + ctx.baggageKeys[k], percentEncode(ctx.baggageValues[k]));
        }
        break;
    }
  }
  return out;
}

// Extraction: try the accepted formats in order; the first valid one wins. Reasons from formats
// tried before it (and its tracestate), then from baggage, are kept in the order found
// (test/vectors/README.md, Changes 3).
import { HeaderPairs } from '../abi/headers';
import { asciiLower, trimOws } from './chars';
import { extractB3Multi, extractB3Single } from './b3';
import { BaggageReader } from './baggage';
import { headerCount, headerJoined } from './carrier';
import { ExtractResult } from './context';
import { Format, FORMAT_NAMES } from './formats';
import { extractJaeger } from './jaeger';
import { extractW3c } from './w3c';

const UBERCTX = 'uberctx-';

function tryFormat(format: i32, headers: HeaderPairs, result: ExtractResult): bool {
  switch (format) {
    case Format.W3c:
      return extractW3c(headerCount(headers, 'traceparent'), headers, result);
    case Format.B3: {
      const v = headerJoined(headers, 'b3');
      return v !== null && extractB3Single(v as string, result);
    }
    case Format.B3Multi:
      return extractB3Multi(
        headerJoined(headers, 'x-b3-traceid'),
        headerJoined(headers, 'x-b3-spanid'),
        headerJoined(headers, 'x-b3-sampled'),
        headerJoined(headers, 'x-b3-flags'),
        result,
      );
    case Format.Jaeger: {
      const v = headerJoined(headers, 'uber-trace-id');
      return v !== null && extractJaeger(v as string, result);
    }
  }
  return false;
}

export function extract(headers: HeaderPairs, formats: i32[]): ExtractResult {
  const result = new ExtractResult();
  for (let i = 0; i < formats.length; i++) {
    if (tryFormat(formats[i], headers, result)) {
      result.valid = true;
      result.format = FORMAT_NAMES[formats[i]];
      break;
    }
  }
  // Baggage is read whatever the formats (its reasons count even without a context), from
  // `baggage` first, then `uberctx-*` in header order.
  // The reader exists only when some baggage does (the context's lists are empty otherwise).
  let baggage: BaggageReader | null = null;
  const joined = headerJoined(headers, 'baggage');
  if (joined !== null) {
    baggage = new BaggageReader(result);
    baggage.readHeader(joined as string);
  }
  for (let i = 0; i < headers.length; i++) {
    if (headers.nameIs(i, UBERCTX, false)) {
      if (baggage === null) baggage = new BaggageReader(result);
      baggage.readUberctx(asciiLower(headers.name(i).substring(UBERCTX.length)), trimOws(headers.value(i)));
    }
  }
  if (baggage !== null) {
    result.context.baggageKeys = baggage.keys;
    result.context.baggageValues = baggage.values;
  }
  return result;
}
